"""Input channels of the Rasa server written for this project.

Nothing is imported here: ``noc.rasa_plugins.channels.twilio`` pulls in Rasa and Sanic,
while ``migrations/env.py`` only needs the table definitions of
``noc.db.twilio_messages``.
"""
