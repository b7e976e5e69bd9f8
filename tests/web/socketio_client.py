"""A python-socketio client that talks to Rasa's socketio channel like the widget does."""

from __future__ import annotations

import asyncio
from typing import Any

import socketio

QUIET_SECONDS = 1.5
ANSWER_TIMEOUT = 60.0


class RasaSocket:
    """One browser tab: session_request, then user_uttered with the session id."""

    def __init__(self, rasa_url: str) -> None:
        self.rasa_url = rasa_url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.session_id: str | None = None
        self._bot: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._confirm: asyncio.Queue[Any] = asyncio.Queue()
        self.sio.on("bot_uttered", self._bot.put)
        self.sio.on("session_confirm", self._confirm.put)

    async def connect(self) -> None:
        # Long-polling: python-engineio 4.15's asyncio websocket needs
        # aiohttp>=3.10 (ClientWSTimeout) and Rasa 3.6 pins aiohttp 3.9. The
        # events are the same on both transports; the browser tests cover the
        # widget's websocket.
        await self.sio.connect(self.rasa_url, socketio_path="/socket.io", transports=["polling"], wait_timeout=10)

    async def request_session(self, session_id: str | None) -> str:
        await self.sio.emit("session_request", {"session_id": session_id})
        confirmed = await asyncio.wait_for(self._confirm.get(), timeout=10)
        assert isinstance(confirmed, str), confirmed
        self.session_id = confirmed
        return confirmed

    async def say(self, message: str) -> list[dict[str, Any]]:
        """Sends a message and collects the answers until quiet for QUIET_SECONDS."""
        assert self.session_id, "request_session first"
        await self.sio.emit("user_uttered", {"message": message, "session_id": self.session_id})
        return await self.collect()

    async def say_with_id(self, message: str, message_id: str) -> tuple[Any, list[dict[str, Any]]]:
        """Sends a message with an id, as the widget does; the server's acknowledgement and the answers."""
        assert self.session_id, "request_session first"
        ack = await self.sio.call(
            "user_uttered",
            {"message": message, "session_id": self.session_id, "message_id": message_id},
            timeout=ANSWER_TIMEOUT,
        )
        return ack, await self.collect()

    async def collect(self) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ANSWER_TIMEOUT
        answers = [await asyncio.wait_for(self._bot.get(), timeout=ANSWER_TIMEOUT)]
        while True:
            wait = min(QUIET_SECONDS, deadline - loop.time())
            if wait <= 0:
                return answers
            try:
                answers.append(await asyncio.wait_for(self._bot.get(), timeout=wait))
            except asyncio.TimeoutError:
                return answers

    async def close(self) -> None:
        # A plain disconnect() waits for the pending long-poll to return (the
        # server's 25 s ping) and sends nothing the server acts on earlier:
        # drop the connection at once, as a closed browser tab does. The
        # server forgets the socket when its pings go unanswered.
        eio = self.sio.eio
        tasks = [t for t in (getattr(eio, "read_loop_task", None), getattr(eio, "write_loop_task", None)) if t]
        http = eio.http
        await eio.disconnect(abort=True)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if http is not None and not http.closed:
            await http.close()


def texts(answers: list[dict[str, Any]]) -> str:
    return "\n".join(a.get("text", "") for a in answers)
