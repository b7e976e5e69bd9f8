"""What the console's handlers share, stored on the application.

The console keeps its own AppKey rather than the server module's: the server
also runs as ``__main__``, whose AppKeys are other objects than those of an
imported ``noc.web.server``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy.orm import sessionmaker

from noc.settings import Settings
from noc.web.shared import EscalationBookLike

T = TypeVar("T")


@dataclass(frozen=True)
class ConsoleContext:
    settings: Settings
    session_factory: sessionmaker
    escalation_book: EscalationBookLike


CONSOLE_KEY = web.AppKey("console", ConsoleContext)


def console_context(request: web.Request) -> ConsoleContext:
    return request.app[CONSOLE_KEY]


async def in_thread(request: web.Request, func: Callable[..., T], **kwargs: Any) -> T:
    """Run a synchronous store function with the session factory, off the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, partial(func, console_context(request).session_factory, **kwargs))
