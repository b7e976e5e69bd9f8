"""Input channels of the Rasa server written for this project.

Nothing is imported here: ``actions.channels.twilio`` pulls in Rasa and Sanic,
while ``migrations/env.py`` only needs the table definitions of
``actions.channels.twilio_store``.
"""
