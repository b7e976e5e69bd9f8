"""``Authorization: Bearer <token>``: the check every shared-secret route uses.

The agent API and console bridge (``AGENT_API_TOKEN``) and the action server
(``ACTION_SERVER_TOKEN``) compare the header the same way.
"""

from __future__ import annotations

import hmac


def bearer_token(header: str) -> str | None:
    """The credentials of a ``Bearer`` header (scheme in any case), or None."""
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    credentials = credentials.strip()
    return credentials or None


def token_matches(header: str, expected: str) -> bool:
    """Constant-time check of an ``Authorization`` header against the token."""
    provided = bearer_token(header)
    if provided is None or not expected:
        return False
    # Bytes so a non-ASCII header can't raise TypeError in compare_digest;
    # surrogatepass keeps undecodable header bytes distinct from real ones.
    return hmac.compare_digest(provided.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))
