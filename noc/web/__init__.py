"""HTTP API for agents (aiohttp): incidents and escalation tables."""
