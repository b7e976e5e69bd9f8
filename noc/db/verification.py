"""Failed chat verifications of a ticket, and the lock too many of them set.

A conversation that does not own a ticket proves it by giving the ticket's
service ID and contact e-mail (``actions.ticket_forms``). Its three tries
start over when the customer asks again or writes from a new sender id, so
the tries are also counted here, per ticket and in the database: across
conversations, channels, restarts and servers. ``limit.failures`` failures
within ``limit.window`` lock the ticket's chat verification for
``limit.lock_for``; the failure that locks it records an audit event and
queues the agents' notice in the same transaction, so they hear of each lock
once. Failures before the end of a lock do not count towards the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from noc.db.audit import record_event
from noc.db.db import READ_ONLY_OPTIONS
from noc.db.models import Incident, VerificationFailure
from noc.db.repository import aware_utc_now, normalize_ticket
from noc.domain.conversation import SMS, WHATSAPP
from noc.settings import Settings

LOCK_ACTION = "verification_locked"
LOCK_ACTOR = "bot"
PHONE_PREFIXES = (f"{SMS}:", f"{WHATSAPP}:")
# Phone numbers named in the audit event and the notice (the latest ones).
NAMED_PHONES = 10


@dataclass(frozen=True)
class VerificationLimit:
    failures: int
    window: timedelta
    lock_for: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> VerificationLimit:
        return cls(
            failures=settings.verify_failures_per_ticket,
            window=timedelta(minutes=settings.verify_failure_window_minutes),
            lock_for=timedelta(minutes=settings.verify_lock_minutes),
        )


@dataclass(frozen=True)
class VerificationLock:
    """A lock just set: what the audit trail and the agents' notice say."""

    ticket: str
    failures: int
    window: timedelta
    locked_at: datetime
    locked_until: datetime
    # How many conversations failed, and the SMS/WhatsApp ones among them
    # ("sms:+57...", latest first). Other sender ids are never named: a REST or
    # widget sender id is the key to its conversation (docs/threat_model.md).
    conversations: int
    phone_senders: tuple[str, ...]


@dataclass(frozen=True)
class FailureOutcome:
    # When the ticket's verification opens again; None while it is not locked.
    locked_until: datetime | None
    # This failure set the lock (and queued the agents' notice).
    newly_locked: bool


# Called inside the transaction that sets a lock, with the session and the
# incident row, to queue the agents' notice in the same unit of work.
LockHook = Callable[[Session, Incident, VerificationLock], None]


def _locked_until(row: Incident, now: datetime) -> datetime | None:
    until = row.verification_locked_until
    return until if until is not None and until > now else None


def verification_locked_until(
    session_factory: sessionmaker, *, ticket: str, now: datetime | None = None
) -> datetime | None:
    """Until when the ticket's chat verification is locked; None when it is open (or there is no such ticket)."""
    canonical = normalize_ticket(ticket) if isinstance(ticket, str) else None
    if canonical is None:
        return None
    now = aware_utc_now(now)
    with session_factory() as s, s.begin():
        s.connection(execution_options=READ_ONLY_OPTIONS)
        row = s.execute(select(Incident).where(Incident.ticket == canonical)).scalar_one_or_none()
        return _locked_until(row, now) if row is not None else None


def record_verification_failure(
    session_factory: sessionmaker,
    *,
    ticket: str,
    sender_id: str,
    limit: VerificationLimit,
    on_lock: LockHook | None = None,
    now: datetime | None = None,
) -> FailureOutcome | None:
    """Count a failed verification of ``ticket`` by ``sender_id``; lock the ticket when it is one too many.

    None when there is no such ticket.
    """
    canonical = normalize_ticket(ticket) if isinstance(ticket, str) else None
    if canonical is None:
        return None
    now = aware_utc_now(now)
    with session_factory() as s, s.begin():
        # FOR UPDATE on PostgreSQL (SQLite's BEGIN IMMEDIATE already serialises
        # writers): two failures at once on two servers count one after the
        # other, so exactly one of them sets the lock and notifies.
        row = s.execute(select(Incident).where(Incident.ticket == canonical).with_for_update()).scalar_one_or_none()
        if row is None:
            return None
        s.add(VerificationFailure(incident_id=row.id, sender_id=sender_id[:255], at=now))
        s.flush()
        current = _locked_until(row, now)
        if current is not None:
            return FailureOutcome(locked_until=current, newly_locked=False)
        since = now - limit.window
        if row.verification_locked_until is not None:
            since = max(since, row.verification_locked_until)
        recent = (VerificationFailure.incident_id == row.id, VerificationFailure.at >= since)
        count = s.execute(select(func.count()).select_from(VerificationFailure).where(*recent)).scalar_one()
        if count < limit.failures:
            return FailureOutcome(locked_until=None, newly_locked=False)
        senders = (
            s.execute(
                select(VerificationFailure.sender_id)
                .where(*recent)
                .group_by(VerificationFailure.sender_id)
                .order_by(func.max(VerificationFailure.at).desc())
            )
            .scalars()
            .all()
        )
        lock = VerificationLock(
            ticket=row.ticket,
            failures=count,
            window=limit.window,
            locked_at=now,
            locked_until=now + limit.lock_for,
            conversations=len(senders),
            phone_senders=tuple(sender for sender in senders if sender.startswith(PHONE_PREFIXES))[:NAMED_PHONES],
        )
        row.verification_locked_until = lock.locked_until
        record_event(
            s,
            incident_id=row.id,
            actor=LOCK_ACTOR,
            action=LOCK_ACTION,
            detail={
                "failures": lock.failures,
                "locked_until": lock.locked_until.isoformat(),
                "conversations": lock.conversations,
                "phone_senders": list(lock.phone_senders),
            },
            at=now,
        )
        if on_lock is not None:
            on_lock(s, row, lock)
        return FailureOutcome(locked_until=lock.locked_until, newly_locked=True)
