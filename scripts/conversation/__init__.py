"""Conversation benchmark: simulated customers talking to the real servers (`python -m scripts.conversation`)."""
