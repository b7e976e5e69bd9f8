"""The Twilio channel behind a real Sanic server, with a fake agent instead of Rasa."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.run import _create_single_channel

from noc.db import twilio_messages as twilio_store
from noc.db.db import get_session_factory
from noc.rasa_plugins.channels.limits import MAX_BOT_MESSAGE_CHARS
from noc.rasa_plugins.channels.twilio import (
    CHANNEL_RESPONSES,
    EMPTY_MESSAGE,
    LOCATION_UNSUPPORTED,
    MEDIA_UNSUPPORTED,
    TwilioInput,
    read_channel_responses,
)
from noc.rasa_plugins.channels.twiml import BODY_LIMIT, twilio_length
from tests.channels.conftest import (
    SMS_FROM,
    WEBHOOK_PATH,
    WHATSAPP_FROM,
    FakeAgent,
    RememberingAgent,
    TwilioClient,
    start_channel,
    stop_channel,
    twilio_settings,
)

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_TEXTS = read_channel_responses(ROOT / "domain.yml")

YES_NO = [{"title": "Sí", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
KINDS = [
    {"title": "Sin servicio", "payload": '/inform{"symptom_kind":"sin_servicio"}'},
    {"title": "Intermitente", "payload": '/inform{"symptom_kind":"intermitente"}'},
    {"title": "Lentitud", "payload": '/inform{"symptom_kind":"lentitud"}'},
]


def menu_bot(message: UserMessage) -> list[dict]:
    """Offers buttons when asked for "menu"/"tipos", otherwise echoes."""
    if message.text == "menu":
        return [{"text": "¿El equipo está encendido?", "buttons": YES_NO}]
    if message.text == "tipos":
        return [{"text": "¿Cómo describiría la falla?", "buttons": KINDS}]
    return [{"text": f"eco: {message.text}"}]


# -- configuration -----------------------------------------------------------


def test_name_gives_the_webhook_path() -> None:
    channel = TwilioInput(twilio_settings())
    assert TwilioInput.name() == "twilio"
    assert channel.url_prefix() == "twilio"


def test_rasa_creates_the_channel_from_credentials_yml() -> None:
    import yaml

    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    key = "noc.rasa_plugins.channels.twilio.TwilioInput"
    assert key in credentials and credentials[key] is None
    # What `rasa run --credentials credentials.yml` does for a custom channel.
    assert isinstance(_create_single_channel(key, credentials[key]), TwilioInput)


def test_channel_texts_come_from_the_domain() -> None:
    assert set(DOMAIN_TEXTS) == set(CHANNEL_RESPONSES)
    assert all(DOMAIN_TEXTS.values())


def test_domain_texts_prefer_the_twilio_variation(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    domain = tmp_path / "domain.yml"
    domain.write_text(
        "responses:\n"
        f"  {MEDIA_UNSUPPORTED}:\n"
        "    - text: Texto condicionado\n"
        "      condition: [{type: slot, name: x, value: true}]\n"
        "    - text: Texto general\n"
        "    - text: Texto de SMS\n"
        "      channel: twilio\n"
        f"  {EMPTY_MESSAGE}:\n"
        "    - text: Mensaje vacío\n"
        "    - text: Otra variante\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING):
        texts = read_channel_responses(domain)
    assert texts == {MEDIA_UNSUPPORTED: "Texto de SMS", EMPTY_MESSAGE: "Mensaje vacío"}
    assert LOCATION_UNSUPPORTED in caplog.text


# -- signature ---------------------------------------------------------------


async def test_signed_request_is_answered_with_twiml(twilio: TwilioClient, agent: FakeAgent) -> None:
    reply = await twilio.say("el enlace está caído")
    assert reply.status == 200
    assert reply.content_type.startswith("text/xml")
    assert reply.messages == ["eco: el enlace está caído"]
    assert agent.texts == ["el enlace está caído"]


async def test_unsigned_request_is_refused(twilio: TwilioClient, agent: FakeAgent) -> None:
    params = twilio.params("hola")
    reply = await twilio.post(params, signature=None)
    assert reply.status == 403
    assert agent.received == []
    assert twilio_store.get_message(get_session_factory(), params["MessageSid"]) is None


@pytest.mark.parametrize("forgery", ["other_token", "tampered_body", "local_url", "garbage"])
async def test_wrong_signature_is_refused(twilio: TwilioClient, agent: FakeAgent, forgery: str) -> None:
    params = twilio.params("hola")
    if forgery == "other_token":
        signature = twilio.sign(params, token="not-the-token")
    elif forgery == "tampered_body":
        signature = twilio.sign(params)
        params["Body"] = "otro texto"
    elif forgery == "local_url":
        # Signed over the address the server listens on, not the public URL.
        signature = twilio.sign(params, url=twilio.base_url + WEBHOOK_PATH)
    else:
        signature = "bm90IGEgc2lnbmF0dXJl"
    reply = await twilio.post(params, signature=signature)
    assert reply.status == 403
    assert agent.received == []


async def test_query_string_is_part_of_the_signed_url(twilio: TwilioClient, agent: FakeAgent) -> None:
    params = twilio.params("con query")
    assert (await twilio.post(params, query="?origen=twilio")).status == 200
    params = twilio.params("sin query")
    unsigned_query = twilio.sign(params)  # signed without the query Twilio called
    assert (await twilio.post(params, signature=unsigned_query, query="?origen=twilio")).status == 403
    assert agent.texts == ["con query"]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"twilio_auth_token": None}, "TWILIO_AUTH_TOKEN"),
        ({"public_base_url": None}, "PUBLIC_BASE_URL"),
    ],
)
async def test_missing_validation_settings_fail_closed(
    database: str, caplog: pytest.LogCaptureFixture, changes: dict, problem: str
) -> None:
    agent = FakeAgent()
    with caplog.at_level(logging.WARNING, logger="noc.rasa_plugins.channels.twilio"):
        server, base_url = await start_channel(TwilioInput(twilio_settings(**changes)), agent)
    try:
        assert problem in caplog.text and "403" in caplog.text
        client = TwilioClient(base_url=base_url, agent=agent)
        assert (await client.say("hola")).status == 403
        assert agent.received == []
    finally:
        await stop_channel(server)


async def test_validation_off_accepts_unsigned_requests_and_warns(
    database: str, caplog: pytest.LogCaptureFixture
) -> None:
    agent = FakeAgent()
    settings = twilio_settings(twilio_validate_signature=False, twilio_auth_token=None, public_base_url=None)
    with caplog.at_level(logging.WARNING, logger="noc.rasa_plugins.channels.twilio"):
        server, base_url = await start_channel(TwilioInput(settings), agent)
    try:
        assert "NOT checked" in caplog.text
        client = TwilioClient(base_url=base_url, agent=agent)
        reply = await client.post(client.params("sin firma"), signature=None)
        assert reply.status == 200 and reply.messages == ["eco: sin firma"]
    finally:
        await stop_channel(server)


# -- senders -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("from_", "channel", "sender_id", "phone"),
    [
        (WHATSAPP_FROM, "whatsapp", "whatsapp:+573001234567", "+573001234567"),
        (SMS_FROM, "sms", "sms:+51987654321", "+51987654321"),
    ],
)
async def test_whatsapp_and_sms_senders(
    twilio: TwilioClient, agent: FakeAgent, from_: str, channel: str, sender_id: str, phone: str
) -> None:
    params = twilio.params("hola", from_=from_)
    assert (await twilio.post(params)).status == 200
    [message] = agent.received
    assert message.sender_id == sender_id
    assert message.input_channel == channel
    assert message.metadata == {"channel_phone": phone, "twilio_channel": channel}
    assert message.message_id == params["MessageSid"]


async def test_request_without_sender_or_sid_is_rejected(twilio: TwilioClient, agent: FakeAgent) -> None:
    params = twilio.params("hola")
    del params["MessageSid"]
    assert (await twilio.post(params)).status == 400
    params = twilio.params("hola", from_="")
    assert (await twilio.post(params)).status == 400
    assert agent.received == []


# -- retries -----------------------------------------------------------------


async def test_replayed_message_sid_is_processed_once(twilio: TwilioClient, agent: FakeAgent) -> None:
    params = twilio.params("el enlace está caído")
    first = await twilio.post(params)
    second = await twilio.post(params)
    assert first.messages == ["eco: el enlace está caído"]
    assert second.status == 200 and second.messages == []
    assert agent.texts == ["el enlace está caído"]
    stored = twilio_store.get_message(get_session_factory(), params["MessageSid"])
    assert stored.status == twilio_store.STATUS_ANSWERED
    assert stored.sender == "whatsapp:+573001234567"
    assert stored.response_twiml == first.text


@pytest.fixture
def remembering() -> RememberingAgent:
    return RememberingAgent()


@pytest.fixture
async def twilio_remembering(database: str, remembering: RememberingAgent) -> AsyncIterator[TwilioClient]:
    """The channel in front of an agent that keeps the conversations and refuses message ids it holds, as Rasa does."""
    server, base_url = await start_channel(TwilioInput(twilio_settings()), remembering)
    try:
        yield TwilioClient(base_url=base_url, agent=remembering)
    finally:
        await stop_channel(server)


def set_status(message_sid: str, status: str) -> None:
    with get_session_factory()() as session, session.begin():
        session.get(twilio_store.TwilioMessage, message_sid).status = status


async def test_simultaneous_deliveries_are_processed_once(
    twilio_remembering: TwilioClient, remembering: RememberingAgent
) -> None:
    remembering.delay = 0.3
    params = twilio_remembering.params("hola")
    replies = await asyncio.gather(*(twilio_remembering.post(params) for _ in range(3)))
    # The first delivery is processed; the second found it still running and took
    # it over: it waited for the conversation, found the message in it and answers
    # what the bot answered; the third is not handed to the bot at all.
    assert sorted(r.messages for r in replies) == [[], ["eco: hola"], ["eco: hola"]]
    assert [m.text for m in remembering.processed] == ["hola"]
    assert [m.message_id for m in remembering.received] == [params["MessageSid"]] * 2


async def test_a_delivery_whose_server_died_before_saving_is_processed_by_the_next_one(
    twilio_remembering: TwilioClient, remembering: RememberingAgent
) -> None:
    # A server claimed the message and died: the row stays "procesando", the conversation knows nothing.
    params = twilio_remembering.params("el enlace está caído")
    twilio_store.claim_message(get_session_factory(), params["MessageSid"], WHATSAPP_FROM)
    resent = await twilio_remembering.post(params)
    assert resent.status == 200 and resent.messages == ["eco: el enlace está caído"]
    assert [m.message_id for m in remembering.processed] == [params["MessageSid"]]
    stored = twilio_store.get_message(get_session_factory(), params["MessageSid"])
    assert stored.status == twilio_store.STATUS_ANSWERED
    # Taken over once: a further copy is a plain duplicate.
    again = await twilio_remembering.post(params)
    assert again.messages == [] and len(remembering.processed) == 1


async def test_a_delivery_whose_server_died_after_saving_gets_the_saved_answer(
    twilio_remembering: TwilioClient, remembering: RememberingAgent
) -> None:
    remembering.script = menu_bot
    params = twilio_remembering.params("menu")
    first = await twilio_remembering.post(params)
    # The server saved the turn and died before it recorded the answer (or answered Twilio).
    set_status(params["MessageSid"], twilio_store.STATUS_PROCESSING)
    resent = await twilio_remembering.post(params)
    assert resent.status == 200 and resent.messages == first.messages
    assert "1. Sí" in resent.messages[0]
    assert [m.text for m in remembering.processed] == ["menu"]
    assert twilio_store.get_menu(get_session_factory(), "whatsapp:+573001234567") == ["/affirm", "/deny"]


@pytest.mark.parametrize("status", [twilio_store.STATUS_ANSWERED, twilio_store.STATUS_FAILED, "retomado"])
async def test_a_delivery_that_was_handled_is_not_taken_over(
    twilio_remembering: TwilioClient, remembering: RememberingAgent, status: str
) -> None:
    params = twilio_remembering.params("hola")
    twilio_store.claim_message(get_session_factory(), params["MessageSid"], WHATSAPP_FROM)
    set_status(params["MessageSid"], status)
    reply = await twilio_remembering.post(params)
    assert reply.status == 200 and reply.messages == []
    assert remembering.received == []


async def test_failed_processing_is_not_repeated(twilio: TwilioClient, agent: FakeAgent) -> None:
    agent.fail = True
    params = twilio.params("hola")
    failed = await twilio.post(params)
    assert failed.status == 200
    assert len(failed.messages) == 1 and "problema técnico" in failed.messages[0]
    agent.fail = False
    retry = await twilio.post(params)
    assert retry.status == 200 and retry.messages == []
    assert len(agent.received) == 1
    stored = twilio_store.get_message(get_session_factory(), params["MessageSid"])
    assert stored.status == twilio_store.STATUS_FAILED


# -- what the bot can't read -------------------------------------------------


@pytest.mark.parametrize(
    ("body", "extra", "response"),
    [
        ("", {}, EMPTY_MESSAGE),
        ("   ", {}, EMPTY_MESSAGE),
        (None, {}, EMPTY_MESSAGE),
        (
            "",
            {"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/m/1", "MediaContentType0": "image/jpeg"},
            MEDIA_UNSUPPORTED,
        ),
        (None, {"NumMedia": "2"}, MEDIA_UNSUPPORTED),
        ("", {"Latitude": "4.6097", "Longitude": "-74.0817"}, LOCATION_UNSUPPORTED),
        ("Sede norte", {"Latitude": "4.6097", "Longitude": "-74.0817", "Address": "Cra 7"}, LOCATION_UNSUPPORTED),
    ],
)
async def test_unreadable_messages_get_the_domain_text(
    twilio: TwilioClient, agent: FakeAgent, body: str | None, extra: dict, response: str
) -> None:
    params = twilio.params(body, **extra)
    reply = await twilio.post(params)
    assert reply.status == 200
    assert reply.messages == [DOMAIN_TEXTS[response]]
    assert agent.received == []
    stored = twilio_store.get_message(get_session_factory(), params["MessageSid"])
    assert stored.status == twilio_store.STATUS_UNSUPPORTED


async def test_photo_with_caption_sends_the_caption(twilio: TwilioClient, agent: FakeAgent) -> None:
    reply = await twilio.say("foto del equipo apagado", NumMedia="1", MediaContentType0="image/jpeg")
    assert reply.messages == ["eco: foto del equipo apagado"]


async def test_missing_domain_text_answers_nothing_rather_than_failing(database: str, tmp_path: Path) -> None:
    (tmp_path / "domain.yml").write_text("responses: {}\n", encoding="utf-8")
    agent = FakeAgent()
    server, base_url = await start_channel(TwilioInput(twilio_settings(), domain_path=tmp_path / "domain.yml"), agent)
    try:
        reply = await TwilioClient(base_url=base_url, agent=agent).say("")
        assert reply.status == 200 and reply.messages == []
    finally:
        await stop_channel(server)


# -- long texts --------------------------------------------------------------


async def test_long_customer_message_reaches_the_bot_whole(twilio: TwilioClient, agent: FakeAgent) -> None:
    agent.script = lambda m: [{"text": "recibido"}]
    # As long as the bot reads (longer ones: tests/security/test_message_length.py).
    body = ("El enlace de la sede norte presenta cortes. " * 120)[:MAX_BOT_MESSAGE_CHARS]
    assert len(body) == MAX_BOT_MESSAGE_CHARS
    reply = await twilio.say(body)
    assert reply.messages == ["recibido"]
    assert agent.texts == [body.strip()]


async def test_long_reply_is_split_into_messages(twilio: TwilioClient, agent: FakeAgent) -> None:
    paragraphs = [f"Párrafo {n}. " + "Detalle del procedimiento de verificación. " * 12 for n in range(8)]
    agent.script = lambda m: [{"text": "\n\n".join(paragraphs)}]
    reply = await twilio.say("instrucciones")
    assert len(reply.messages) > 1
    assert all(twilio_length(m) <= BODY_LIMIT for m in reply.messages)
    joined = "\n\n".join(reply.messages)
    assert joined == "\n\n".join(p.strip() for p in paragraphs)


# -- numbered buttons --------------------------------------------------------


async def test_numbered_answer_sends_the_payload(twilio: TwilioClient, agent: FakeAgent) -> None:
    agent.script = menu_bot
    asked = await twilio.say("menu")
    assert asked.messages == ["¿El equipo está encendido?\n1. Sí\n2. No"]
    assert twilio_store.get_menu(get_session_factory(), "whatsapp:+573001234567") == ["/affirm", "/deny"]

    assert (await twilio.say(" 2. ")).messages == ["eco: /deny"]
    # The menu was used up: the same number is now just text.
    assert (await twilio.say("2")).messages == ["eco: 2"]
    assert agent.texts == ["menu", "/deny", "2"]
    assert twilio_store.get_menu(get_session_factory(), "whatsapp:+573001234567") is None


async def test_numbered_answer_with_an_entity_payload(twilio: TwilioClient, agent: FakeAgent) -> None:
    agent.script = menu_bot
    asked = await twilio.say("tipos")
    assert asked.messages == ["¿Cómo describiría la falla?\n1. Sin servicio\n2. Intermitente\n3. Lentitud"]
    await twilio.say("1")
    assert agent.texts[-1] == '/inform{"symptom_kind":"sin_servicio"}'


async def test_number_out_of_range_is_plain_text_and_keeps_the_menu(twilio: TwilioClient, agent: FakeAgent) -> None:
    # The fake bot echoes "5" without buttons, which replaces (clears) the menu, as Rasa would.
    agent.script = menu_bot
    await twilio.say("menu")
    assert (await twilio.say("5")).messages == ["eco: 5"]
    assert (await twilio.say("1")).messages == ["eco: 1"]


async def test_next_reply_replaces_the_menu(twilio: TwilioClient, agent: FakeAgent) -> None:
    agent.script = menu_bot
    await twilio.say("menu")
    await twilio.say("tipos")  # typed instead of picking a number: the new menu replaces the old
    await twilio.say("3")
    assert agent.texts[-1] == '/inform{"symptom_kind":"lentitud"}'


async def test_menus_are_per_sender(twilio: TwilioClient, agent: FakeAgent) -> None:
    agent.script = menu_bot
    await twilio.say("menu", from_=WHATSAPP_FROM)
    # Same number over SMS is another conversation with no menu.
    assert (await twilio.say("1", from_="+573001234567")).messages == ["eco: 1"]
    assert (await twilio.say("1", from_=WHATSAPP_FROM)).messages == ["eco: /affirm"]


async def test_unreadable_message_keeps_the_menu(twilio: TwilioClient, agent: FakeAgent) -> None:
    agent.script = menu_bot
    await twilio.say("menu")
    await twilio.say("", NumMedia="1")
    assert (await twilio.say("1")).messages == ["eco: /affirm"]


@pytest.mark.parametrize("status", ["sent", "delivered", "failed"])
async def test_status_callbacks_are_ignored(twilio: TwilioClient, agent: FakeAgent, status: str) -> None:
    params = twilio.params(None, from_="+14155550100", MessageStatus=status, SmsStatus=status)
    reply = await twilio.post(params)
    assert reply.status == 200 and reply.messages == []
    assert agent.received == []
    assert twilio_store.get_message(get_session_factory(), params["MessageSid"]) is None


async def test_inbound_status_received_is_a_message(twilio: TwilioClient, agent: FakeAgent) -> None:
    assert (await twilio.say("hola", SmsStatus="received")).messages == ["eco: hola"]
