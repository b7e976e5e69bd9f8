"""Twilio's REST API for messages, as Twilio answers it, on a local port.

The Rasa server calls it for what it sends outside a webhook's answer (an
agent's reply, the hand back); tests read what reached it.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.e2e.servers import TWILIO_ACCOUNT_SID as ACCOUNT_SID
from tests.e2e.servers import TWILIO_AUTH_TOKEN as AUTH_TOKEN


@dataclass
class FakeTwilioApi:
    """``POST /2010-04-01/Accounts/{sid}/Messages.json`` as Twilio answers it, on a local port."""

    base_url: str = ""
    messages: list[dict[str, str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sent_to(self, to: str) -> list[dict[str, str]]:
        with self.lock:
            return [m for m in self.messages if m["To"] == to]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self
        path = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")
        expected_auth = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                match = path.match(urlsplit(self.path).path)
                if match is None:
                    return self._answer(404, {"code": 20404, "message": "Not found", "status": 404})
                if match["sid"] != ACCOUNT_SID or self.headers.get("Authorization") != expected_auth:
                    with fake.lock:
                        fake.refused.append(self.path)
                    return self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                form = {key: values[0] for key, values in parse_qs(body, keep_blank_values=True).items()}
                with fake.lock:
                    fake.messages.append(form)
                    sid = f"SM{len(fake.messages):032x}"
                self._answer(
                    201,
                    {
                        "sid": sid,
                        "account_sid": ACCOUNT_SID,
                        "to": form.get("To"),
                        "from": form.get("From"),
                        "body": form.get("Body"),
                        "status": "queued",
                    },
                )

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:  # keep pytest's output clean
                pass

        return Handler


@contextmanager
def serve_fake_twilio_api() -> Iterator[FakeTwilioApi]:
    fake = FakeTwilioApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), fake.handler())
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="fake-twilio-api", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
