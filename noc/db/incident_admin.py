"""What agents do to incidents from the console and the API.

Searching, taking an incident, changing its status, updating its handoff and
noting replies. Each change is one unit of work that also writes its audit
event, so the trail never misses or invents a change. Tickets are accepted in
any letter case; an unknown one raises ``UnknownTicket``.

Search is case-insensitive through SQL ``lower()``, which SQLite applies to
ASCII letters only ("ó" does not match "Ó" there; PostgreSQL folds both).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from noc.db.audit import agent_actor, record_event, utc_moment
from noc.db.db import READ_ONLY_OPTIONS
from noc.db.models import (
    HANDOFF_PENDING,
    HANDOFF_STATUSES,
    HANDOFF_TAKEN,
    INCIDENT_STATUSES,
    STATUS_CLOSED,
    STATUS_ESCALATED,
    STATUS_IN_PROGRESS,
    STATUS_OPEN,
    STATUS_RESOLVED,
    Agent,
    Handoff,
    Incident,
    TranscriptMessage,
)
from noc.db.repository import normalize_ticket

OPEN_HANDOFF_STATUSES: tuple[str, ...] = (HANDOFF_PENDING, HANDOFF_TAKEN)
# Statuses an agent may set from the console ("resuelto_primer_contacto" is the bot's own).
CONSOLE_STATUSES: tuple[str, ...] = (STATUS_OPEN, STATUS_IN_PROGRESS, STATUS_ESCALATED, STATUS_RESOLVED, STATUS_CLOSED)

# Audit actions written here.
ACTION_ASSIGNED = "assigned"
ACTION_STATUS_CHANGED = "status_changed"
ACTION_HANDOFF_STATUS = "handoff_status"
ACTION_AGENT_REPLY = "agent_reply"

# How far back the live conversation of an incident without a stored
# transcript is read (a handed-off intake may have been opened mid-conversation).
CONVERSATION_LOOKBACK = timedelta(hours=6)
LIKE_ESCAPE = "\\"


class UnknownTicket(LookupError):
    """No incident has this ticket."""


@dataclass(frozen=True)
class HandoffState:
    id: int
    status: str
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class IncidentWork:
    """The agents' side of one incident, for its console page."""

    incident_id: int
    ticket: str
    sender_id: str | None
    created_at: datetime
    # IANA zone the incident's times are shown in (the customer's country).
    timezone: str
    assigned_agent_id: int | None
    assigned_agent_name: str | None
    last_agent_update_at: datetime | None
    # The open handoff if there is one, else the latest one.
    handoff: HandoffState | None
    # Start of this incident's conversation in the live log.
    conversation_since: datetime


def escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards and the escape character taken literally (ESCAPE ``\\``)."""
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(timezone.utc).isoformat()


def _latest_open_handoff_id() -> Any:
    return (
        select(Handoff.id)
        .where(Handoff.incident_id == Incident.id, Handoff.status.in_(OPEN_HANDOFF_STATUSES))
        .order_by(Handoff.id.desc())
        .limit(1)
        .correlate(Incident)
        .scalar_subquery()
    )


def search_incidents(
    session_factory: sessionmaker,
    *,
    status: str | None = None,
    region: str | None = None,
    severity: int | None = None,
    channel: str | None = None,
    query: str | None = None,
    waiting_first: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Incidents newest first (those waiting for an agent first if ``waiting_first``).

    ``query`` matches part of the ticket, company or service ID in any letter
    case; ``%`` and ``_`` in it are plain characters. Each row carries its open
    handoff's status and reason (``handoff_status`` None when there is none).
    """
    if limit < 1 or offset < 0:
        raise ValueError("limit must be >= 1 and offset >= 0")
    open_handoff = aliased(Handoff)
    stmt = (
        select(Incident, open_handoff.status, open_handoff.reason, Agent.display_name)
        .select_from(Incident)
        .outerjoin(open_handoff, open_handoff.id == _latest_open_handoff_id())
        .outerjoin(Agent, Agent.id == Incident.assigned_agent_id)
    )
    if status is not None:
        stmt = stmt.where(Incident.status == status)
    if region is not None:
        stmt = stmt.where(Incident.region == region)
    if severity is not None:
        stmt = stmt.where(Incident.severity == severity)
    if channel is not None:
        stmt = stmt.where(Incident.channel == channel)
    if query and query.strip():
        # lower() on both sides in SQL: SQLite's ASCII-only lower() must fold
        # the pattern exactly as it folds the column.
        pattern = func.lower(f"%{escape_like(query.strip())}%")
        stmt = stmt.where(
            func.lower(Incident.ticket).like(pattern, escape=LIKE_ESCAPE)
            | func.lower(Incident.company).like(pattern, escape=LIKE_ESCAPE)
            | func.lower(Incident.service_id).like(pattern, escape=LIKE_ESCAPE)
        )
    order = [Incident.created_at.desc(), Incident.id.desc()]
    if waiting_first:
        order.insert(0, case((open_handoff.status == HANDOFF_PENDING, 0), else_=1))
    stmt = stmt.order_by(*order).limit(limit).offset(offset)
    with session_factory() as s, s.begin():
        s.connection(execution_options=READ_ONLY_OPTIONS)
        return [
            {
                "ticket": row.ticket,
                "status": row.status,
                "company": row.company,
                "service_id": row.service_id,
                "contact_name": row.contact_name,
                "region": row.region,
                "severity": row.severity,
                "channel": row.channel,
                "created_at": _iso(row.created_at),
                "assigned_agent": agent_name,
                "handoff_status": handoff_status,
                "handoff_reason": handoff_reason,
            }
            for row, handoff_status, handoff_reason, agent_name in s.execute(stmt)
        ]


def list_handoffs(
    session_factory: sessionmaker, *, status: str | None = None, open_only: bool = False, limit: int = 100
) -> list[dict[str, Any]]:
    """Handoffs newest first, with their incident's ticket, company and severity."""
    if status is not None and status not in HANDOFF_STATUSES:
        raise ValueError(f"unknown handoff status {status!r}")
    if limit < 1:
        raise ValueError("limit must be >= 1")
    stmt = (
        select(Handoff, Incident.ticket, Incident.company, Incident.severity, Agent.display_name)
        .select_from(Handoff)
        .join(Incident, Incident.id == Handoff.incident_id)
        .outerjoin(Agent, Agent.id == Handoff.agent_id)
    )
    if status is not None:
        stmt = stmt.where(Handoff.status == status)
    if open_only:
        stmt = stmt.where(Handoff.status.in_(OPEN_HANDOFF_STATUSES))
    stmt = stmt.order_by(Handoff.created_at.desc(), Handoff.id.desc()).limit(limit)
    with session_factory() as s, s.begin():
        s.connection(execution_options=READ_ONLY_OPTIONS)
        return [
            {
                "id": row.id,
                "ticket": ticket,
                "company": company,
                "severity": severity,
                "sender_id": row.sender_id,
                "channel": row.channel,
                "reason": row.reason,
                "status": row.status,
                "agent": agent_name,
                "created_at": _iso(row.created_at),
                "updated_at": _iso(row.updated_at),
            }
            for row, ticket, company, severity, agent_name in s.execute(stmt)
        ]


def incident_work(session_factory: sessionmaker, *, ticket: str) -> IncidentWork | None:
    """Assignment, handoff and conversation window of the incident, or None for an unknown ticket."""
    canonical = normalize_ticket(ticket)
    if canonical is None:
        return None
    with session_factory() as s, s.begin():
        s.connection(execution_options=READ_ONLY_OPTIONS)
        found = s.execute(
            select(Incident, Agent.display_name)
            .select_from(Incident)
            .outerjoin(Agent, Agent.id == Incident.assigned_agent_id)
            .where(Incident.ticket == canonical)
        ).one_or_none()
        if found is None:
            return None
        incident, agent_name = found
        handoff = s.execute(
            select(Handoff)
            .where(Handoff.incident_id == incident.id)
            .order_by(case((Handoff.status.in_(OPEN_HANDOFF_STATUSES), 0), else_=1), Handoff.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        first_message_at = s.execute(
            select(func.min(TranscriptMessage.at)).where(TranscriptMessage.incident_id == incident.id)
        ).scalar_one_or_none()
    return IncidentWork(
        incident_id=incident.id,
        ticket=incident.ticket,
        sender_id=incident.sender_id or None,
        created_at=incident.created_at,
        timezone=incident.timezone,
        assigned_agent_id=incident.assigned_agent_id,
        assigned_agent_name=agent_name,
        last_agent_update_at=incident.last_agent_update_at,
        handoff=None
        if handoff is None
        else HandoffState(id=handoff.id, status=handoff.status, reason=handoff.reason, created_at=handoff.created_at),
        conversation_since=first_message_at or incident.created_at - CONVERSATION_LOOKBACK,
    )


def _incident_for_update(s: Session, ticket: str) -> Incident:
    canonical = normalize_ticket(ticket)
    row = None
    if canonical is not None:
        row = s.execute(
            select(Incident).where(Incident.ticket == canonical).with_for_update()
        ).scalar_one_or_none()
    if row is None:
        raise UnknownTicket(ticket)
    return row


def _move_open_handoffs(
    s: Session, incident: Incident, *, status: str, actor: str, now: datetime, agent_id: int | None = None
) -> bool:
    handoffs = s.execute(
        select(Handoff)
        .where(Handoff.incident_id == incident.id, Handoff.status.in_(OPEN_HANDOFF_STATUSES))
        .with_for_update()
    ).scalars().all()
    for handoff in handoffs:
        if handoff.status == status and (agent_id is None or handoff.agent_id == agent_id):
            continue
        record_event(
            s,
            incident_id=incident.id,
            actor=actor,
            action=ACTION_HANDOFF_STATUS,
            detail={"handoff_id": handoff.id, "from": handoff.status, "to": status},
            at=now,
        )
        handoff.status = status
        handoff.updated_at = now
        if agent_id is not None:
            handoff.agent_id = agent_id
    return bool(handoffs)


def assign_incident(
    session_factory: sessionmaker, *, ticket: str, agent_id: int, now: datetime | None = None
) -> None:
    """The agent takes the incident; its open handoff becomes ``tomado``.

    Raises UnknownTicket, or ValueError for an unknown or inactive agent.
    """
    now = utc_moment(now)
    with session_factory() as s, s.begin():
        agent = s.get(Agent, agent_id)
        if agent is None or not agent.active:
            raise ValueError(f"unknown or inactive agent {agent_id}")
        incident = _incident_for_update(s, ticket)
        actor = agent_actor(agent.username)
        if incident.assigned_agent_id != agent.id:
            record_event(
                s,
                incident_id=incident.id,
                actor=actor,
                action=ACTION_ASSIGNED,
                detail={"agent": agent.username, "previous_agent_id": incident.assigned_agent_id},
                at=now,
            )
            incident.assigned_agent_id = agent.id
            incident.last_agent_update_at = now
        _move_open_handoffs(s, incident, status=HANDOFF_TAKEN, actor=actor, now=now, agent_id=agent.id)


def set_status(
    session_factory: sessionmaker, *, ticket: str, status: str, actor: str, now: datetime | None = None
) -> str:
    """Change the incident's status; returns the previous one (nothing is written if unchanged).

    Raises ValueError for a status outside ``INCIDENT_STATUSES``, UnknownTicket.
    """
    if status not in INCIDENT_STATUSES:
        raise ValueError(f"unknown status {status!r}")
    now = utc_moment(now)
    with session_factory() as s, s.begin():
        incident = _incident_for_update(s, ticket)
        previous = incident.status
        if previous != status:
            record_event(
                s,
                incident_id=incident.id,
                actor=actor,
                action=ACTION_STATUS_CHANGED,
                detail={"from": previous, "to": status},
                at=now,
            )
            incident.status = status
            incident.last_agent_update_at = now
        return previous


def mark_handoff(
    session_factory: sessionmaker, *, ticket: str, status: str, actor: str, now: datetime | None = None
) -> bool:
    """Move the incident's open handoff to ``status`` (``devuelto``, ``cerrado``...).

    Returns False when the incident had no open handoff (nothing changes).
    Raises ValueError for an unknown handoff status, UnknownTicket.
    """
    if status not in HANDOFF_STATUSES:
        raise ValueError(f"unknown handoff status {status!r}")
    now = utc_moment(now)
    with session_factory() as s, s.begin():
        incident = _incident_for_update(s, ticket)
        return _move_open_handoffs(s, incident, status=status, actor=actor, now=now)


def note_agent_reply(
    session_factory: sessionmaker,
    *,
    ticket: str,
    agent: str,
    delivered: bool | None = None,
    channel: str | None = None,
    now: datetime | None = None,
) -> None:
    """Record that agent ``agent`` (username) wrote to the customer. Raises UnknownTicket.

    The text itself is in the live conversation log; the audit keeps who, when
    and whether the customer's channel took it.
    """
    now = utc_moment(now)
    with session_factory() as s, s.begin():
        incident = _incident_for_update(s, ticket)
        record_event(
            s,
            incident_id=incident.id,
            actor=agent_actor(agent),
            action=ACTION_AGENT_REPLY,
            detail={"delivered": delivered, "channel": channel},
            at=now,
        )
        incident.last_agent_update_at = now
