"""How stored values read on the console: Spanish labels and local times (pure functions)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

STATUS_LABELS = {
    "abierto": "Abierto",
    "resuelto_primer_contacto": "Resuelto en el primer contacto",
    "en_progreso": "En progreso",
    "derivado": "Derivado a un agente",
    "resuelto": "Resuelto",
    "cerrado": "Cerrado",
}
HANDOFF_STATUS_LABELS = {
    "pendiente": "Esperando agente",
    "tomado": "Atendido por un agente",
    "devuelto": "Devuelto al asistente",
    "cerrado": "Cerrado",
}
HANDOFF_REASON_LABELS = {
    "customer_request": "el cliente pidió un agente",
    "failed_answers": "respuestas inválidas repetidas",
    "low_confidence": "el asistente no entendió",
    "severity_1": "severidad 1",
}
ROLE_LABELS = {"user": "Cliente", "bot": "Asistente", "agent": "Agente", "system": "Sistema"}
# System notes of the conversation log (noc/rasa_plugins/live_log.py).
SYSTEM_NOTE_LABELS = {
    "paused": "El asistente pasó la conversación a los agentes",
    "resumed": "La conversación volvió al asistente",
}
CHANGE_STATUS_LABELS = {"registrado": "Registrada"}
NOTIFICATION_KIND_LABELS = {"webhook": "Webhook", "email": "Correo"}
# Longest part of a notification's error quoted in the audit trail (the whole is in the event).
AUDIT_ERROR_CHARS = 200
CHANNEL_LABELS = {"web": "Chat web", "whatsapp": "WhatsApp", "sms": "SMS", "rest": "REST", "shell": "Terminal"}
EMPTY = "—"


def label(labels: Mapping[str, str], value: str | None) -> str:
    """The Spanish label of a stored code; the code itself when it has none."""
    if value is None or value == "":
        return EMPTY
    return labels.get(value, value)


def yes_no(value: bool | None) -> str:
    if value is None:
        return EMPTY
    return "Sí" if value else "No"


def severity_label(severity: int | None, names: Mapping[int, str]) -> str:
    if severity is None:
        return "Sin clasificar"
    name = names.get(severity)
    return f"{severity} ({name})" if name else str(severity)


def _zone(name: str | None) -> Any:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_time(value: str | datetime | None, zone_name: str | None) -> str:
    """``24/11/2026 15:00 (UTC-05:00)`` in the zone, from an aware datetime or ISO 8601 text."""
    if value is None or value == "":
        return EMPTY
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = moment.astimezone(_zone(zone_name))
    offset = local.strftime("%z")
    return f"{local:%d/%m/%Y %H:%M} (UTC{offset[:3]}:{offset[3:]})"


def day_start(value: str | date | None, zone_name: str | None) -> datetime | None:
    """00:00 of a day (a date or ``YYYY-MM-DD``) in the zone: a customer's wanted day starts at their midnight."""
    if value is None or value == "":
        return None
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return datetime.combine(day, time(0), tzinfo=_zone(zone_name))


def actor_label(actor: str) -> str:
    """``agent:ana`` -> ``ana``; ``api:crm`` -> ``API (crm)``; the bot and customers by role."""
    kind, _, name = actor.partition(":")
    if kind == "agent" and name:
        return name
    if kind == "api":
        return f"API ({name or 'integración'})"
    if kind == "bot":
        return "Asistente"
    if kind == "customer":
        return "Cliente"
    return actor


def audit_text(action: str, detail: Mapping[str, Any] | None) -> str:
    """One Spanish sentence for an audit event (noc.db.incident_admin, change requests)."""
    detail = detail or {}
    if action == "change_request_opened":
        reason = detail.get("reason")
        return f"Registró la solicitud de cambio. {reason}" if reason else "Registró la solicitud de cambio"
    if action == "assigned":
        return "Tomó el incidente"
    if action == "status_changed":
        return (
            f"Cambió el estado de «{label(STATUS_LABELS, detail.get('from'))}» "
            f"a «{label(STATUS_LABELS, detail.get('to'))}»"
        )
    if action == "handoff_status":
        return (
            f"Derivación: «{label(HANDOFF_STATUS_LABELS, detail.get('from'))}» "
            f"→ «{label(HANDOFF_STATUS_LABELS, detail.get('to'))}»"
        )
    if action == "notification_requeued":
        kind = label(NOTIFICATION_KIND_LABELS, detail.get("kind")).lower()
        error = str(detail.get("error") or "sin detalle")
        if len(error) > AUDIT_ERROR_CHARS:
            error = error[:AUDIT_ERROR_CHARS] + "…"
        attempts = detail.get("attempts")
        tries = "1 intento fallido" if attempts == 1 else f"{attempts} intentos fallidos"
        return f"Reintentó la notificación {detail.get('notification_id')} ({kind}) tras {tries}; último error: {error}"
    if action == "agent_reply":
        channel = label(CHANNEL_LABELS, detail.get("channel"))
        if detail.get("delivered") is True:
            return f"Respondió al cliente (entregado por {channel})"
        if detail.get("delivered") is False:
            return "Respondió al cliente (guardado, pero el canal no lo entregó)"
        return "Respondió al cliente"
    if action == "verification_locked":
        # noc/db/verification.py: the agents' notice of a ticket being guessed at.
        until = format_time(detail.get("locked_until"), None)
        return (
            f"Bloqueó la verificación por chat tras {detail.get('failures')} intentos fallidos "
            f"desde {detail.get('conversations')} conversaciones, hasta el {until}"
        )
    return action


def chat_message(message: Mapping[str, Any], zone_name: str | None) -> dict[str, Any]:
    """A conversation message as the chat shows it (the live view gets the same fields as JSON)."""
    return {
        "id": message.get("id"),
        "role": message["role"],
        "role_label": label(ROLE_LABELS, message["role"]),
        "text": label(SYSTEM_NOTE_LABELS, message["text"]) if message["role"] == "system" else message["text"],
        "at": message["at"],
        "at_display": format_time(message["at"], zone_name),
    }


def show_stored_transcript(live: list[Mapping[str, Any]], created_at: datetime) -> bool:
    """Whether the chat should start with the transcript stored at opening.

    The live log normally holds the whole conversation, intake included; it
    starts after the incident was opened only for conversations older than the
    log (or opened outside it), and then the stored transcript comes first.
    """
    if not live:
        return True
    return datetime.fromisoformat(live[0]["at"]) > created_at
