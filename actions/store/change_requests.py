"""Change requests ("Solicitudes de cambio"): storing, numbering, reading.

Numbers look like ``CHG-<year>-<6 digits>``: the UTC year of ``created_at``
and a sequence that restarts every year, from ``change_counters``. Numbering
and idempotency follow the incident tickets exactly (the same functions,
``next_counter_value`` and ``open_once`` in ``actions.store.repository``):
consecutive and unique under concurrency on SQLite and PostgreSQL, and the
same idempotency key twice gives the first request back. The audit event
``change_request_opened`` (actor ``bot``) is written in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, select
from sqlalchemy.orm import Session, sessionmaker

from actions.store.audit import record_event
from actions.store.db import READ_ONLY_OPTIONS
from actions.store.models import CHANGE_STATUS_REGISTERED, CHANGE_TYPES, ChangeCounter, ChangeRequest
from actions.store.repository import _is_aware, _iso_utc, _storable, aware_utc_now, next_counter_value, open_once

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
    if not isinstance(number, str) or len(number) > _MAX_NUMBER_LENGTH:
        return None
    candidate = number.strip().upper()
    return candidate if NUMBER_PATTERN.fullmatch(candidate) else None


def get_change_request(session_factory: sessionmaker, *, number: str) -> dict[str, Any] | None:
    """The change request with this number (any letter case) as a JSON-ready dict."""
    canonical = normalize_change_number(number)
    if canonical is None:
        return None
    with session_factory() as s, s.begin():
        s.connection(execution_options=READ_ONLY_OPTIONS)
        row = s.execute(select(ChangeRequest).where(ChangeRequest.number == canonical)).scalar_one_or_none()
        return None if row is None else _to_dict(row)


def list_change_requests(
    session_factory: sessionmaker,
    *,
    sender_id: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Change requests newest first, optionally only one conversation's."""
    if limit < 1:
        raise ValueError("limit must be >= 1")
    query = select(ChangeRequest)
    if sender_id is not None:
        query = query.where(ChangeRequest.sender_id == sender_id)
    query = query.order_by(ChangeRequest.created_at.desc(), ChangeRequest.id.desc()).limit(limit)
    with session_factory() as s, s.begin():
        s.connection(execution_options=READ_ONLY_OPTIONS)
        return [_to_dict(row) for row in s.execute(query).scalars()]
