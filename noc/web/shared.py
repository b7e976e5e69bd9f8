"""What the API (``server``), the demo pages (``web_pages``) and the console share.

Kept apart so that none of them imports another for it: the API server
imports the pages and the console to register them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_AUTH_PUBLIC_ATTR = "auth_public"


def public(handler: Handler) -> Handler:
    """Mark a route handler as reachable without the agent token."""
    setattr(handler, _AUTH_PUBLIC_ATTR, True)
    return handler


def marked_public(handler: Any) -> bool:
    return bool(getattr(handler, _AUTH_PUBLIC_ATTR, False))


class EscalationBookLike(Protocol):
    """What the web server reads of the escalation tables (``noc.domain.escalation.EscalationBook``)."""

    def contact(self, region_slug: str | None, level: int = 1) -> Any: ...

    def as_dict(self, *, max_level: int | None = None) -> dict: ...

    def timezone_for(self, country: str | None) -> str: ...
