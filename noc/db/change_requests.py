"""Change requests ("Solicitudes de cambio"): storing, numbering, reading.

Numbers look like ``CHG-<year>-<6 digits>``: the UTC year of ``created_at``
and a sequence that restarts every year, from ``change_counters``. Numbering
and idempotency follow the incident tickets exactly (the same functions,
``next_counter_value`` and ``open_once`` in ``noc.db.repository``):
consecutive and unique under concurrency on SQLite and PostgreSQL, and the
same idempotency key twice gives the first request back. The audit event
``change_request_opened`` (actor ``bot``) is written in the same transaction.
Reads share ``read_by_number`` and ``list_newest`` with the incidents too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from noc.db.audit import record_event
from noc.db.incident_admin import LIKE_ESCAPE, escape_like
from noc.db.models import CHANGE_STATUS_REGISTERED, CHANGE_TYPES, AuditEvent, ChangeCounter, ChangeRequest
from noc.db.repository import (
    _is_aware,
    _iso_utc,
    _storable,
    aware_utc_now,
    equal_to,
    list_newest,
    next_counter_value,
    normalize_number,
    open_once,
    read_by_number,
)

NUMBER_PATTERN = re.compile(r"CHG-\d{4}-\d{6,}")
_MAX_NUMBER_LENGTH = ChangeRequest.__table__.c.number.type.length
OPENED_ACTION = "change_request_opened"
BOT_ACTOR = "bot"
_REQUIRED_TEXT = ("idempotency_key", "company", "service_id", "contact_name", "description", "channel")


@dataclass(frozen=True, kw_only=True)
class NewChangeRequest:
    idempotency_key: str
    company: str
    service_id: str
    contact_name: str
    contact_phone: str | None
    contact_email: str | None
    country: str | None
    region: str | None
    description: str
    change_type: str
    desired_date: date | None
    earliest_at: datetime
    channel: str
    sender_id: str | None
    # Why the type was chosen (ChangeClass.reason); kept in the audit event.
    reason: str | None = None


@dataclass(frozen=True)
class OpenedChange:
    number: str
    created: bool


def format_change_number(*, year: int, number: int) -> str:
    return f"CHG-{year:04d}-{number:06d}"


def _validate(request: NewChangeRequest) -> None:
    """Reject what the schema would refuse, before any transaction starts."""
    for name in _REQUIRED_TEXT:
        value = getattr(request, name)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} is required")
    if request.change_type not in CHANGE_TYPES:
        raise ValueError(f"unknown change_type {request.change_type!r}")
    if request.desired_date is not None and (
        not isinstance(request.desired_date, date) or isinstance(request.desired_date, datetime)
    ):
        raise ValueError("desired_date must be a date")
    if not _is_aware(request.earliest_at):
        raise ValueError("earliest_at must be timezone-aware")
    for column in ChangeRequest.__table__.columns:
        value = getattr(request, column.name, None)
        limit = column.type.length if isinstance(column.type, String) else None
        if isinstance(value, str) and limit and len(value) > limit:
            raise ValueError(f"{column.name} longer than {limit} characters")


def _row_values(request: NewChangeRequest) -> dict[str, Any]:
    values = {field.name: _storable(getattr(request, field.name)) for field in fields(NewChangeRequest)}
    del values["reason"]
    if values["country"]:
        values["country"] = values["country"].upper()
    return values


def open_change_request(
    session_factory: sessionmaker,
    *,
    request: NewChangeRequest,
    now: datetime | None = None,
) -> OpenedChange:
    """Store a change request and number it, at most once per idempotency key.

    Returns the new number with ``created=True``, or the number already stored
    under ``request.idempotency_key`` with ``created=False``. Raises ValueError
    for values the schema can't hold.
    """
    now = aware_utc_now(now)
    _validate(request)

    def create(s: Session) -> str:
        number = format_change_number(
            year=now.year, number=next_counter_value(s, counter=ChangeCounter, year=now.year)
        )
        row = ChangeRequest(**_row_values(request), number=number, status=CHANGE_STATUS_REGISTERED, created_at=now)
        s.add(row)
        s.flush()
        record_event(
            s,
            change_request_id=row.id,
            actor=BOT_ACTOR,
            action=OPENED_ACTION,
            detail={
                "number": number,
                "change_type": request.change_type,
                "reason": _storable(request.reason),
                "desired_date": _iso_date(request.desired_date),
                "earliest_at": _iso_utc(request.earliest_at),
                "channel": request.channel,
            },
            at=now,
        )
        return number

    number, created = open_once(
        session_factory,
        key_column=ChangeRequest.idempotency_key,
        number_column=ChangeRequest.number,
        idempotency_key=request.idempotency_key,
        create=create,
    )
    return OpenedChange(number=number, created=created)


def _iso_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _to_dict(row: ChangeRequest) -> dict[str, Any]:
    return {
        "number": row.number,
        "status": row.status,
        "company": row.company,
        "service_id": row.service_id,
        "contact_name": row.contact_name,
        "contact_phone": row.contact_phone,
        "contact_email": row.contact_email,
        "country": row.country,
        "region": row.region,
        "description": row.description,
        "change_type": row.change_type,
        "desired_date": _iso_date(row.desired_date),
        "earliest_at": _iso_utc(row.earliest_at),
        "channel": row.channel,
        "sender_id": row.sender_id,
        "created_at": _iso_utc(row.created_at),
    }


def normalize_change_number(number: str) -> str | None:
    """Canonical (upper-case) form of ``number``, or None if it can't be one."""
    return normalize_number(number, pattern=NUMBER_PATTERN, max_length=_MAX_NUMBER_LENGTH)


def _event_dict(event: AuditEvent) -> dict[str, Any]:
    fields_as_stored = {name: getattr(event, name) for name in ("id", "actor", "action", "detail")}
    return {**fields_as_stored, "at": _iso_utc(event.at)}


def _with_events(row: ChangeRequest) -> dict[str, Any]:
    # Read in the row's own transaction: the trail matches the record shown.
    events = Session.object_session(row).execute(
        select(AuditEvent).where(AuditEvent.change_request_id == row.id).order_by(AuditEvent.at, AuditEvent.id)
    )
    return {**_to_dict(row), "events": [_event_dict(event) for event in events.scalars()]}


def get_change_request(
    session_factory: sessionmaker, *, number: str, with_events: bool = False
) -> dict[str, Any] | None:
    """The change request with this number (any letter case) as a JSON-ready dict.

    ``with_events`` adds ``events``: its audit trail, oldest first.
    """
    return read_by_number(
        session_factory,
        number_column=ChangeRequest.number,
        number=normalize_change_number(number),
        to_dict=_with_events if with_events else _to_dict,
    )


def _matches_text(query: str | None) -> list[Any]:
    """Part of the number, company or service ID, in any letter case (``%`` and ``_`` taken literally)."""
    if not query or not query.strip():
        return []
    # lower() on both sides in SQL: SQLite's ASCII-only lower() must fold the
    # pattern exactly as it folds the columns.
    pattern = func.lower(f"%{escape_like(query.strip())}%")
    columns = (ChangeRequest.number, ChangeRequest.company, ChangeRequest.service_id)
    return [or_(*(func.lower(column).like(pattern, escape=LIKE_ESCAPE) for column in columns))]


def list_change_requests(
    session_factory: sessionmaker,
    *,
    sender_id: str | None = None,
    change_type: str | None = None,
    query: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Change requests newest first, optionally one conversation's, of one type, or matching ``query``."""
    return list_newest(
        session_factory,
        model=ChangeRequest,
        to_dict=_to_dict,
        where=equal_to((ChangeRequest.sender_id, sender_id), (ChangeRequest.change_type, change_type))
        + _matches_text(query),
        limit=limit,
        offset=offset,
    )
