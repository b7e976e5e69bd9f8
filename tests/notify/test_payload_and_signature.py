"""Pure parts of the notifications: payload, signature, backoff, e-mail text."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from noc.db.notifications import retry_delay
from noc.notify.payloads import SIGNATURE_HEADER, TIMESTAMP_HEADER, handoff_payload
from noc.notify.worker import email_message, sign, verify, webhook_request
from tests.notify.conftest import SECRET, TRANSCRIPT, notify_settings

BOGOTA = timezone(timedelta(hours=-5))
STAMP = 1_795_000_000


@dataclass
class IncidentRow:
    ticket: str = "INC-2026-000007"
    severity: int | None = 1
    region: str | None = "colombia"
    contact_name: str | None = "Ana Ruiz"
    contact_phone: str | None = "+573001234567"
    contact_email: str | None = "ana.ruiz@bancoandino.com.co"


@dataclass
class HandoffRow:
    id: int = 12
    channel: str = "whatsapp"
    sender_id: str = "whatsapp:+573001234567"
    reason: str = "customer_request"
    created_at: datetime = datetime(2026, 11, 24, 15, 30, tzinfo=BOGOTA)


def payload() -> dict:
    return handoff_payload(incident=IncidentRow(), handoff=HandoffRow(), transcript=TRANSCRIPT)


def test_payload_carries_the_incident_the_contact_and_the_transcript_in_utc() -> None:
    assert payload() == {
        "event": "handoff.created",
        "handoff_id": 12,
        "ticket": "INC-2026-000007",
        "severity": 1,
        "region": "colombia",
        "contact": {"name": "Ana Ruiz", "phone": "+573001234567", "email": "ana.ruiz@bancoandino.com.co"},
        "channel": "whatsapp",
        "sender_id": "whatsapp:+573001234567",
        "reason": "customer_request",
        "created_at": "2026-11-24T20:30:00+00:00",
        "console_path": "/agents/incidents/INC-2026-000007",
        "transcript": [
            {"role": "user", "text": "el enlace de la sede norte está caído", "at": "2026-11-24T20:27:00+00:00"},
            {"role": "bot", "text": "¿Cuál es el nombre de su empresa?", "at": "2026-11-24T20:28:00+00:00"},
            {"role": "user", "text": "quiero hablar con un agente", "at": "2026-11-24T20:29:00+00:00"},
        ],
    }
    json.dumps(payload())  # JSON-ready as it is


def test_signature_round_trip() -> None:
    body, headers = webhook_request(payload(), SECRET, timestamp=STAMP, delivery_id=3)

    assert json.loads(body) == payload()
    assert headers[TIMESTAMP_HEADER] == str(STAMP)
    assert headers[SIGNATURE_HEADER].startswith("sha256=") and len(headers[SIGNATURE_HEADER]) == 7 + 64
    assert headers["X-NOC-Delivery"] == "3"
    assert verify(body, SECRET, signature=headers[SIGNATURE_HEADER], timestamp=headers[TIMESTAMP_HEADER], now=STAMP)


def test_signed_material_is_timestamp_dot_body() -> None:
    # Documented in docs/notifications.md so receivers in any language can check it.
    expected = hmac.new(SECRET.encode(), f"{STAMP}.".encode() + b'{"a":1}', hashlib.sha256).hexdigest()
    assert sign(b'{"a":1}', SECRET, timestamp=STAMP) == f"sha256={expected}"


@pytest.mark.parametrize(
    ("body", "secret", "signature", "timestamp", "now"),
    [
        pytest.param(b'{"ticket":"INC-2026-000008"}', SECRET, None, str(STAMP), STAMP, id="body changed"),
        pytest.param(None, "otro-secreto", None, str(STAMP), STAMP, id="wrong secret"),
        pytest.param(None, SECRET, None, str(STAMP + 1), STAMP, id="timestamp changed"),
        pytest.param(None, SECRET, None, str(STAMP), STAMP + 301, id="too old (replay)"),
        pytest.param(None, SECRET, None, str(STAMP), STAMP - 301, id="from the future"),
        pytest.param(None, SECRET, "sha256=" + "0" * 64, str(STAMP), STAMP, id="forged signature"),
        pytest.param(None, SECRET, "", str(STAMP), STAMP, id="no signature"),
        pytest.param(None, SECRET, None, "", STAMP, id="no timestamp"),
        pytest.param(None, SECRET, None, "ayer", STAMP, id="timestamp not a number"),
        pytest.param(None, SECRET, "sha256=ñ", str(STAMP), STAMP, id="non-ascii signature"),
    ],
)
def test_tampering_is_detected(body, secret, signature, timestamp, now) -> None:
    original, headers = webhook_request(payload(), SECRET, timestamp=STAMP)
    signature = headers[SIGNATURE_HEADER] if signature is None else signature

    assert not verify(original if body is None else body, secret, signature=signature, timestamp=timestamp, now=now)


@pytest.mark.parametrize(
    ("failures", "random_value", "seconds"),
    [
        (1, 0.0, 30),
        (2, 0.0, 60),
        (3, 0.0, 120),
        (7, 0.0, 1920),
        (8, 0.0, 3600),  # 3,840 s capped at one hour
        (500, 0.0, 3600),  # months of failures: still retried hourly
        (1, 1.0, 33),  # jitter adds up to 10 %
        (8, 1.0, 3960),
    ],
)
def test_backoff_doubles_up_to_an_hour_plus_jitter(failures: int, random_value: float, seconds: int) -> None:
    assert retry_delay(failures, rng=lambda: random_value) == timedelta(seconds=seconds)


def test_backoff_needs_a_failure() -> None:
    with pytest.raises(ValueError):
        retry_delay(0)


def test_email_is_spanish_with_the_ticket_the_link_and_the_conversation() -> None:
    settings = notify_settings(smtp_host="127.0.0.1", web_host="noc.example.com", web_port=8080)

    message = email_message(settings, to="servicedesk.co@noc.example.com", handoff=payload())

    assert message["Subject"] == "[NOC] Cliente derivado a un agente: INC-2026-000007 (severidad 1)"
    assert message["To"] == "servicedesk.co@noc.example.com"
    assert message["From"] == "noc-asistente@example.com"
    body = message.get_content()
    assert "http://noc.example.com:8080/agents/incidents/INC-2026-000007" in body
    assert "Motivo: el cliente pidió un agente" in body
    assert "Contacto: Ana Ruiz" in body
    assert "[2026-11-24T20:29:00+00:00] Cliente: quiero hablar con un agente" in body
    assert "Asistente: ¿Cuál es el nombre de su empresa?" in body


def test_email_of_a_partial_intake_says_what_is_missing() -> None:
    partial = handoff_payload(
        incident=IncidentRow(severity=None, region=None, contact_name=None, contact_email=None),
        handoff=HandoffRow(reason="failed_answers"),
        transcript=(),
    )

    message = email_message(notify_settings(smtp_host="x"), to="sd@noc.example.com", handoff=partial)

    assert message["Subject"].endswith("(severidad sin clasificar)")
    body = message.get_content()
    assert "Región: sin dato" in body and "Correo: sin dato" in body
    assert "(sin mensajes)" in body
