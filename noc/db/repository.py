"""Incident repository: every function takes a session factory and keywords.

Ticket numbers
--------------
Tickets look like ``INC-<year>-<sequence>`` where ``<year>`` is the UTC year of
``created_at`` and ``<sequence>`` restarts at 000001 every year (zero-padded to
six digits; a seven-digit sequence would only appear past 999,999 tickets in a
year). The sequence lives in ``ticket_counters(year, last_value)`` and is
bumped in the same transaction that inserts the incident:

* the bump is ``UPDATE ... SET last_value = last_value + 1``, which row-locks
  the year's counter until commit, so concurrent openings queue behind each
  other and each reads back its own value. The first opening of a year inserts
  the row inside a SAVEPOINT; if a concurrent transaction inserted it first the
  unique key makes ours fail, the savepoint is rolled back and we fall back to
  the UPDATE (which then waits for the other transaction's lock).
* on SQLite the engine begins write transactions with ``BEGIN IMMEDIATE``
  (see ``db.make_engine``), so whole openings are serialised by the database
  lock and the busy timeout makes concurrent writers wait instead of failing.

A rolled-back opening also rolls back its bump, so numbers stay consecutive
(unlike a PostgreSQL sequence, which leaves gaps). The autoincrement id was not
used because it would not restart each year.

Change requests (``CHG-<year>-<sequence>``, ``noc/db/change_requests.py``)
use the same two functions: ``next_counter_value`` on ``change_counters`` and
``open_once`` for idempotency, and are read with the same ``normalize_number``,
``read_by_number`` and ``list_newest``.

Idempotency
-----------
``idempotency_key`` is unique in the database. ``open_once`` first looks
the key up; if two callers race past that check, the loser's INSERT fails on
the unique index (PostgreSQL makes it wait for the winner's commit first), its
transaction is rolled back and it returns the winner's ticket with
``created=False``.

Values
------
Free text is stored verbatim, except NUL characters, which PostgreSQL text
can't hold: they become U+FFFD on every backend so both store the same thing.
Values too long for a bounded column, unknown statuses or roles, unknown time
zones and naive datetimes raise ValueError before any transaction starts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from functools import partial
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import String, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from noc.db.db import READ_ONLY_OPTIONS
from noc.db.models import (
    INCIDENT_STATUSES,
    STATUS_ESCALATED,
    TRANSCRIPT_ROLES,
    ChangeCounter,
    Incident,
    TicketCounter,
    TranscriptMessage,
)

TICKET_PATTERN = re.compile(r"INC-\d{4}-\d{6,}")
# Anything longer can't be one of our tickets; checked before touching the DB.
_MAX_TICKET_LENGTH = 32

T = TypeVar("T")
# Per-year counter tables: same columns (year, last_value), one per kind of number.
CounterModel = type[TicketCounter] | type[ChangeCounter]

# Only a conversation handed to an agent mid-intake (status "derivado") may
# lack these; every other record has the whole checklist.
REQUIRED_UNLESS_HANDED_OFF = frozenset(
    {"company", "service_id", "contact_name", "contact_phone", "country", "symptom", "severity"}
)


@dataclass(frozen=True)
class TranscriptEntry:
    role: str
    text: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class NewIncident:
    idempotency_key: str
    status: str
    company: str | None
    service_id: str | None
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None
    country: str | None
    region: str | None
    symptom: str | None
    symptom_kind: str | None
    started_at: datetime | None
    timezone: str
    started_text: str | None
    power_ok: bool | None
    rebooted: bool | None
    problem_persists: bool | None
    severity: int | None
    severity_reason: str | None
    channel: str
    sender_id: str | None
    escalation_level: int = 1
    transcript: tuple[TranscriptEntry, ...] = ()


@dataclass(frozen=True)
class OpenResult:
    ticket: str
    created: bool


def format_ticket(*, year: int, number: int) -> str:
    return f"INC-{year:04d}-{number:06d}"


def _storable(value: T) -> T:
    # PostgreSQL text cannot hold NUL characters; replace them on every
    # backend so SQLite and PostgreSQL store the same thing.
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    return value


def _is_aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


def validate_incident(incident: NewIncident) -> None:
    """Reject values the schema would refuse, before any transaction starts.

    Raising ValueError here keeps bad input from turning into backend-specific
    DataErrors (PostgreSQL enforces VARCHAR lengths, SQLite doesn't).
    """
    if not incident.idempotency_key:
        raise ValueError("idempotency_key must not be empty")
    if incident.status not in INCIDENT_STATUSES:
        raise ValueError(f"unknown status {incident.status!r}")
    if incident.started_at is not None and not _is_aware(incident.started_at):
        raise ValueError("started_at must be timezone-aware")
    try:
        ZoneInfo(incident.timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown IANA time zone {incident.timezone!r}") from exc
    if incident.escalation_level < 1:
        raise ValueError("escalation_level must be >= 1")
    for column in Incident.__table__.columns:
        value = getattr(incident, column.name, None)
        limit = column.type.length if isinstance(column.type, String) else None
        if isinstance(value, str) and limit and len(value) > limit:
            raise ValueError(f"{column.name} longer than {limit} characters")
        required = not column.nullable or (
            incident.status != STATUS_ESCALATED and column.name in REQUIRED_UNLESS_HANDED_OFF
        )
        if value is None and required and column.name in NewIncident.__dataclass_fields__:
            raise ValueError(f"{column.name} is required")
    for entry in incident.transcript:
        if not isinstance(entry.text, str):
            raise ValueError("transcript text must be a string")
        if entry.role not in TRANSCRIPT_ROLES:
            raise ValueError(f"unknown transcript role {entry.role!r}")
        if not _is_aware(entry.at):
            raise ValueError("transcript timestamps must be timezone-aware")


def next_counter_value(session: Session, *, counter: CounterModel, year: int) -> int:
    """Bump ``counter``'s row for ``year`` inside the caller's transaction and return the new value.

    Shared by incident tickets and change-request numbers (see the module
    docstring for why this is safe under concurrency on both backends).
    """
    bump = (
        update(counter)
        .where(counter.year == year)
        .values(last_value=counter.last_value + 1)
        .execution_options(synchronize_session=False)
    )
    if session.execute(bump).rowcount == 0:
        try:
            with session.begin_nested():
                session.execute(insert(counter).values(year=year, last_value=1))
            return 1
        except IntegrityError:
            # Another transaction created this year's counter first.
            session.execute(bump)
    return session.execute(select(counter.last_value).where(counter.year == year)).scalar_one()


def _next_ticket_number(session: Session, *, year: int) -> int:
    return next_counter_value(session, counter=TicketCounter, year=year)


def _number_for_key(
    session_factory: sessionmaker, *, key_column: Any, number_column: Any, idempotency_key: str
) -> str | None:
    with session_factory() as s, s.begin():
        s.connection(execution_options=READ_ONLY_OPTIONS)
        return s.execute(select(number_column).where(key_column == idempotency_key)).scalar_one_or_none()


def open_once(
    session_factory: sessionmaker,
    *,
    key_column: Any,
    number_column: Any,
    idempotency_key: str,
    create: Callable[[Session], str],
) -> tuple[str, bool]:
    """Run ``create`` (which numbers and adds a row) at most once per idempotency key.

    ``key_column`` and ``number_column`` are the model's unique key and number
    columns (e.g. ``Incident.idempotency_key``, ``Incident.ticket``). Returns
    ``(number, True)`` when ``create`` ran and committed, or the number already
    stored under the key with ``False``.
    """
    lookup = partial(
        _number_for_key,
        session_factory,
        key_column=key_column,
        number_column=number_column,
        idempotency_key=idempotency_key,
    )
    # Cheap read first so retries don't take SQLite's write lock.
    existing = lookup()
    if existing is not None:
        return existing, False

    try:
        with session_factory() as s, s.begin():
            # Checked again inside the write transaction: on SQLite nobody can
            # have slipped in since BEGIN IMMEDIATE; on PostgreSQL the unique
            # index on the key is what settles a race.
            existing = s.execute(select(number_column).where(key_column == idempotency_key)).scalar_one_or_none()
            if existing is not None:
                return existing, False
            number = create(s)
            s.flush()
        return number, True
    except IntegrityError:
        existing = lookup()
        if existing is None:
            raise
        return existing, False


def aware_utc_now(now: datetime | None) -> datetime:
    """``now`` (default: the current time) in UTC; ValueError when it is naive."""
    if now is None:
        return datetime.now(timezone.utc)
    if not _is_aware(now):
        raise ValueError("now must be timezone-aware")
    return now.astimezone(timezone.utc)


def column_values(incident: NewIncident) -> dict[str, Any]:
    values = {
        field.name: _storable(getattr(incident, field.name))
        for field in fields(NewIncident)
        if field.name != "transcript"
    }
    if values["country"]:
        values["country"] = values["country"].upper()
    return values


def transcript_rows(incident: NewIncident) -> list[TranscriptMessage]:
    return [
        TranscriptMessage(position=position, role=entry.role, text=_storable(entry.text), at=entry.at)
        for position, entry in enumerate(incident.transcript)
    ]


def _complete_partial(session_factory: sessionmaker, *, incident: NewIncident, now: datetime) -> str | None:
    """Fill in the partial record a handoff stored for this intake, if there is one.

    A customer handed to an agent mid-intake and then handed back may finish
    the intake: the confirmed data goes into the same record (same ticket),
    which the agents already know.
    """
    with session_factory() as s, s.begin():
        row = s.execute(
            select(Incident)
            .where(Incident.idempotency_key == incident.idempotency_key)
            .options(selectinload(Incident.transcript))
            .with_for_update()
        ).scalar_one_or_none()
        if row is None or row.status != STATUS_ESCALATED:
            return None
        for name, value in column_values(incident).items():
            setattr(row, name, value)
        row.updated_at = now
        # Old rows go first: the new ones reuse their (incident_id, position) keys.
        row.transcript.clear()
        s.flush()
        row.transcript.extend(transcript_rows(incident))
        s.flush()
        return row.ticket


def open_incident(
    session_factory: sessionmaker,
    *,
    incident: NewIncident,
    now: datetime | None = None,
) -> OpenResult:
    """Store a confirmed incident and give it a ticket, at most once per key.

    Returns the new ticket with ``created=True``, or the ticket already
    stored under ``incident.idempotency_key`` with ``created=False``.
    Raises ValueError for values the schema can't hold.
    """
    now = aware_utc_now(now)
    validate_incident(incident)
    if incident.status != STATUS_ESCALATED:
        completed = _complete_partial(session_factory, incident=incident, now=now)
        if completed is not None:
            return OpenResult(ticket=completed, created=True)

    def create(s: Session) -> str:
        ticket = format_ticket(year=now.year, number=_next_ticket_number(s, year=now.year))
        s.add(
            Incident(
                **column_values(incident),
                ticket=ticket,
                created_at=now,
                updated_at=now,
                transcript=transcript_rows(incident),
            )
        )
        return ticket

    ticket, created = open_once(
        session_factory,
        key_column=Incident.idempotency_key,
        number_column=Incident.ticket,
        idempotency_key=incident.idempotency_key,
        create=create,
    )
    return OpenResult(ticket=ticket, created=created)


def _iso_utc(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(timezone.utc).isoformat()


def _iso_in_zone(value: datetime | None, zone_name: str) -> str | None:
    if value is None:
        return None
    try:
        zone: Any = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        # Only reachable if the tz database lost a zone since the row was written.
        zone = timezone.utc
    return value.astimezone(zone).isoformat()


def _to_dict(row: Incident, *, with_transcript: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ticket": row.ticket,
        "status": row.status,
        "company": row.company,
        "service_id": row.service_id,
        "contact_name": row.contact_name,
        "contact_phone": row.contact_phone,
        "contact_email": row.contact_email,
        "country": row.country,
        "region": row.region,
        "symptom": row.symptom,
        "symptom_kind": row.symptom_kind,
        "started_at": _iso_in_zone(row.started_at, row.timezone),
        "timezone": row.timezone,
        "started_text": row.started_text,
        "power_ok": row.power_ok,
        "rebooted": row.rebooted,
        "problem_persists": row.problem_persists,
        "severity": row.severity,
        "severity_reason": row.severity_reason,
        "escalation_level": row.escalation_level,
        "channel": row.channel,
        "sender_id": row.sender_id,
        "created_at": _iso_utc(row.created_at),
        "updated_at": _iso_utc(row.updated_at),
        "assigned_agent_id": row.assigned_agent_id,
        "last_escalated_at": _iso_utc(row.last_escalated_at),
        "last_agent_update_at": _iso_utc(row.last_agent_update_at),
    }
    if with_transcript:
        data["transcript"] = [
            {"role": message.role, "text": message.text, "at": _iso_utc(message.at)}
            for message in row.transcript
        ]
    return data


# --- reading by number, and newest first (incidents and change requests) ----


def normalize_number(value: str, *, pattern: re.Pattern[str], max_length: int) -> str | None:
    """Canonical (upper-case) form of a ticket or change number, or None if ``value`` can't be one.

    The length is checked first so hostile input never reaches the regex or the database.
    """
    if not isinstance(value, str) or len(value) > max_length:
        return None
    candidate = value.strip().upper()
    return candidate if pattern.fullmatch(candidate) else None


def read_by_number(
    session_factory: sessionmaker,
    *,
    number_column: Any,
    number: str | None,
    to_dict: Callable[[Any], T],
    options: Sequence[Any] = (),
) -> T | None:
    """``to_dict`` of the row whose ``number_column`` equals the canonical ``number`` (None: nothing to find).

    ``to_dict`` runs inside the read-only transaction, so it may load more
    (``Session.object_session(row)``) consistently with the row.
    """
    if number is None:
        return None
    with session_factory() as s, s.begin():
        s.connection(execution_options=READ_ONLY_OPTIONS)
        row = s.execute(
            select(number_column.class_).where(number_column == number).options(*options)
        ).scalar_one_or_none()
        return None if row is None else to_dict(row)


def equal_to(*pairs: tuple[Any, Any]) -> list[Any]:
    """``column == value`` for each ``(column, value)`` whose value is not None (an unset filter)."""
    return [column == value for column, value in pairs if value is not None]


def list_newest(
    session_factory: sessionmaker,
    *,
    model: Any,
    to_dict: Callable[[Any], T],
    where: Sequence[Any] = (),
    limit: int,
    offset: int = 0,
) -> list[T]:
    """``to_dict`` of ``model``'s rows matching all of ``where``, newest first (ties: latest id first)."""
    if limit < 1 or offset < 0:
        raise ValueError("limit must be >= 1 and offset >= 0")
    query = (
        select(model)
        .where(*where)
        .order_by(model.created_at.desc(), model.id.desc())
        .limit(limit)
        .offset(offset)
    )
    with session_factory() as s, s.begin():
        s.connection(execution_options=READ_ONLY_OPTIONS)
        return [to_dict(row) for row in s.execute(query).scalars()]


def normalize_ticket(ticket: str) -> str | None:
    """Canonical (upper-case) form of ``ticket``, or None if it can't be one."""
    return normalize_number(ticket, pattern=TICKET_PATTERN, max_length=_MAX_TICKET_LENGTH)


def get_incident(session_factory: sessionmaker, *, ticket: str) -> dict[str, Any] | None:
    """The incident with this ticket (any letter case) as a JSON-ready dict, with transcript."""
    return read_by_number(
        session_factory,
        number_column=Incident.ticket,
        number=normalize_ticket(ticket),
        to_dict=partial(_to_dict, with_transcript=True),
        options=(selectinload(Incident.transcript),),
    )


def list_incidents(
    session_factory: sessionmaker,
    *,
    sender_id: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Incidents newest first, optionally filtered, without transcripts."""
    return list_newest(
        session_factory,
        model=Incident,
        to_dict=partial(_to_dict, with_transcript=False),
        where=equal_to((Incident.sender_id, sender_id), (Incident.status, status)),
        limit=limit,
    )
