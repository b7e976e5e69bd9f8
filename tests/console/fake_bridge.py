"""A recording stand-in for the Rasa server's agent bridge (``/webhooks/agent_bridge/...``)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class BridgeCall:
    path: str
    body: dict[str, Any]
    authorization: str


@dataclass
class FakeBridge:
    status: int = 200
    delivered: bool = True
    channel: str = "socketio"
    delay: float = 0.0
    # Called with each /message body, as the Rasa side's event broker would log it.
    on_message: Callable[[dict[str, Any]], None] | None = None
    calls: list[BridgeCall] = field(default_factory=list)
    server: Any = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/agent_bridge/message", self._message)
        app.router.add_post("/webhooks/agent_bridge/resume", self._resume)
        return app

    def received(self, path: str) -> list[dict[str, Any]]:
        return [call.body for call in self.calls if call.path == path]

    async def _record(self, request: web.Request, path: str) -> dict[str, Any]:
        body = await request.json()
        self.calls.append(BridgeCall(path, body, request.headers.get("Authorization", "")))
        if self.delay:
            await asyncio.sleep(self.delay)
        return body

    async def _message(self, request: web.Request) -> web.Response:
        body = await self._record(request, "message")
        if self.status != 200:
            return web.json_response({"error": "falla simulada"}, status=self.status)
        if self.on_message is not None:
            self.on_message(body)
        return web.json_response({"delivered": self.delivered, "channel": self.channel})

    async def _resume(self, request: web.Request) -> web.Response:
        await self._record(request, "resume")
        if self.status != 200:
            return web.json_response({"error": "falla simulada"}, status=self.status)
        return web.json_response({"resumed": True})


class ThreadedServer:
    """Serves an aiohttp app on 127.0.0.1:``port`` from a thread (for tests that are not async)."""

    def __init__(self, app: web.Application, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner = web.AppRunner(app)
        self._port = port

    def __enter__(self) -> ThreadedServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _start(self) -> None:
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self._port).start()
