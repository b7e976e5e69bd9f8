"""Shared test set-up: no test reads the developer's .env or database."""

from __future__ import annotations

import os

# Set before any project module reads settings: tests never touch var/noc.db
# or a token in the developer's .env (load_dotenv does not override these).
os.environ.setdefault("AGENT_API_TOKEN", "test-token")
os.environ.setdefault("ACTION_SERVER_TOKEN", "test-action-token")
os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")
# A developer .env with REDIS_URL must not put the tests' counters in a shared Redis.
os.environ.setdefault("REDIS_URL", "")
os.environ.setdefault("DEFAULT_TIMEZONE", "America/Bogota")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
