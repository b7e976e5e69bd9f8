"""Notifications to the agents: ``hook`` queues them (action server), ``worker`` sends them (web server)."""
