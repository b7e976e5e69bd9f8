"""Pure helpers of the console: labels, times, filters, redirects, CSRF comparison."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from noc.web.console import display
from noc.web.console.csrf import tokens_match
from noc.web.console.filters import ListFilters, parse_handoff_filter, parse_list_filters
from noc.web.console.login import safe_next

CREATED = datetime(2026, 11, 24, 20, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("labels", "value", "shown"),
    [
        (display.STATUS_LABELS, "en_progreso", "En progreso"),
        (display.STATUS_LABELS, "desconocido", "desconocido"),
        (display.HANDOFF_STATUS_LABELS, "pendiente", "Esperando agente"),
        (display.CHANNEL_LABELS, "whatsapp", "WhatsApp"),
        (display.ROLE_LABELS, None, "—"),
        (display.ROLE_LABELS, "", "—"),
    ],
)
def test_label(labels: dict, value: str | None, shown: str) -> None:
    assert display.label(labels, value) == shown


@pytest.mark.parametrize(("value", "shown"), [(True, "Sí"), (False, "No"), (None, "—")])
def test_yes_no(value: bool | None, shown: str) -> None:
    assert display.yes_no(value) == shown


@pytest.mark.parametrize(
    ("severity", "shown"), [(1, "1 (Crítica)"), (4, "4 (Baja)"), (7, "7"), (None, "Sin clasificar")]
)
def test_severity_label(severity: int | None, shown: str) -> None:
    assert display.severity_label(severity, {1: "Crítica", 4: "Baja"}) == shown


@pytest.mark.parametrize(
    ("value", "zone", "shown"),
    [
        ("2026-11-24T20:00:00+00:00", "America/Bogota", "24/11/2026 15:00 (UTC-05:00)"),
        (CREATED, "America/Santiago", "24/11/2026 17:00 (UTC-03:00)"),
        ("2026-11-24T15:00:00-05:00", "UTC", "24/11/2026 20:00 (UTC+00:00)"),
        ("2026-11-24T20:00:00+00:00", "Asia/Kathmandu", "25/11/2026 01:45 (UTC+05:45)"),
        ("2026-11-24T20:00:00+00:00", "No/Existe", "24/11/2026 20:00 (UTC+00:00)"),
        (None, "UTC", "—"),
    ],
)
def test_format_time(value: object, zone: str, shown: str) -> None:
    assert display.format_time(value, zone) == shown


@pytest.mark.parametrize(
    ("actor", "shown"),
    [
        ("agent:ana", "ana"),
        ("api:crm", "API (crm)"),
        ("api:", "API (integración)"),
        ("bot", "Asistente"),
        ("customer:abc", "Cliente"),
        ("otro", "otro"),
    ],
)
def test_actor_label(actor: str, shown: str) -> None:
    assert display.actor_label(actor) == shown


@pytest.mark.parametrize(
    ("action", "detail", "text"),
    [
        ("assigned", {"agent": "ana"}, "Tomó el incidente"),
        ("status_changed", {"from": "abierto", "to": "cerrado"}, "Cambió el estado de «Abierto» a «Cerrado»"),
        (
            "handoff_status",
            {"from": "pendiente", "to": "tomado"},
            "Derivación: «Esperando agente» → «Atendido por un agente»",
        ),
        ("agent_reply", {"delivered": True, "channel": "sms"}, "Respondió al cliente (entregado por SMS)"),
        (
            "agent_reply",
            {"delivered": False, "channel": "web"},
            "Respondió al cliente (guardado, pero el canal no lo entregó)",
        ),
        ("agent_reply", None, "Respondió al cliente"),
        (
            "notification_requeued",
            {"notification_id": 4, "kind": "webhook", "attempts": 10, "error": "HTTP 503: " + "x" * 300},
            "Reintentó la notificación 4 (webhook) tras 10 intentos fallidos; último error: HTTP 503: "
            + "x" * 190
            + "…",
        ),
        (
            "notification_requeued",
            {"notification_id": 5, "kind": "email", "attempts": 1, "error": None},
            "Reintentó la notificación 5 (correo) tras 1 intento fallido; último error: sin detalle",
        ),
        ("otra_cosa", {"x": 1}, "otra_cosa"),
    ],
)
def test_audit_text(action: str, detail: dict | None, text: str) -> None:
    assert display.audit_text(action, detail) == text


def test_chat_message_keeps_the_text_verbatim() -> None:
    message = {"id": 7, "role": "user", "text": "<b>hola</b>", "at": "2026-11-24T20:00:00+00:00", "channel": "web"}

    assert display.chat_message(message, "America/Bogota") == {
        "id": 7,
        "role": "user",
        "role_label": "Cliente",
        "text": "<b>hola</b>",
        "at": "2026-11-24T20:00:00+00:00",
        "at_display": "24/11/2026 15:00 (UTC-05:00)",
    }


@pytest.mark.parametrize(
    ("first_live_at", "show"),
    [
        (None, True),  # no live log: only the stored transcript exists
        (CREATED - timedelta(minutes=10), False),  # the log holds the intake itself
        (CREATED, False),
        (CREATED + timedelta(seconds=1), True),  # the log starts after opening
    ],
)
def test_show_stored_transcript(first_live_at: datetime | None, show: bool) -> None:
    live = [] if first_live_at is None else [{"at": first_live_at.isoformat()}]
    assert display.show_stored_transcript(live, CREATED) is show


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ListFilters()),
        (
            {"status": "derivado", "region": "peru", "severity": "1", "channel": "sms", "q": " banco ", "offset": "50"},
            ListFilters(status="derivado", region="peru", severity=1, channel="sms", q="banco", offset=50),
        ),
        ({"status": "borrado", "region": "marte", "severity": "5", "channel": "fax"}, ListFilters()),
        ({"severity": "0"}, ListFilters()),
        ({"severity": "١"}, ListFilters()),  # a non-ASCII digit
        ({"offset": "-50"}, ListFilters()),
        ({"offset": "99999999"}, ListFilters()),
        ({"q": "   "}, ListFilters()),
        ({"q": "x" * 500}, ListFilters(q="x" * 100)),
    ],
)
def test_parse_list_filters(params: dict, expected: ListFilters) -> None:
    assert parse_list_filters(params, regions=["peru", "colombia"]) == expected


def test_filters_query_string_keeps_what_is_set() -> None:
    filters = ListFilters(status="abierto", q="a&b=c", offset=50)

    assert filters.query_string(offset=100) == "status=abierto&q=a%26b%3Dc&offset=100"
    assert filters.query_string(offset=0) == "status=abierto&q=a%26b%3Dc"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ("abiertas", None, True)),
        ("", ("abiertas", None, True)),
        ("raro", ("abiertas", None, True)),
        ("todas", ("todas", None, False)),
        ("devuelto", ("devuelto", "devuelto", False)),
        ("pendiente", ("pendiente", "pendiente", False)),
    ],
)
def test_parse_handoff_filter(value: str | None, expected: tuple) -> None:
    assert parse_handoff_filter(value) == expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (None, "/agents"),
        ("", "/agents"),
        ("/agents", "/agents"),
        ("/agents/incidents/INC-2026-000001", "/agents/incidents/INC-2026-000001"),
        ("/agents?q=banco&status=abierto", "/agents?q=banco&status=abierto"),
        ("https://evil.example/agents", "/agents"),
        ("//evil.example/agents", "/agents"),
        ("/agentsevil", "/agents"),
        ("/agents\\@evil.example", "/agents"),
        ("/agents/\r\nSet-Cookie: x=1", "/agents"),
        ("/api/incidents", "/agents"),
        ("javascript:alert(1)", "/agents"),
    ],
)
def test_safe_next_only_allows_console_paths(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


@pytest.mark.parametrize(
    ("expected", "provided", "match"),
    [
        ("abc", "abc", True),
        ("abc", "abd", False),
        ("abc", "ab", False),
        ("abc", "", False),
        ("", "", False),
        ("ñandú", "ñandú", True),
        ("abc", "\udcff", False),
    ],
)
def test_tokens_match(expected: str, provided: str, match: bool) -> None:
    assert tokens_match(expected, provided) is match


@pytest.mark.parametrize(
    ("role", "text", "shown"),
    [
        ("system", "paused", "El asistente pasó la conversación a los agentes"),
        ("system", "resumed", "La conversación volvió al asistente"),
        ("user", "paused", "paused"),  # a customer's own words are never relabelled
    ],
)
def test_system_notes_are_shown_in_spanish(role: str, text: str, shown: str) -> None:
    message = {"id": 1, "role": role, "text": text, "at": "2026-11-25T15:00:00+00:00"}
    assert display.chat_message(message, "America/Bogota")["text"] == shown
