"""Rasa's tracker store and lock store, chosen from the environment.

``endpoints.yml`` names ``actions.stores.tracker.EnvTrackerStore`` and
``actions.stores.lock.EnvLockStore``; what they build depends only on
``DATABASE_URL`` and ``REDIS_URL`` (docs/production.md), so the same files
serve ``make run`` (one server, in memory) and a cluster (PostgreSQL, Redis).
"""
