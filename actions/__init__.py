"""Custom actions, pure intake logic, the incident store and the web/API server.

rasa_sdk imports every submodule of this package when the action server starts,
so no module here may do work at import time.
"""
