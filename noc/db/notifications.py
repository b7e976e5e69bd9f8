"""Outbox of the agents' notifications (table ``notifications``).

A handoff queues its notifications in the transaction that creates it
(``enqueue_handoff_notifications``), so a handoff never exists without them
and a rolled-back one sends nothing; so does a ticket's chat verification
being locked (``noc.db.verification``, rows without a handoff). The web server's worker
(``noc.notify.worker``) then claims what is due, delivers it and records the
outcome. A failure is retried with exponential backoff up to ``MAX_DELAY``
(``last_error`` says why); after ``max_attempts`` failed attempts
(``NOTIFICATION_MAX_ATTEMPTS``) the row becomes a dead letter (``failed_at``):
no longer retried, listed in the console, where an agent can put it back in
the queue (``requeue_notification``) for another ``max_attempts``. Rows are
never deleted. Delivery is at least once: a worker that dies mid-delivery
leaves the row claimed only for ``CLAIM_LEASE``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from noc.db.audit import record_event
from noc.db.db import READ_ONLY_OPTIONS
from noc.db.models import Handoff, Incident, Notification
from noc.db.repository import aware_utc_now
from noc.settings import Settings

KIND_WEBHOOK = "webhook"
KIND_EMAIL = "email"
NOTIFICATION_KINDS: tuple[str, ...] = (KIND_WEBHOOK, KIND_EMAIL)
# Key of an e-mail row's payload that holds the event: a handoff's, or a
# ticket's chat verification locked (noc.notify.worker builds each e-mail).
EMAIL_HANDOFF = "handoff"
EMAIL_VERIFICATION_LOCK = "verification_lock"

BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
# Up to this fraction is added at random so failures of many rows (the
# receiver was down) do not all retry at the same second.
JITTER = 0.1
# How long a claimed row stays invisible to other workers while it is being
# delivered; longer than any delivery can take (10 s webhook, SMTP timeouts).
CLAIM_LEASE = timedelta(minutes=2)
# Stored error text is for people reading the console, not a full dump.
MAX_ERROR_LENGTH = 2000
# Audit action on the incident when an agent puts a dead letter back in the queue.
ACTION_NOTIFICATION_REQUEUED = "notification_requeued"


@dataclass(frozen=True)
class DueNotification:
    id: int
    handoff_id: int | None
    kind: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class FailedNotification:
    """A dead letter, as the console lists it."""

    id: int
    kind: str
    ticket: str
    # The e-mail's address; None for the webhook (its URL is a setting).
    email_to: str | None
    attempts: int
    last_error: str | None
    created_at: datetime
    failed_at: datetime


def enqueue_handoff_notifications(
    session: Session,
    *,
    handoff_id: int,
    payload: Mapping[str, Any],
    email_to: str | None,
    settings: Settings,
    now: datetime,
) -> None:
    """Queue the notifications of a new handoff inside the caller's transaction.

    One ``webhook`` row (body: ``payload``) when ``HANDOFF_WEBHOOK_URL`` is set,
    one ``email`` row (``{"to": email_to, "handoff": payload}``) when
    ``SMTP_HOST`` is set and ``email_to`` is given; nothing otherwise.
    """
    enqueue_notifications(
        session,
        payload=payload,
        email_to=email_to,
        email_key=EMAIL_HANDOFF,
        settings=settings,
        now=now,
        handoff_id=handoff_id,
    )


def enqueue_notifications(
    session: Session,
    *,
    payload: Mapping[str, Any],
    email_to: str | None,
    email_key: str,
    settings: Settings,
    now: datetime,
    handoff_id: int | None = None,
) -> None:
    """Queue an event's notifications inside the caller's transaction.

    A ``webhook`` row (body: ``payload``) when ``HANDOFF_WEBHOOK_URL`` is set, an
    ``email`` row (``{"to": email_to, email_key: payload}``) when ``SMTP_HOST``
    is set and ``email_to`` is given; nothing otherwise.
    """
    now = aware_utc_now(now)
    rows = []
    if settings.handoff_webhook_url:
        rows.append((KIND_WEBHOOK, dict(payload)))
    if settings.smtp_host and email_to:
        rows.append((KIND_EMAIL, {"to": email_to, email_key: dict(payload)}))
    for kind, body in rows:
        session.add(
            Notification(
                handoff_id=handoff_id,
                kind=kind,
                payload=body,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    if rows:
        session.flush()


def retry_delay(failures: int, *, rng: Callable[[], float] = random.random) -> timedelta:
    """Wait after the ``failures``-th failed attempt: 30 s · 2^(failures-1), capped at 1 h, plus jitter."""
    if failures < 1:
        raise ValueError("failures must be >= 1")
    # The exponent is bounded so a row failing for months can't overflow.
    exponential = BASE_DELAY * 2 ** min(failures - 1, 20)
    return min(exponential, MAX_DELAY) * (1 + JITTER * rng())


def due_notifications(session_factory: sessionmaker, *, now: datetime, limit: int = 20) -> list[DueNotification]:
    """Claim up to ``limit`` undelivered notifications whose time has come, oldest due first.

    Claiming moves their ``next_attempt_at`` ``CLAIM_LEASE`` ahead in the same
    transaction, so a second worker (another server process) skips them; on
    PostgreSQL rows another worker is claiming right now are skipped too.
    Dead letters are never due.
    """
    if limit < 1:
        raise ValueError("limit must be >= 1")
    now = aware_utc_now(now)
    query = (
        select(Notification)
        .where(
            Notification.delivered_at.is_(None),
            Notification.failed_at.is_(None),
            Notification.next_attempt_at <= now,
        )
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    with session_factory() as s, s.begin():
        rows = s.execute(query).scalars().all()
        for row in rows:
            row.next_attempt_at = now + CLAIM_LEASE
        return [
            DueNotification(
                id=row.id, handoff_id=row.handoff_id, kind=row.kind, payload=row.payload, attempts=row.attempts
            )
            for row in rows
        ]


def mark_delivered(session_factory: sessionmaker, *, notification_id: int, now: datetime) -> None:
    """Record a successful delivery (the row stays, with ``delivered_at``)."""
    now = aware_utc_now(now)
    with session_factory() as s, s.begin():
        s.execute(
            update(Notification)
            .where(Notification.id == notification_id)
            .values(delivered_at=now, attempts=Notification.attempts + 1, last_error=None)
        )


def mark_failed(
    session_factory: sessionmaker,
    *,
    notification_id: int,
    error: str,
    now: datetime,
    max_attempts: int,
    rng: Callable[[], float] = random.random,
) -> datetime | None:
    """Record a failed attempt and schedule the next one; returns when it will be.

    The ``max_attempts``-th failure (counted since the row was queued or put
    back in the queue) makes it a dead letter instead: ``failed_at`` is set,
    it is not retried, and None is returned.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be >= 1")
    now = aware_utc_now(now)
    with session_factory() as s, s.begin():
        row = s.execute(select(Notification).where(Notification.id == notification_id)).scalar_one()
        row.attempts += 1
        row.last_error = error.replace("\x00", "\ufffd")[:MAX_ERROR_LENGTH]
        if row.attempts >= max_attempts:
            row.failed_at = now
            return None
        row.next_attempt_at = now + retry_delay(row.attempts, rng=rng)
        return row.next_attempt_at


def _dead_letters() -> Any:
    return (Notification.failed_at.is_not(None), Notification.delivered_at.is_(None))


def count_failed_notifications(session_factory: sessionmaker) -> int:
    """How many dead letters wait for an agent."""
    with session_factory() as s, s.begin():
        s.connection(execution_options=READ_ONLY_OPTIONS)
        return s.execute(select(func.count()).select_from(Notification).where(*_dead_letters())).scalar_one()


def list_failed_notifications(session_factory: sessionmaker, *, limit: int = 200) -> list[FailedNotification]:
    """The dead letters, most recently given up first, with their incident's ticket."""
    if limit < 1:
        raise ValueError("limit must be >= 1")
    query = (
        select(Notification, Incident.ticket)
        .join(Handoff, Handoff.id == Notification.handoff_id)
        .join(Incident, Incident.id == Handoff.incident_id)
        .where(*_dead_letters())
        .order_by(Notification.failed_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    with session_factory() as s, s.begin():
        s.connection(execution_options=READ_ONLY_OPTIONS)
        return [
            FailedNotification(
                id=row.id,
                kind=row.kind,
                ticket=ticket,
                email_to=row.payload.get("to") if row.kind == KIND_EMAIL else None,
                attempts=row.attempts,
                last_error=row.last_error,
                created_at=row.created_at,
                failed_at=row.failed_at,
            )
            for row, ticket in s.execute(query).all()
        ]


def requeue_notification(session_factory: sessionmaker, *, notification_id: int, actor: str, now: datetime) -> bool:
    """Put a dead letter back in the queue, due at once with a new set of attempts; False if it is not one.

    The incident's audit trail records who did it, after how many attempts
    and with which last error. A second click (or another agent's) finds the
    row already queued and changes nothing.
    """
    now = aware_utc_now(now)
    with session_factory() as s, s.begin():
        found = s.execute(
            select(Notification, Handoff.incident_id)
            .join(Handoff, Handoff.id == Notification.handoff_id)
            .where(Notification.id == notification_id, *_dead_letters())
            .with_for_update(of=Notification)
        ).one_or_none()
        if found is None:
            return False
        row, incident_id = found
        record_event(
            s,
            incident_id=incident_id,
            actor=actor,
            action=ACTION_NOTIFICATION_REQUEUED,
            detail={"notification_id": row.id, "kind": row.kind, "attempts": row.attempts, "error": row.last_error},
            at=now,
        )
        row.failed_at = None
        row.attempts = 0
        row.next_attempt_at = now
        return True
