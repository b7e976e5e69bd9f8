"""Outgoing SMS/WhatsApp messages against a local fake of Twilio's REST API (nothing leaves 127.0.0.1)."""

from __future__ import annotations

import asyncio
import base64
import socket
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from aiohttp import web

from noc.rasa_plugins.channels.twilio import TwilioInput
from noc.rasa_plugins.channels.twilio_outgoing import TwilioSendError, send_text
from noc.rasa_plugins.channels.twiml import split_text, twilio_length
from noc.settings import Settings, load_settings

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "token-de-prueba"
SMS_NUMBER = "+15005550006"
WHATSAPP_NUMBER = "+14155238886"


@dataclass
class FakeTwilio:
    """``POST /2010-04-01/Accounts/{sid}/Messages.json`` as Twilio answers it."""

    base_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    # Bodies containing this word are refused like an unreachable number.
    refuse_word: str = "RECHAZAR"

    async def messages(self, request: web.Request) -> web.Response:
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if request.match_info["sid"] != ACCOUNT_SID or request.headers.get("Authorization") != expected:
            return web.json_response({"code": 20003, "message": "Authenticate", "status": 401}, status=401)
        form = await request.post()
        self.requests.append(dict(form))
        if self.refuse_word in form.get("Body", ""):
            return web.json_response(
                {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}, status=400
            )
        sid = f"SM{len(self.requests):032x}"
        return web.json_response(
            {"sid": sid, "account_sid": ACCOUNT_SID, "to": form["To"], "from": form["From"], "status": "queued"},
            status=201,
        )


async def serve_fake_twilio(aiohttp_server) -> FakeTwilio:
    """A FakeTwilio listening on a free local port (also used by test_agent_bridge)."""
    fake = FakeTwilio()
    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", fake.messages)
    server = await aiohttp_server(app)
    fake.base_url = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
async def twilio(aiohttp_server) -> FakeTwilio:
    return await serve_fake_twilio(aiohttp_server)


def settings_for(fake: FakeTwilio, **changes: Any) -> Settings:
    base = replace(
        load_settings(),
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_sms_number=SMS_NUMBER,
        twilio_whatsapp_number=WHATSAPP_NUMBER,
        twilio_api_base_url=fake.base_url,
    )
    return replace(base, **changes)


async def send(settings: Settings, sender_id: str, text: str) -> list[str]:
    # send_text blocks on HTTP; the fake server runs on this event loop.
    return await asyncio.to_thread(send_text, settings, sender_id=sender_id, text=text)


async def test_sms_goes_from_the_sms_number(twilio: FakeTwilio) -> None:
    sids = await send(settings_for(twilio), "sms:+573001234567", "Hola, soy Laura del NOC. ¿Sigue sin servicio?")

    assert sids == [f"SM{1:032x}"]
    assert [(r["To"], r["From"], r["Body"]) for r in twilio.requests] == [
        ("+573001234567", SMS_NUMBER, "Hola, soy Laura del NOC. ¿Sigue sin servicio?")
    ]


@pytest.mark.parametrize("configured", [WHATSAPP_NUMBER, f"whatsapp:{WHATSAPP_NUMBER}"])
async def test_whatsapp_goes_between_whatsapp_addresses(twilio: FakeTwilio, configured: str) -> None:
    await send(settings_for(twilio, twilio_whatsapp_number=configured), "whatsapp:+51987654321", "Hola")

    assert [(r["To"], r["From"]) for r in twilio.requests] == [
        ("whatsapp:+51987654321", f"whatsapp:{WHATSAPP_NUMBER}")
    ]


async def test_long_text_is_split_like_the_twiml_answers_and_sent_in_order(twilio: FakeTwilio) -> None:
    paragraphs = [f"Paso {n}: " + "revise el equipo y confirme la conexión 📡. " * 20 for n in range(1, 6)]
    text = "\n\n".join(paragraphs)

    sids = await send(settings_for(twilio), "sms:+573001234567", text)

    bodies = [r["Body"] for r in twilio.requests]
    assert len(bodies) > 1 and len(sids) == len(bodies) and len(set(sids)) == len(sids)
    assert bodies == split_text(text)
    assert all(twilio_length(body) <= 1600 for body in bodies)


async def test_twilio_refusal_says_which_part_failed_and_what_went_out(twilio: FakeTwilio) -> None:
    text = "primera parte " * 150 + "\n\nRECHAZAR " + "segunda parte " * 10

    with pytest.raises(TwilioSendError, match=r"parte 2 de 2 .*HTTP 400, código 21610") as raised:
        await send(settings_for(twilio), "sms:+573001234567", text)

    assert raised.value.sent == [f"SM{1:032x}"]
    assert len(twilio.requests) == 2


async def test_wrong_credentials_are_reported(twilio: FakeTwilio) -> None:
    with pytest.raises(TwilioSendError, match="HTTP 401, código 20003"):
        await send(settings_for(twilio, twilio_auth_token="otro"), "sms:+573001234567", "Hola")


@pytest.mark.parametrize(
    ("changes", "sender_id", "text", "message"),
    [
        pytest.param({"twilio_account_sid": None}, "sms:+573001234567", "Hola", "TWILIO_ACCOUNT_SID", id="no sid"),
        pytest.param({"twilio_auth_token": None}, "sms:+573001234567", "Hola", "TWILIO_AUTH_TOKEN", id="no token"),
        pytest.param({"twilio_sms_number": None}, "sms:+573001234567", "Hola", "TWILIO_SMS_NUMBER", id="no sms number"),
        pytest.param(
            {"twilio_whatsapp_number": None}, "whatsapp:+573001234567", "Hola", "TWILIO_WHATSAPP_NUMBER", id="no wa"
        ),
        pytest.param({}, "sms:+573001234567", "  \n ", "vacío", id="empty text"),
        pytest.param({}, "ana-web-123", "Hola", "no es una conversación", id="web sender"),
        pytest.param({}, "telegram:+573001234567", "Hola", "no es una conversación", id="other channel"),
        pytest.param({}, "sms:12345", "Hola", "no es una conversación", id="short code"),
    ],
)
async def test_what_cannot_be_sent_fails_before_calling_twilio(
    twilio: FakeTwilio, changes: dict, sender_id: str, text: str, message: str
) -> None:
    with pytest.raises(TwilioSendError, match=message):
        await send(settings_for(twilio, **changes), sender_id, text)
    assert twilio.requests == []


async def test_unreachable_api_is_reported() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = settings_for(FakeTwilio(base_url=f"http://127.0.0.1:{port}"))

    with pytest.raises(TwilioSendError, match="no se pudo contactar a Twilio"):
        await send(settings, "sms:+573001234567", "Hola")


async def test_the_twilio_channel_pushes_agent_replies_through_the_rest_api(twilio: FakeTwilio) -> None:
    # What the agent bridge does with an SMS/WhatsApp conversation: the input
    # channel's output channel sends through Twilio's REST API.
    output = TwilioInput(settings_for(twilio)).get_output_channel()
    await output.send_text_message("whatsapp:+573001234567", "Soy Ana, del NOC: reviso su enlace.")

    assert [(r["To"], r["Body"]) for r in twilio.requests] == [
        ("whatsapp:+573001234567", "Soy Ana, del NOC: reviso su enlace.")
    ]
