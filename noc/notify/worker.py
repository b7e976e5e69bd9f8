"""Agents' notifications: payload, signed webhook, e-mail, and the worker that sends them.

Two events: a conversation handed to the agents (``handoff.created``), and a
ticket's chat verification locked after too many failed tries
(``ticket.verification_locked``, ``noc.db.verification``).

The rows come from the outbox in ``noc.db.notifications``; the web
server runs ``run_notification_worker`` (``setup_notification_worker``), which
delivers what is due every few seconds and never stops on an error. A row that
fails ``NOTIFICATION_MAX_ATTEMPTS`` times is given up (a dead letter the
console lists, with a button that queues it again).

Webhook: ``POST HANDOFF_WEBHOOK_URL`` with the JSON payload (UTF-8) and the
headers ``X-NOC-Timestamp: <Unix seconds>`` and ``X-NOC-Signature:
sha256=<hex HMAC-SHA256>`` computed with ``HANDOFF_WEBHOOK_SECRET`` over
``<timestamp>.<body>`` (the timestamp, a dot, then the raw body bytes), so a
captured request cannot be replayed later with a new timestamp. ``verify`` is
the receiver's side. ``X-NOC-Delivery`` carries the notification id: delivery
is at least once, receivers drop a delivery id they already handled.
docs/notifications.md has the details.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import time
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from email.message import EmailMessage
from functools import partial
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy.orm import sessionmaker

from noc.db.notifications import (
    EMAIL_VERIFICATION_LOCK,
    KIND_EMAIL,
    KIND_WEBHOOK,
    DueNotification,
    due_notifications,
    mark_delivered,
    mark_failed,
)
from noc.db.repository import aware_utc_now
from noc.notify.payloads import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    HANDOFF_EVENT,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    console_path,
)
from noc.settings import Settings
from noc.web.console.display import HANDOFF_REASON_LABELS, ROLE_LABELS

log = logging.getLogger(__name__)

# Receivers should refuse a timestamp further than this from their clock.
DEFAULT_TOLERANCE_SECONDS = 300
WEBHOOK_TIMEOUT_SECONDS = 10.0
SMTP_TIMEOUT_SECONDS = 10.0


class DeliveryError(RuntimeError):
    """A notification could not be delivered this time (it will be retried)."""


def _signed_material(body: bytes, timestamp: int) -> bytes:
    return str(timestamp).encode("ascii") + b"." + body


def sign(body: bytes, secret: str, *, timestamp: int) -> str:
    """Value of ``X-NOC-Signature``: ``sha256=`` + hex HMAC-SHA256 of ``<timestamp>.<body>``."""
    digest = hmac.new(secret.encode("utf-8"), _signed_material(body, timestamp), hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify(
    body: bytes,
    secret: str,
    *,
    signature: str | None,
    timestamp: str | None,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """Whether the two headers are a valid, fresh signature of ``body`` (the receiver's check)."""
    if not signature or not timestamp or not timestamp.strip().isdigit():
        return False
    stamp = int(timestamp)
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance:
        return False
    expected = sign(body, secret, timestamp=stamp)
    return hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("utf-8", "replace"))


def webhook_request(
    payload: Mapping[str, Any], secret: str, *, timestamp: int, delivery_id: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """Body and headers of a signed webhook delivery."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        EVENT_HEADER: str(payload.get("event") or HANDOFF_EVENT),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(body, secret, timestamp=timestamp),
    }
    if delivery_id is not None:
        headers[DELIVERY_HEADER] = str(delivery_id)
    return body, headers


@contextlib.asynccontextmanager
async def _client(http: aiohttp.ClientSession | None) -> AsyncIterator[aiohttp.ClientSession]:
    if http is not None:
        yield http
        return
    async with aiohttp.ClientSession() as own:
        yield own


async def deliver_webhook(
    settings: Settings,
    payload: Mapping[str, Any],
    *,
    http: aiohttp.ClientSession | None = None,
    delivery_id: int | None = None,
) -> None:
    """POST the signed payload to ``HANDOFF_WEBHOOK_URL``; DeliveryError unless it answers 2xx within 10 s."""
    if not settings.handoff_webhook_url:
        raise DeliveryError("HANDOFF_WEBHOOK_URL no está configurada")
    if not settings.handoff_webhook_secret:
        # Unsigned notifications could be forged by anyone: refuse to send them.
        raise DeliveryError("HANDOFF_WEBHOOK_SECRET no está configurado: el webhook no se envía sin firma")
    body, headers = webhook_request(
        payload, settings.handoff_webhook_secret, timestamp=int(time.time()), delivery_id=delivery_id
    )
    timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT_SECONDS)
    try:
        async with (
            _client(http) as client,
            client.post(settings.handoff_webhook_url, data=body, headers=headers, timeout=timeout) as response,
        ):
            if not 200 <= response.status < 300:
                detail = (await response.text(errors="replace"))[:200]
                raise DeliveryError(f"el webhook respondió HTTP {response.status}: {detail}")
    except asyncio.TimeoutError as exc:
        raise DeliveryError(f"el webhook no respondió en {WEBHOOK_TIMEOUT_SECONDS:g} s") from exc
    except aiohttp.ClientError as exc:
        raise DeliveryError(f"no se pudo contactar el webhook: {exc}") from exc


def console_link(settings: Settings, ticket: str) -> str:
    """Absolute link to the incident in the console, for e-mails."""
    return f"http://{settings.web_host}:{settings.web_port}{console_path(ticket)}"


def _line(label: str, value: Any) -> str:
    return f"{label}: {value if value not in (None, '') else 'sin dato'}"


def _email(settings: Settings, *, to: str, subject: str, lines: list[str]) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = subject
    email["From"] = settings.smtp_from
    email["To"] = to
    email.set_content("\n".join(lines))
    return email


def email_message(settings: Settings, *, to: str, handoff: Mapping[str, Any]) -> EmailMessage:
    """The Spanish e-mail telling the region's service desk that a customer waits for an agent."""
    ticket = handoff["ticket"]
    severity = handoff.get("severity")
    contact = handoff.get("contact") or {}
    severity_text = f"severidad {severity}" if severity is not None else "severidad sin clasificar"
    reason = HANDOFF_REASON_LABELS.get(handoff.get("reason") or "", handoff.get("reason"))
    lines = [
        "Un cliente espera la atención de un agente del NOC.",
        "",
        _line("Ticket", ticket),
        _line("Severidad", severity),
        _line("Región", handoff.get("region")),
        _line("Motivo", reason),
        _line("Canal", f"{handoff.get('channel')} ({handoff.get('sender_id')})"),
        _line("Contacto", contact.get("name")),
        _line("Teléfono", contact.get("phone")),
        _line("Correo", contact.get("email")),
        _line("Derivado el (UTC)", handoff.get("created_at")),
        "",
        f"Atender en la consola: {console_link(settings, ticket)}",
        "",
        "Conversación:",
    ]
    for message in handoff.get("transcript") or []:
        role = ROLE_LABELS.get(message.get("role"), message.get("role"))
        lines.append(f"[{message.get('at')}] {role}: {message.get('text')}")
    if not handoff.get("transcript"):
        lines.append("(sin mensajes)")
    subject = f"[NOC] Cliente derivado a un agente: {ticket} ({severity_text})"
    return _email(settings, to=to, subject=subject, lines=lines)


def lock_email_message(settings: Settings, *, to: str, lock: Mapping[str, Any]) -> EmailMessage:
    """The Spanish e-mail telling the region's service desk that a ticket's chat verification was locked."""
    ticket = lock["ticket"]
    phones = ", ".join(lock.get("phone_senders") or []) or "ninguno (web o integraciones)"
    lines = [
        "La verificación por chat de un ticket quedó bloqueada por demasiados intentos fallidos.",
        "Alguien dio varias veces un ID de servicio y un correo que no coinciden con los del ticket:",
        "puede ser el cliente equivocándose o alguien intentando adivinarlos para ver o escalar el ticket.",
        "",
        _line("Ticket", ticket),
        _line("Severidad", lock.get("severity")),
        _line("Región", lock.get("region")),
        _line("Intentos fallidos", f"{lock.get('failures')} en {lock.get('window_minutes')} minutos"),
        _line("Conversaciones", lock.get("conversations")),
        _line("Números de SMS/WhatsApp", phones),
        _line("Bloqueado el (UTC)", lock.get("locked_at")),
        _line("Bloqueado hasta (UTC)", lock.get("locked_until")),
        "",
        "Mientras tanto el asistente no muestra ni escala el ticket a quien no abrió la conversación;",
        "si el cliente pide ayuda, verifique su identidad por otro medio.",
        f"Ticket en la consola: {console_link(settings, ticket)}",
    ]
    return _email(settings, to=to, subject=f"[NOC] Verificación por chat bloqueada: {ticket}", lines=lines)


def email_for(settings: Settings, payload: Mapping[str, Any]) -> EmailMessage:
    """The e-mail of an outbox row's payload (``{"to": ..., "handoff" | "verification_lock": ...}``)."""
    if EMAIL_VERIFICATION_LOCK in payload:
        return lock_email_message(settings, to=payload["to"], lock=payload[EMAIL_VERIFICATION_LOCK])
    return email_message(settings, to=payload["to"], handoff=payload["handoff"])


def deliver_email(
    settings: Settings,
    *,
    to: str,
    handoff: Mapping[str, Any],
    ssl_context: ssl.SSLContext | None = None,
) -> None:
    """Send a handoff's e-mail over SMTP (blocking: run it in a thread); DeliveryError on any failure."""
    send_email(settings, email_message(settings, to=to, handoff=handoff), ssl_context=ssl_context)


def send_email(settings: Settings, message: EmailMessage, *, ssl_context: ssl.SSLContext | None = None) -> None:
    """Send ``message`` over SMTP (blocking: run it in a thread); DeliveryError on any failure.

    STARTTLS when ``SMTP_STARTTLS`` (certificate checked with ``ssl_context``,
    the system's trust store by default), login when ``SMTP_USERNAME`` is set.
    """
    if not settings.smtp_host:
        raise DeliveryError("SMTP_HOST no está configurado")
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            smtp.ehlo()
            if settings.smtp_starttls:
                smtp.starttls(context=ssl_context or ssl.create_default_context())
                smtp.ehlo()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"no se pudo enviar el correo por SMTP: {exc}") from exc


async def _deliver(settings: Settings, item: DueNotification, *, http: aiohttp.ClientSession) -> None:
    if item.kind == KIND_WEBHOOK:
        await deliver_webhook(settings, item.payload, http=http, delivery_id=item.id)
    elif item.kind == KIND_EMAIL:
        await asyncio.to_thread(send_email, settings, email_for(settings, item.payload))
    else:
        raise DeliveryError(f"tipo de notificación desconocido: {item.kind!r}")


async def deliver_due(
    settings: Settings,
    session_factory: sessionmaker,
    *,
    now: datetime | None = None,
    http: aiohttp.ClientSession | None = None,
    limit: int = 20,
) -> int:
    """Deliver the notifications that are due and record each outcome; returns how many were delivered.

    ``now`` fixes the clock for claiming and rescheduling (tests); by default
    each step uses the current time. A failure of one notification (whatever
    the exception) is recorded on it and does not stop the others.
    """
    clock = partial(aware_utc_now, now)
    due = await asyncio.to_thread(due_notifications, session_factory, now=clock(), limit=limit)
    if not due:
        return 0
    delivered = 0
    async with _client(http) as client:
        for item in due:
            try:
                await _deliver(settings, item, http=client)
            except Exception as exc:
                error = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
                retry_at = await asyncio.to_thread(
                    mark_failed,
                    session_factory,
                    notification_id=item.id,
                    error=error,
                    now=clock(),
                    max_attempts=settings.notification_max_attempts,
                )
                if retry_at is None:
                    # Nobody will be told of this handoff unless an agent looks: say it loudly.
                    log.error(
                        "Notification %s (%s, handoff %s) failed %s times and is given up: %s; "
                        "the console lists it under /agents/notifications",
                        item.id,
                        item.kind,
                        item.handoff_id,
                        item.attempts + 1,
                        error,
                    )
                else:
                    log.warning(
                        "Notification %s (%s, handoff %s) failed on attempt %s: %s; next attempt at %s",
                        item.id,
                        item.kind,
                        item.handoff_id,
                        item.attempts + 1,
                        error,
                        retry_at.isoformat(),
                    )
            else:
                await asyncio.to_thread(mark_delivered, session_factory, notification_id=item.id, now=clock())
                delivered += 1
    return delivered


async def run_notification_worker(
    settings: Settings,
    session_factory: sessionmaker,
    *,
    interval: float = 5.0,
    stop: asyncio.Event,
) -> None:
    """Deliver due notifications every ``interval`` seconds until ``stop`` is set; errors are logged, never raised."""
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            try:
                await deliver_due(settings, session_factory, http=http)
            except Exception:
                # The database may be briefly unreachable: try again next round.
                log.exception("Notification worker: delivery round failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)


def setup_notification_worker(
    app: web.Application, *, settings: Settings, session_factory: sessionmaker, interval: float = 5.0
) -> None:
    """Run the notification worker while ``app`` runs (started on startup, stopped on cleanup).

    Without a webhook URL or an SMTP host there is nothing to send and no
    worker is started. (Settings and session factory are passed in rather than
    read from the app's keys: the server module runs as ``__main__``, whose
    keys are not ``noc.web.server``'s.)
    """

    async def worker(app: web.Application) -> AsyncIterator[None]:
        if not (settings.handoff_webhook_url or settings.smtp_host):
            log.info("Handoff notifications off: neither HANDOFF_WEBHOOK_URL nor SMTP_HOST is set")
            yield
            return
        if settings.handoff_webhook_url and not settings.handoff_webhook_secret:
            log.warning("HANDOFF_WEBHOOK_URL is set without HANDOFF_WEBHOOK_SECRET: webhooks will fail until it is set")
        stop = asyncio.Event()
        task = asyncio.create_task(run_notification_worker(settings, session_factory, interval=interval, stop=stop))
        yield
        stop.set()
        # A delivery in flight may take up to its timeout; past that, cancel it.
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=WEBHOOK_TIMEOUT_SECONDS + 5)

    app.cleanup_ctx.append(worker)
