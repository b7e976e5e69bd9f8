"""Pure helpers of the Twilio channel: sender ids, menu choices, splitting, TwiML."""

from __future__ import annotations

import pytest

from noc.rasa_plugins.channels.twiml import (
    BODY_LIMIT,
    Sender,
    build_twiml,
    empty_twiml,
    numbered_options,
    parse_choice,
    parse_sender,
    render_reply,
    split_text,
    twilio_length,
)
from tests.channels.conftest import messages_of


@pytest.mark.parametrize(
    ("from_", "channel", "number", "sender_id", "e164"),
    [
        ("whatsapp:+573001234567", "whatsapp", "+573001234567", "whatsapp:+573001234567", "+573001234567"),
        ("WhatsApp: +57 300 123 4567", "whatsapp", "+573001234567", "whatsapp:+573001234567", "+573001234567"),
        ("+51987654321", "sms", "+51987654321", "sms:+51987654321", "+51987654321"),
        (" +51987654321 ", "sms", "+51987654321", "sms:+51987654321", "+51987654321"),
        # A short code or an alphanumeric sender is kept, but it is no phone number.
        ("89898", "sms", "89898", "sms:89898", None),
    ],
)
def test_parse_sender(from_: str, channel: str, number: str, sender_id: str, e164: str | None) -> None:
    sender = parse_sender(from_)
    assert sender == Sender(channel=channel, number=number)
    assert sender.sender_id == sender_id
    assert sender.e164 == e164


@pytest.mark.parametrize("from_", ["", "   ", "whatsapp:", "whatsapp:  "])
def test_parse_sender_without_number(from_: str) -> None:
    assert parse_sender(from_) is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("2", 2),
        (" 2 ", 2),
        ("2.", 2),
        ("2 .", 2),
        ("2)", 2),
        ("\n1\n", 1),
        ("10", 10),
        ("0", 0),
        ("2 sedes", None),
        ("dos", None),
        ("2.5", None),
        ("+57 300", None),
        ("123", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_choice(body: str | None, expected: int | None) -> None:
    assert parse_choice(body) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abc", 3),
        ("ñandú", 5),
        ("ok 👍", 5),  # the emoji is two UTF-16 units
    ],
)
def test_twilio_length(text: str, expected: int) -> None:
    assert twilio_length(text) == expected


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Hola.", 1600, ["Hola."]),
        ("  Hola.  ", 1600, ["Hola."]),
        ("", 1600, []),
        # Paragraph first, even when a later line break would also fit.
        ("aaaa\n\nbbbb\ncccc", 12, ["aaaa", "bbbb\ncccc"]),
        ("aaaa\nbbbb\ncccc", 10, ["aaaa\nbbbb", "cccc"]),
        ("Uno dos. Tres cuatro. Cinco", 22, ["Uno dos. Tres cuatro.", "Cinco"]),
        ("¿Sí? Claro que sí", 8, ["¿Sí?", "Claro", "que sí"]),
        ("uno dos tres", 8, ["uno dos", "tres"]),
        ("abcdefghij", 4, ["abcd", "efgh", "ij"]),
        # Never cut an emoji (surrogate pair) in half.
        ("ab👍cd", 3, ["ab", "👍c", "d"]),
    ],
)
def test_split_text(text: str, limit: int, expected: list[str]) -> None:
    assert split_text(text, limit) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Una frase corta. " * 300,
        "línea\n" * 700,
        "x" * 5000,
        ("Párrafo de prueba con tildes y eñes. " * 20 + "\n\n") * 8,
        "👍" * 1700,
    ],
)
def test_split_text_keeps_every_word_under_the_limit(text: str) -> None:
    parts = split_text(text)
    assert len(parts) > 1
    assert all(0 < twilio_length(p) <= BODY_LIMIT for p in parts)
    assert "".join(parts).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")


def test_split_text_rejects_a_non_positive_limit() -> None:
    with pytest.raises(ValueError):
        split_text("hola", 0)


@pytest.mark.parametrize(
    ("buttons", "start", "expected"),
    [
        ([{"title": "Sí", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}], 1, "1. Sí\n2. No"),
        ([{"title": "Lentitud", "payload": '/inform{"symptom_kind":"lentitud"}'}], 3, "3. Lentitud"),
        ([{"payload": "/affirm"}], 1, "1. /affirm"),
    ],
)
def test_numbered_options(buttons: list[dict], start: int, expected: str) -> None:
    assert numbered_options(buttons, start) == expected


@pytest.mark.parametrize(
    ("messages", "bodies", "payloads"),
    [
        ([], [], []),
        ([{"text": "Hola"}, {"text": "¿En qué le ayudo?"}], ["Hola\n\n¿En qué le ayudo?"], []),
        (
            [
                {"text": "Resumen"},
                {
                    "text": "¿Los datos son correctos?",
                    "buttons": [
                        {"title": "Sí, registrar", "payload": "/affirm"},
                        {"title": "No, corregir", "payload": "/deny"},
                    ],
                },
            ],
            ["Resumen\n\n¿Los datos son correctos?\n1. Sí, registrar\n2. No, corregir"],
            ["/affirm", "/deny"],
        ),
        (
            # Two button sets in one turn are numbered on, not both from 1.
            [
                {"text": "A", "buttons": [{"title": "Sí", "payload": "/affirm"}]},
                {"text": "B", "buttons": [{"title": "Lentitud", "payload": '/inform{"symptom_kind":"lentitud"}'}]},
            ],
            ["A\n1. Sí\n\nB\n2. Lentitud"],
            ["/affirm", '/inform{"symptom_kind":"lentitud"}'],
        ),
        ([{"image": "https://example.com/mapa.png"}], ["https://example.com/mapa.png"], []),
        ([{"custom": {"ticket": "INC-2026-000001"}}], [], []),
    ],
)
def test_render_reply(messages: list[dict], bodies: list[str], payloads: list[str]) -> None:
    reply = render_reply(messages)
    assert reply.bodies == bodies
    assert reply.payloads == payloads


def test_render_reply_packs_whole_messages_and_splits_between_them() -> None:
    text = ("Frase de relleno. " * 28).strip()  # 503 characters
    reply = render_reply([{"text": text} for _ in range(6)])
    # Three messages fit in 1,600 characters, four do not: cut between messages.
    assert reply.bodies == ["\n\n".join([text] * 3)] * 2


@pytest.mark.parametrize(
    "bodies",
    [
        [],
        ["Hola"],
        ["a < b & c > d", "Correo: «ana@example.com»"],
        ["1. Sí\n2. No"],
    ],
)
def test_build_twiml_round_trips(bodies: list[str]) -> None:
    twiml = build_twiml(bodies)
    assert twiml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert messages_of(twiml) == bodies


def test_empty_twiml_sends_nothing() -> None:
    assert messages_of(empty_twiml()) == []
