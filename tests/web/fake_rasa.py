"""A stand-in for Rasa's socketio channel, for browser tests of the widget alone.

Speaks the same events as Rasa (session_request -> session_confirm into the
session's room; user_uttered -> bot_uttered to that room, each answer tagged
with the message's id and its place, then the acknowledgement; a message id
seen before gets its saved answers again, as noc/rasa_plugins/channels/webchat.py
does) and serves a page with the widget at ``/``. It can be stopped and
started again on the same port, as a Rasa server restart. The message
``corte`` is answered, then its socket is cut before the acknowledgement, as
when a server dies between the two.
"""

from __future__ import annotations

import asyncio
import html
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import socketio
from aiohttp import web

PAGE = """<!doctype html>
<html lang="es"><head><meta charset="utf-8"><title>Prueba del widget</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>Página de prueba</h1><a href="#">Un enlace</a>
<script src="/widget.js" data-rasa-url="{url}" data-title="Soporte de prueba"></script>
</body></html>
"""
# The bot's answer to "html": markup that must be shown as text, never parsed.
HTML_ANSWER = {
    "text": '<img src=x onerror="window.__nocBotXss=1"><b>negrita</b>\nsegunda línea',
    "quick_replies": [
        {"content_type": "text", "title": '<img src=x onerror="window.__nocQrXss=1">Sí', "payload": "/affirm"},
        {"content_type": "text", "title": "No", "payload": "/deny"},
    ],
}


@dataclass
class FakeRasa:
    port: int
    widget_bundle: Path
    answer_delay: float = 1.0
    events: list[tuple[str, Any]] = field(default_factory=list)
    answered: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._runner: web.AppRunner | None = None
        self._sio: socketio.AsyncServer | None = None

    def _run(self, coro) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    def start(self) -> None:
        self._run(self._start())

    def stop(self) -> None:
        self._run(self._stop())

    def close(self) -> None:
        if self._runner is not None:
            self.stop()
        self._run(self._cancel_tasks())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def received(self, name: str) -> list[Any]:
        return [data for event, data in list(self.events) if event == name]

    async def _start(self) -> None:
        sio = self._sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins=[])
        app = web.Application()
        sio.attach(app, socketio_path="socket.io")

        async def page(request: web.Request) -> web.Response:
            # ?rasa= puts another data-rasa-url on the page.
            url = html.escape(request.query.get("rasa", self.url), quote=True)
            return web.Response(text=PAGE.format(url=url), content_type="text/html")

        async def bundle(_request: web.Request) -> web.FileResponse:
            return web.FileResponse(self.widget_bundle, headers={"Content-Type": "text/javascript"})

        app.router.add_get("/", page)
        app.router.add_get("/widget.js", bundle)

        @sio.on("session_request")
        async def session_request(sid: str, data: Any) -> None:
            self.events.append(("session_request", data))
            await sio.enter_room(sid, data["session_id"])
            await sio.emit("session_confirm", data["session_id"], room=sid)

        @sio.on("user_uttered")
        async def user_uttered(sid: str, data: Any) -> str | None:
            self.events.append(("user_uttered", data))
            room, message_id = data["session_id"], data.get("message_id")
            saved = self.answered.get(message_id)
            if saved is None:
                await asyncio.sleep(self.answer_delay)
                answer = HTML_ANSWER if data["message"] == "html" else {"text": f"Recibido: {data['message']}"}
                saved = self.answered[message_id] = [{**answer, "reply_to": message_id, "index": 0}]
                if data["message"] == "corte":
                    await sio.emit("bot_uttered", saved[0], room=room)
                    await sio.disconnect(sid)
                    return None
            for answer in saved:
                await sio.emit("bot_uttered", answer, room=room)
            return "answered"

        # A short shutdown: open websockets are cut as when a server dies.
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _stop(self) -> None:
        assert self._runner is not None and self._sio is not None
        # Connections first (cut, as by a crash), then the server's timers.
        await self._runner.cleanup()
        await self._sio.shutdown()
        self._runner = self._sio = None

    @staticmethod
    async def _cancel_tasks() -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
