"""What the Rasa server's channels share to apply the limits: client IP, 429 answers."""

from __future__ import annotations

from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from noc.ratelimit.client_ip import client_ip
from noc.ratelimit.window import Decision
from noc.settings import Settings


def request_ip(request: Request, settings: Settings) -> str:
    """The client's IP (rate-limit key) of a Sanic request, proxies considered."""
    return client_ip(request.ip, request.headers.get("X-Forwarded-For"), settings.trusted_proxy_hops)


def retry_after(decision: Decision) -> dict[str, str]:
    return {"Retry-After": str(decision.retry_after)}


def too_many_json(decision: Decision, body: Any) -> HTTPResponse:
    """HTTP 429 with ``Retry-After`` and a JSON body."""
    return response.json(body, status=429, headers=retry_after(decision))
