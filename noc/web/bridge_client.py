"""Client of the Rasa server's agent bridge (``/webhooks/agent_bridge/...``).

The console reaches the customer only through Rasa: the bridge appends the
agent's message to the conversation (the event broker then logs it with role
``agent``) and delivers it over the customer's channel; ``resume`` gives the
conversation back to the bot. Both authenticate with the agent API token.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp

from noc.settings import Settings

TIMEOUT_SECONDS = 10


class BridgeError(Exception):
    """The bridge could not be reached or refused the request (Spanish message for the agent)."""


@dataclass(frozen=True)
class Delivery:
    # False when the message was stored but the customer's channel did not take
    # it (e.g. the web chat is closed): the agent should know.
    delivered: bool
    channel: str


async def _post(settings: Settings, path: str, payload: dict[str, Any]) -> Any:
    if settings.agent_api_token is None:
        raise BridgeError("falta AGENT_API_TOKEN: no se puede hablar con el servidor Rasa")
    url = f"{settings.rasa_url.rstrip('/')}/webhooks/agent_bridge/{path}"
    headers = {"Authorization": f"Bearer {settings.agent_api_token}"}
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)) as client,
            client.post(url, json=payload, headers=headers) as response,
        ):
            if response.status == 404:
                raise BridgeError("el servidor Rasa respondió 404: conversación no encontrada o puente deshabilitado")
            if not 200 <= response.status < 300:
                raise BridgeError(f"el servidor Rasa respondió {response.status}")
            return await response.json(content_type=None)
    except asyncio.TimeoutError as exc:
        raise BridgeError(f"el servidor Rasa no respondió en {TIMEOUT_SECONDS} s") from exc
    except aiohttp.ClientError as exc:
        raise BridgeError("no se pudo conectar con el servidor Rasa") from exc
    except ValueError as exc:  # a 2xx body that is not JSON
        raise BridgeError("respuesta inválida del servidor Rasa") from exc


async def send_agent_message(settings: Settings, *, sender_id: str, text: str, agent_name: str) -> Delivery:
    """Write ``text`` to the customer of conversation ``sender_id`` as agent ``agent_name``. Raises BridgeError."""
    body = await _post(settings, "message", {"sender_id": sender_id, "text": text, "agent": agent_name})
    if not isinstance(body, dict):
        raise BridgeError("respuesta inválida del servidor Rasa")
    return Delivery(delivered=body.get("delivered") is True, channel=str(body.get("channel") or ""))


async def hand_back(settings: Settings, *, sender_id: str, agent_name: str, close: bool) -> None:
    """Give conversation ``sender_id`` back to the bot (``close`` also resets what it collected). Raises BridgeError."""
    await _post(settings, "resume", {"sender_id": sender_id, "agent": agent_name, "close": close})
