"""noc.db.verification on SQLite and PostgreSQL: failed proofs counted per ticket, one lock, one notice."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from threading import Barrier

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from noc.db import retention
from noc.db.models import AuditEvent, Incident, VerificationFailure
from noc.db.repository import open_incident
from noc.db.verification import (
    LOCK_ACTION,
    VerificationLimit,
    VerificationLock,
    record_verification_failure,
    verification_locked_until,
)
from tests.store.test_repository import make_incident

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=timezone.utc)
LIMIT = VerificationLimit(failures=3, window=timedelta(hours=1), lock_for=timedelta(hours=2))


class Notices:
    """The on_lock hook: what the agents would be told, in the lock's transaction."""

    def __init__(self) -> None:
        self.locks: list[VerificationLock] = []

    def __call__(self, session: Session, incident: Incident, lock: VerificationLock) -> None:
        assert session.in_transaction() and incident.ticket == lock.ticket
        self.locks.append(lock)


def fail(factory: sessionmaker, ticket: str, sender: str, at: datetime, notices: Notices | None = None):
    return record_verification_failure(factory, ticket=ticket, sender_id=sender, limit=LIMIT, on_lock=notices, now=at)


def audit_locks(factory: sessionmaker) -> list[dict]:
    with factory() as s:
        return [e.detail for e in s.execute(select(AuditEvent).where(AuditEvent.action == LOCK_ACTION)).scalars()]


def test_failures_from_several_conversations_lock_the_ticket_once(session_factory: sessionmaker) -> None:
    ticket = open_incident(session_factory, incident=make_incident("k1"), now=NOW - timedelta(days=1)).ticket
    notices = Notices()
    senders = ["rest-a", "whatsapp:+573001112233", "web-3f2a"]
    outcomes = [
        fail(session_factory, ticket.lower(), sender, NOW + timedelta(minutes=i), notices)
        for i, sender in enumerate(senders)
    ]
    assert [o.newly_locked for o in outcomes] == [False, False, True]
    assert [o.locked_until for o in outcomes[:2]] == [None, None]
    until = NOW + timedelta(minutes=2) + LIMIT.lock_for
    assert outcomes[2].locked_until == until
    # Locked: more failures are recorded but lock nothing new and notify no one.
    again = fail(session_factory, ticket, "rest-d", NOW + timedelta(minutes=5), notices)
    assert again is not None and (again.locked_until, again.newly_locked) == (until, False)
    assert len(notices.locks) == 1
    lock = notices.locks[0]
    assert (lock.failures, lock.conversations) == (3, 3)
    # Only the phone number is named: the other sender ids are keys to their conversations.
    assert lock.phone_senders == ("whatsapp:+573001112233",)
    assert audit_locks(session_factory) == [
        {
            "failures": 3,
            "locked_until": until.isoformat(),
            "conversations": 3,
            "phone_senders": ["whatsapp:+573001112233"],
        }
    ]
    assert verification_locked_until(session_factory, ticket=ticket, now=NOW + timedelta(hours=1)) == until
    assert verification_locked_until(session_factory, ticket=ticket, now=until) is None


def test_only_failures_within_the_window_count(session_factory: sessionmaker) -> None:
    ticket = open_incident(session_factory, incident=make_incident("k1"), now=NOW - timedelta(days=1)).ticket
    fail(session_factory, ticket, "a", NOW - timedelta(hours=3))
    fail(session_factory, ticket, "a", NOW - timedelta(minutes=61))
    outcome = fail(session_factory, ticket, "b", NOW)
    assert outcome is not None and outcome.locked_until is None
    assert fail(session_factory, ticket, "c", NOW + timedelta(minutes=1)).locked_until is None
    assert fail(session_factory, ticket, "c", NOW + timedelta(minutes=2)).newly_locked


def test_after_a_lock_the_count_starts_again(session_factory: sessionmaker) -> None:
    ticket = open_incident(session_factory, incident=make_incident("k1"), now=NOW - timedelta(days=1)).ticket
    notices = Notices()
    for minute in range(3):
        fail(session_factory, ticket, "a", NOW + timedelta(minutes=minute), notices)
    until = NOW + timedelta(minutes=2) + LIMIT.lock_for
    # The failures that set the lock, and those during it, are within an hour of
    # its end but do not count again: one failure after it does not re-lock.
    fail(session_factory, ticket, "a", until - timedelta(minutes=1), notices)
    assert fail(session_factory, ticket, "a", until + timedelta(minutes=1), notices).locked_until is None
    fail(session_factory, ticket, "a", until + timedelta(minutes=2), notices)
    assert fail(session_factory, ticket, "a", until + timedelta(minutes=3), notices).newly_locked
    assert len(notices.locks) == 2 and len(audit_locks(session_factory)) == 2


def test_tickets_are_counted_apart_and_unknown_ones_not_at_all(session_factory: sessionmaker) -> None:
    first = open_incident(session_factory, incident=make_incident("k1"), now=NOW).ticket
    second = open_incident(session_factory, incident=make_incident("k2"), now=NOW).ticket
    for minute in range(2):
        fail(session_factory, first, "a", NOW + timedelta(minutes=minute))
    assert not fail(session_factory, second, "a", NOW + timedelta(minutes=3)).newly_locked
    assert fail(session_factory, "INC-2026-999999", "a", NOW) is None
    assert verification_locked_until(session_factory, ticket="INC-2026-999999") is None
    assert verification_locked_until(session_factory, ticket="no es un ticket") is None


def test_simultaneous_failures_on_several_servers_lock_and_notify_once(
    session_factory: sessionmaker, engine: Engine
) -> None:
    ticket = open_incident(session_factory, incident=make_incident("k1"), now=NOW).ticket
    notices = Notices()

    # Counting takes a while, so that the transactions overlap where they would race.
    @event.listens_for(engine, "before_cursor_execute")
    def slow_count(*args: object) -> None:
        if "count(" in str(args[2]).lower():
            time.sleep(0.05)

    tries = 8
    start = Barrier(tries)

    def one(index: int):
        start.wait()
        return fail(session_factory, ticket, f"sender-{index}", NOW + timedelta(seconds=1), notices)

    with ThreadPoolExecutor(tries) as pool:
        outcomes = list(pool.map(one, range(tries)))
    assert sum(outcome.newly_locked for outcome in outcomes) == 1
    assert sum(outcome.locked_until is None for outcome in outcomes) == LIMIT.failures - 1
    assert len(notices.locks) == 1 and len(audit_locks(session_factory)) == 1


def test_retention_deletes_old_failures(session_factory: sessionmaker) -> None:
    ticket = open_incident(session_factory, incident=make_incident("k1"), now=NOW - timedelta(days=60)).ticket
    fail(session_factory, ticket, "whatsapp:+573001112233", NOW - timedelta(days=40))
    fail(session_factory, ticket, "whatsapp:+573001112233", NOW - timedelta(days=5))
    report = retention.purge(session_factory, days=30, now=NOW)
    assert report.verification_failures == 1
    with session_factory() as s:
        assert s.execute(select(func.count()).select_from(VerificationFailure)).scalar_one() == 1
