"""CSRF tokens of the console's forms.

A logged-in agent's forms carry the session's token (stored with the session,
see noc.db.agents). The login form has no session yet: it carries a
fresh random token that must equal the one in a short-lived cookie of its own
(double submit), so another site cannot log a browser into its account.
"""

from __future__ import annotations

import hmac
import secrets

LOGIN_CSRF_COOKIE = "noc_agent_login"


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str, provided: str) -> bool:
    """Constant-time comparison; an empty token never matches."""
    if not expected or not provided:
        return False
    return hmac.compare_digest(expected.encode("utf-8", "surrogatepass"), provided.encode("utf-8", "surrogatepass"))
