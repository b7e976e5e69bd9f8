"""What the Rasa server loads: channels, stores, the live log, the NLU component, its processor changes.

Nothing is imported here, and nothing is changed in Rasa at import:
``noc.rasa_server`` installs the processor changes (``remote_actions``,
``message_ids``, ``nlu_queue``) before it starts Rasa.
"""
