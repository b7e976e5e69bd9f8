"""The notifications outbox on SQLite and PostgreSQL (see tests/store/conftest.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from noc.db.audit import list_events
from noc.db.models import Incident, Notification
from noc.db.notifications import (
    CLAIM_LEASE,
    count_failed_notifications,
    due_notifications,
    enqueue_handoff_notifications,
    list_failed_notifications,
    mark_delivered,
    mark_failed,
    requeue_notification,
)
from tests.notify.conftest import NOW, notify_settings

PAYLOAD = {"ticket": "INC-2026-000001", "transcript": [{"role": "user", "text": "hola", "at": NOW.isoformat()}]}


def rows(session_factory: sessionmaker) -> list[Notification]:
    with session_factory() as s, s.begin():
        return list(s.execute(select(Notification).order_by(Notification.id)).scalars())


def enqueue(session_factory: sessionmaker, handoff_id: int, *, email_to: str | None, **settings: object) -> None:
    with session_factory() as s, s.begin():
        enqueue_handoff_notifications(
            s, handoff_id=handoff_id, payload=PAYLOAD, email_to=email_to, settings=notify_settings(**settings), now=NOW
        )


@pytest.mark.parametrize(
    ("settings", "email_to", "kinds"),
    [
        pytest.param({}, "sd@noc.example.com", [], id="nothing configured"),
        pytest.param({"handoff_webhook_secret": "s"}, "sd@noc.example.com", [], id="secret without url"),
        pytest.param({"smtp_host": "smtp.example.com"}, None, [], id="smtp without address"),
        pytest.param({"handoff_webhook_url": "https://hooks.example.com/noc"}, None, ["webhook"], id="webhook"),
        pytest.param({"smtp_host": "smtp.example.com"}, "sd@noc.example.com", ["email"], id="email"),
        pytest.param(
            {"handoff_webhook_url": "https://hooks.example.com/noc", "smtp_host": "smtp.example.com"},
            "sd@noc.example.com",
            ["webhook", "email"],
            id="both",
        ),
    ],
)
def test_enqueue_follows_the_settings(
    session_factory: sessionmaker, make_handoff: Callable, settings: dict, email_to: str | None, kinds: list[str]
) -> None:
    handoff_id, _ = make_handoff()

    enqueue(session_factory, handoff_id, email_to=email_to, **settings)

    stored = rows(session_factory)
    assert [row.kind for row in stored] == kinds
    for row in stored:
        assert (row.handoff_id, row.attempts, row.delivered_at, row.last_error) == (handoff_id, 0, None, None)
        assert row.next_attempt_at == NOW
        assert row.payload == (PAYLOAD if row.kind == "webhook" else {"to": email_to, "handoff": PAYLOAD})


def test_enqueue_is_part_of_the_callers_transaction(session_factory: sessionmaker, make_handoff: Callable) -> None:
    handoff_id, _ = make_handoff()

    with pytest.raises(RuntimeError), session_factory() as s, s.begin():
        enqueue_handoff_notifications(
            s,
            handoff_id=handoff_id,
            payload=PAYLOAD,
            email_to=None,
            settings=notify_settings(handoff_webhook_url="https://hooks.example.com/noc"),
            now=NOW,
        )
        raise RuntimeError("the handoff failed after queueing")

    assert rows(session_factory) == []


def test_claimed_rows_are_hidden_until_the_lease_ends(session_factory: sessionmaker, make_handoff: Callable) -> None:
    handoff_id, _ = make_handoff()
    enqueue(session_factory, handoff_id, email_to="sd@noc.example.com", handoff_webhook_url="u", smtp_host="h")

    assert due_notifications(session_factory, now=NOW - timedelta(seconds=1)) == []
    claimed = due_notifications(session_factory, now=NOW)
    assert [(n.kind, n.attempts, n.handoff_id) for n in claimed] == [
        ("webhook", 0, handoff_id),
        ("email", 0, handoff_id),
    ]
    assert due_notifications(session_factory, now=NOW + CLAIM_LEASE - timedelta(seconds=1)) == []
    # A worker that died mid-delivery: the rows come back after the lease.
    assert len(due_notifications(session_factory, now=NOW + CLAIM_LEASE)) == 2


def test_delivered_rows_stay_and_are_never_due_again(session_factory: sessionmaker, make_handoff: Callable) -> None:
    handoff_id, _ = make_handoff()
    enqueue(session_factory, handoff_id, email_to=None, handoff_webhook_url="u")
    (item,) = due_notifications(session_factory, now=NOW)

    mark_delivered(session_factory, notification_id=item.id, now=NOW + timedelta(seconds=2))

    (row,) = rows(session_factory)
    assert row.delivered_at == NOW + timedelta(seconds=2) and row.attempts == 1
    assert due_notifications(session_factory, now=NOW + timedelta(days=30)) == []


def test_failures_back_off_and_keep_the_last_error(session_factory: sessionmaker, make_handoff: Callable) -> None:
    handoff_id, _ = make_handoff()
    enqueue(session_factory, handoff_id, email_to=None, handoff_webhook_url="u")
    now = NOW
    waits = []
    for attempt in range(1, 10):
        (item,) = due_notifications(session_factory, now=now)
        assert item.attempts == attempt - 1
        retry_at = mark_failed(
            session_factory, notification_id=item.id, error=f"HTTP 503 \x00 intento {attempt}" + "x" * 5000,
            now=now, max_attempts=10, rng=lambda: 0.0,
        )
        waits.append((retry_at - now).total_seconds())
        assert due_notifications(session_factory, now=retry_at - timedelta(seconds=1)) == []
        now = retry_at

    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    (row,) = rows(session_factory)
    assert row.attempts == 9 and row.delivered_at is None
    assert row.last_error.startswith("HTTP 503 \ufffd intento 9") and len(row.last_error) == 2000


def fail(
    session_factory: sessionmaker, notification_id: int, *, now: datetime, error: str, max_attempts: int
) -> datetime | None:
    return mark_failed(
        session_factory, notification_id=notification_id, error=error, now=now, max_attempts=max_attempts,
        rng=lambda: 0.0,
    )


def test_the_last_allowed_failure_makes_a_dead_letter_until_requeued(
    session_factory: sessionmaker, make_handoff: Callable
) -> None:
    handoff_id, ticket = make_handoff()
    enqueue(session_factory, handoff_id, email_to="sd@noc.example.com", handoff_webhook_url="u", smtp_host="h")
    webhook, email = (row.id for row in rows(session_factory))
    now = NOW
    for attempt in (1, 2, 3):
        retry_at = fail(session_factory, webhook, now=now, error=f"HTTP 503 intento {attempt}", max_attempts=3)
        if attempt < 3:
            assert retry_at is not None
            now = retry_at
    assert retry_at is None
    assert fail(session_factory, email, now=now, error="SMTP caído", max_attempts=3) is not None

    # Given up: never due again, however long one waits; the e-mail still is.
    later = now + timedelta(days=365)
    assert [n.id for n in due_notifications(session_factory, now=later)] == [email]
    assert count_failed_notifications(session_factory) == 1
    (dead,) = list_failed_notifications(session_factory)
    assert (dead.id, dead.kind, dead.ticket, dead.email_to, dead.attempts) == (webhook, "webhook", ticket, None, 3)
    assert dead.last_error == "HTTP 503 intento 3" and dead.failed_at == now

    # An agent puts it back: due at once, with a new set of attempts, and audited on the incident.
    requeued_at = later + timedelta(minutes=5)
    assert requeue_notification(session_factory, notification_id=webhook, actor="agent:ana", now=requeued_at)
    assert requeue_notification(session_factory, notification_id=webhook, actor="agent:ana", now=requeued_at) is False
    assert count_failed_notifications(session_factory) == 0 and list_failed_notifications(session_factory) == []
    due = {item.id: item.attempts for item in due_notifications(session_factory, now=requeued_at)}
    assert due[webhook] == 0
    assert fail(session_factory, webhook, now=requeued_at, error="otra vez", max_attempts=3) is not None
    with session_factory() as s:
        incident_id = s.execute(select(Incident.id).where(Incident.ticket == ticket)).scalar_one()
    (event,) = list_events(session_factory, incident_id=incident_id)
    assert (event["actor"], event["action"]) == ("agent:ana", "notification_requeued")
    assert event["detail"] == {
        "notification_id": webhook, "kind": "webhook", "attempts": 3, "error": "HTTP 503 intento 3"
    }


def test_only_dead_letters_can_be_requeued(session_factory: sessionmaker, make_handoff: Callable) -> None:
    handoff_id, _ = make_handoff()
    enqueue(session_factory, handoff_id, email_to="sd@noc.example.com", handoff_webhook_url="u", smtp_host="h")
    webhook, email = (row.id for row in rows(session_factory))
    mark_delivered(session_factory, notification_id=webhook, now=NOW)
    fail(session_factory, email, now=NOW, error="SMTP caído", max_attempts=1)
    (dead,) = list_failed_notifications(session_factory)
    assert (dead.id, dead.kind, dead.email_to) == (email, "email", "sd@noc.example.com")

    for notification_id in (webhook, email + 1000):
        requeued = requeue_notification(session_factory, notification_id=notification_id, actor="agent:ana", now=NOW)
        assert requeued is False
    assert [row.delivered_at for row in rows(session_factory)] == [NOW, None]
    with pytest.raises(ValueError):
        fail(session_factory, email, now=NOW, error="x", max_attempts=0)


def test_concurrent_workers_claim_disjoint_rows(session_factory: sessionmaker, make_handoff: Callable) -> None:
    for index in range(6):
        handoff_id, _ = make_handoff(f"conv-{index}")
        enqueue(session_factory, handoff_id, email_to="sd@noc.example.com", handoff_webhook_url="u", smtp_host="h")
    barrier = threading.Barrier(4)

    def claim(_: int) -> list[int]:
        barrier.wait(timeout=30)
        return [n.id for n in due_notifications(session_factory, now=NOW, limit=5)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        claims = list(pool.map(claim, range(4)))

    claimed = [notification_id for ids in claims for notification_id in ids]
    assert len(claimed) == len(set(claimed))  # nobody delivers the same row twice
    # On PostgreSQL a worker may skip rows another is claiming; between them all 12 are taken
    # unless a skip left some for the next round.
    assert len(claimed) + len(due_notifications(session_factory, now=NOW)) == 12


@pytest.mark.parametrize("limit", [0, -1])
def test_limit_must_be_positive(session_factory: sessionmaker, limit: int) -> None:
    with pytest.raises(ValueError):
        due_notifications(session_factory, now=NOW, limit=limit)
