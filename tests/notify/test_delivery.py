"""Delivering the outbox: a local webhook receiver, a local SMTP sink, the worker loop.

Nothing here leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from noc.db.models import Notification
from noc.db.notifications import EMAIL_VERIFICATION_LOCK, enqueue_handoff_notifications, enqueue_notifications
from noc.db.verification import VerificationLock
from noc.notify.payloads import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    LOCK_EVENT,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verification_lock_payload,
)
from noc.notify.worker import (
    DeliveryError,
    deliver_due,
    deliver_email,
    deliver_webhook,
    run_notification_worker,
    setup_notification_worker,
    verify,
)
from noc.settings import Settings
from tests.notify.conftest import NOW, SECRET, notify_settings
from tests.notify.smtp_sink import SmtpSink, self_signed_tls

PAYLOAD = {
    "ticket": "INC-2026-000001",
    "severity": 1,
    "contact": {"name": "Ana Ruiz"},
    "transcript": [{"role": "user", "text": "quiero hablar con un agente", "at": NOW.isoformat()}],
}


@dataclass
class Receiver:
    """A webhook endpoint answering the statuses of ``script`` in turn (then 200)."""

    script: list[int] = field(default_factory=list)
    calls: list[dict] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.calls.append(
            {
                "body": body,
                "json": await request.json(),
                "signature": request.headers.get(SIGNATURE_HEADER),
                "timestamp": request.headers.get(TIMESTAMP_HEADER),
                "delivery": request.headers.get(DELIVERY_HEADER),
                "event": request.headers.get(EVENT_HEADER),
                "content_type": request.headers.get("Content-Type"),
            }
        )
        status = self.script.pop(0) if self.script else 200
        return web.Response(status=status, text="recibido" if status < 300 else "caído")


@pytest.fixture
async def receiver(aiohttp_server) -> Receiver:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/noc/handoffs", receiver.handle)
    server = await aiohttp_server(app)
    receiver.url = str(server.make_url("/noc/handoffs"))
    return receiver


def queue(session_factory: sessionmaker, handoff_id: int, settings: Settings, email_to: str | None = None) -> None:
    with session_factory() as s, s.begin():
        enqueue_handoff_notifications(
            s, handoff_id=handoff_id, payload=PAYLOAD, email_to=email_to, settings=settings, now=NOW
        )


def notification(session_factory: sessionmaker, kind: str = "webhook") -> Notification:
    with session_factory() as s, s.begin():
        return s.execute(select(Notification).where(Notification.kind == kind)).scalar_one()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_failing_twice_is_delivered_on_the_third_attempt_with_growing_waits(
    session_factory: sessionmaker, make_handoff: Callable, receiver: Receiver
) -> None:
    receiver.script = [500, 503]
    settings = notify_settings(handoff_webhook_url=receiver.url, handoff_webhook_secret=SECRET)
    handoff_id, _ = make_handoff()
    queue(session_factory, handoff_id, settings)

    now = NOW
    waits = []
    for expected_attempts in (1, 2):
        assert await deliver_due(settings, session_factory, now=now) == 0
        row = notification(session_factory)
        assert row.attempts == expected_attempts and row.delivered_at is None
        assert f"HTTP {500 if expected_attempts == 1 else 503}" in row.last_error
        # Not due before its time: nothing is sent.
        assert await deliver_due(settings, session_factory, now=row.next_attempt_at - timedelta(seconds=1)) == 0
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    assert await deliver_due(settings, session_factory, now=now) == 1

    assert timedelta(seconds=30) <= waits[0] <= timedelta(seconds=33)
    assert timedelta(seconds=60) <= waits[1] <= timedelta(seconds=66)
    row = notification(session_factory)
    assert row.attempts == 3 and row.delivered_at == now and row.last_error is None
    assert len(receiver.calls) == 3
    for call in receiver.calls:
        assert verify(call["body"], SECRET, signature=call["signature"], timestamp=call["timestamp"])
        assert call["json"] == PAYLOAD  # the transcript travels with it
        assert call["delivery"] == str(row.id)
        assert call["content_type"] == "application/json; charset=utf-8"
    assert await deliver_due(settings, session_factory, now=now + timedelta(days=1)) == 0
    assert len(receiver.calls) == 3


async def test_a_webhook_that_keeps_failing_is_given_up_after_the_last_attempt(
    session_factory: sessionmaker, make_handoff: Callable, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.script = [503] * 10
    settings = notify_settings(
        handoff_webhook_url=receiver.url, handoff_webhook_secret=SECRET, notification_max_attempts=3
    )
    handoff_id, _ = make_handoff()
    queue(session_factory, handoff_id, settings)
    caplog.set_level(logging.WARNING, logger="noc.notify.worker")

    now = NOW
    for _ in range(3):
        assert await deliver_due(settings, session_factory, now=now) == 0
        now = notification(session_factory).next_attempt_at

    row = notification(session_factory)
    assert row.attempts == 3 and row.delivered_at is None and row.failed_at is not None
    assert "HTTP 503" in row.last_error
    assert "given up" in caplog.text and "/agents/notifications" in caplog.text
    # A month of worker rounds later it has not been tried again.
    assert await deliver_due(settings, session_factory, now=now + timedelta(days=30)) == 0
    assert len(receiver.calls) == 3


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"handoff_webhook_secret": None}, "HANDOFF_WEBHOOK_SECRET", id="no secret: never unsigned"),
        pytest.param({"handoff_webhook_url": None}, "HANDOFF_WEBHOOK_URL", id="url removed since"),
        pytest.param({"handoff_webhook_url": "http://127.0.0.1:{port}/x"}, "no se pudo contactar", id="unreachable"),
    ],
)
async def test_webhook_problems_are_recorded_for_the_next_attempt(
    session_factory: sessionmaker, make_handoff: Callable, changes: dict, message: str
) -> None:
    handoff_id, _ = make_handoff()
    queue(session_factory, handoff_id, notify_settings(handoff_webhook_url="http://127.0.0.1:1/x"))
    settings = notify_settings(handoff_webhook_url="http://127.0.0.1:1/x", handoff_webhook_secret=SECRET)
    if changes.get("handoff_webhook_url"):
        changes = {"handoff_webhook_url": changes["handoff_webhook_url"].format(port=closed_port())}
    settings = replace(settings, **changes)

    assert await deliver_due(settings, session_factory, now=NOW) == 0

    row = notification(session_factory)
    assert row.attempts == 1 and message in row.last_error and row.next_attempt_at > NOW


async def test_webhook_that_hangs_is_a_failure_after_the_timeout(
    monkeypatch: pytest.MonkeyPatch, aiohttp_server
) -> None:
    monkeypatch.setattr("noc.notify.worker.WEBHOOK_TIMEOUT_SECONDS", 0.2)

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.Response()

    app = web.Application()
    app.router.add_post("/", slow)
    server = await aiohttp_server(app)
    settings = notify_settings(handoff_webhook_url=str(server.make_url("/")), handoff_webhook_secret=SECRET)

    with pytest.raises(DeliveryError, match="no respondió"):
        await deliver_webhook(settings, PAYLOAD)


async def test_email_reaches_the_smtp_sink(
    session_factory: sessionmaker, make_handoff: Callable, receiver: Receiver
) -> None:
    with SmtpSink() as sink:
        settings = notify_settings(
            smtp_host=sink.host,
            smtp_port=sink.port,
            handoff_webhook_url=receiver.url,
            handoff_webhook_secret=SECRET,
        )
        handoff_id, _ = make_handoff()
        queue(session_factory, handoff_id, settings, email_to="servicedesk.co@noc.example.com")

        assert await deliver_due(settings, session_factory, now=NOW) == 2

    (mail,) = sink.received
    assert (mail.mail_from, mail.rcpt_to, mail.tls, mail.auth_user) == (
        "noc-asistente@example.com",
        ["servicedesk.co@noc.example.com"],
        False,
        None,
    )
    assert mail.message["Subject"] == "[NOC] Cliente derivado a un agente: INC-2026-000001 (severidad 1)"
    body = mail.message.get_content()
    assert "/agents/incidents/INC-2026-000001" in body and "Cliente: quiero hablar con un agente" in body
    assert notification(session_factory, "email").delivered_at == NOW
    assert len(receiver.calls) == 1


async def test_a_locked_ticket_is_notified_without_a_handoff(session_factory: sessionmaker, receiver: Receiver) -> None:
    lock = VerificationLock(
        ticket="INC-2026-000007",
        failures=5,
        window=timedelta(hours=24),
        locked_at=NOW,
        locked_until=NOW + timedelta(hours=24),
        conversations=3,
        phone_senders=("whatsapp:+573001112233",),
    )
    incident = SimpleNamespace(ticket=lock.ticket, severity=2, region="colombia")
    payload = verification_lock_payload(incident=incident, lock=lock)
    with SmtpSink() as sink:
        settings = notify_settings(
            smtp_host=sink.host, smtp_port=sink.port, handoff_webhook_url=receiver.url, handoff_webhook_secret=SECRET
        )
        with session_factory() as s, s.begin():
            enqueue_notifications(
                s,
                payload=payload,
                email_to="servicedesk.co@noc.example.com",
                email_key=EMAIL_VERIFICATION_LOCK,
                settings=settings,
                now=NOW,
            )
        assert await deliver_due(settings, session_factory, now=NOW) == 2

    (call,) = receiver.calls
    assert call["event"] == LOCK_EVENT and call["json"] == payload
    assert verify(call["body"], SECRET, signature=call["signature"], timestamp=call["timestamp"])
    assert payload["locked_until"] == "2026-11-25T20:30:00+00:00" and payload["window_minutes"] == 1440
    (mail,) = sink.received
    assert mail.message["Subject"] == "[NOC] Verificación por chat bloqueada: INC-2026-000007"
    body = mail.message.get_content()
    assert "whatsapp:+573001112233" in body and "/agents/incidents/INC-2026-000007" in body
    assert notification(session_factory, "email").handoff_id is None


def test_email_uses_starttls_then_logs_in(tmp_path: Path) -> None:
    server_tls, client_tls = self_signed_tls(tmp_path)
    with SmtpSink(tls_context=server_tls, credentials=("noc", "clave-smtp")) as sink:
        settings = notify_settings(
            smtp_host=sink.host,
            smtp_port=sink.port,
            smtp_starttls=True,
            smtp_username="noc",
            smtp_password="clave-smtp",
        )
        deliver_email(settings, to="sd@noc.example.com", handoff=PAYLOAD, ssl_context=client_tls)

    (mail,) = sink.received
    assert mail.tls is True and mail.auth_user == "noc"


def test_email_refuses_an_untrusted_certificate(tmp_path: Path) -> None:
    server_tls, _ = self_signed_tls(tmp_path)
    with SmtpSink(tls_context=server_tls) as sink:
        settings = notify_settings(smtp_host=sink.host, smtp_port=sink.port, smtp_starttls=True)
        with pytest.raises(DeliveryError, match="SMTP"):
            deliver_email(settings, to="sd@noc.example.com", handoff=PAYLOAD)
    assert sink.received == []


@pytest.mark.parametrize(
    ("changes", "cause"),
    [
        pytest.param({"smtp_password": "otra"}, smtplib.SMTPAuthenticationError, id="wrong password"),
        pytest.param({"smtp_port": None}, ConnectionRefusedError, id="nobody listening"),
        pytest.param({"smtp_host": None}, type(None), id="smtp host removed since"),
    ],
)
def test_email_failures_raise_delivery_error(changes: dict, cause: type) -> None:
    with SmtpSink(credentials=("noc", "clave-smtp")) as sink:
        settings = notify_settings(
            smtp_host=sink.host, smtp_port=sink.port, smtp_username="noc", smtp_password="clave-smtp"
        )
        if "smtp_port" in changes:
            changes = {"smtp_port": closed_port()}
        with pytest.raises(DeliveryError) as raised:
            deliver_email(replace(settings, **changes), to="sd@x.example.com", handoff=PAYLOAD)
    assert isinstance(raised.value.__cause__, cause)
    assert sink.received == []


class FlakyFactory:
    """A session factory whose first ``failures`` uses raise, as a database restart would."""

    def __init__(self, real: sessionmaker, failures: int) -> None:
        self.real = real
        self.failures = failures

    def __call__(self):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("la base de datos no responde")
        return self.real()


async def test_worker_survives_errors_and_stops_when_asked(
    session_factory: sessionmaker, make_handoff: Callable, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    settings = notify_settings(handoff_webhook_url=receiver.url, handoff_webhook_secret=SECRET)
    handoff_id, _ = make_handoff()
    queue(session_factory, handoff_id, settings)
    stop = asyncio.Event()
    caplog.set_level(logging.ERROR, logger="noc.notify.worker")

    worker = asyncio.create_task(
        run_notification_worker(settings, FlakyFactory(session_factory, failures=2), interval=0.01, stop=stop)
    )
    for _ in range(500):
        if receiver.calls:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(worker, timeout=5)

    assert len(receiver.calls) == 1
    assert caplog.text.count("delivery round failed") == 2
    assert notification(session_factory).delivered_at is not None


async def test_setup_runs_the_worker_with_the_app(
    session_factory: sessionmaker, make_handoff: Callable, receiver: Receiver, aiohttp_server
) -> None:
    settings = notify_settings(handoff_webhook_url=receiver.url, handoff_webhook_secret=SECRET)
    handoff_id, _ = make_handoff()
    app = web.Application()
    setup_notification_worker(app, settings=settings, session_factory=session_factory, interval=0.01)

    server = await aiohttp_server(app)
    queue(session_factory, handoff_id, settings)  # after start-up: the running worker picks it up
    for _ in range(500):
        if receiver.calls:
            break
        await asyncio.sleep(0.01)
    await server.close()

    assert len(receiver.calls) == 1
    assert notification(session_factory).delivered_at is not None
    assert not [task for task in asyncio.all_tasks() if "run_notification_worker" in repr(task.get_coro())]


async def test_setup_without_channels_starts_no_worker(
    session_factory: sessionmaker, aiohttp_server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="noc.notify.worker")
    app = web.Application()
    setup_notification_worker(app, settings=notify_settings(), session_factory=session_factory)

    server = await aiohttp_server(app)
    running = [task for task in asyncio.all_tasks() if "run_notification_worker" in repr(task.get_coro())]
    await server.close()

    assert running == []
    assert "Handoff notifications off" in caplog.text
