"""ORM models of the incident store.

The tables themselves are created only by the Alembic migrations in
``migrations/``; ``tests/store/test_migrations.py`` checks that both agree.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import declarative_base, relationship

# Explicit constraint names so migrations can drop/alter them identically on
# SQLite and PostgreSQL (unnamed constraints get backend-specific names).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)
Base = declarative_base(metadata=metadata)

STATUS_OPEN = "abierto"
STATUS_RESOLVED_FIRST_CONTACT = "resuelto_primer_contacto"
STATUS_IN_PROGRESS = "en_progreso"
STATUS_ESCALATED = "derivado"
STATUS_RESOLVED = "resuelto"
STATUS_CLOSED = "cerrado"
INCIDENT_STATUSES: tuple[str, ...] = (
    STATUS_OPEN,
    STATUS_RESOLVED_FIRST_CONTACT,
    STATUS_IN_PROGRESS,
    STATUS_ESCALATED,
    STATUS_RESOLVED,
    STATUS_CLOSED,
)

TRANSCRIPT_ROLES: tuple[str, ...] = ("user", "bot")
# The live conversation log also holds what agents wrote and system notes
# (paused, handed back).
CONVERSATION_ROLES: tuple[str, ...] = ("user", "bot", "agent", "system")

HANDOFF_REASONS: tuple[str, ...] = (
    "customer_request",
    "failed_answers",
    "low_confidence",
    "severity_1",
)
HANDOFF_PENDING = "pendiente"  # waiting for an agent
HANDOFF_TAKEN = "tomado"  # an agent took it
HANDOFF_RETURNED = "devuelto"  # handed back to the bot
HANDOFF_CLOSED = "cerrado"
HANDOFF_STATUSES: tuple[str, ...] = (HANDOFF_PENDING, HANDOFF_TAKEN, HANDOFF_RETURNED, HANDOFF_CLOSED)

CHANGE_TYPES: tuple[str, ...] = ("estandar", "normal", "urgente", "emergencia")
CHANGE_STATUS_REGISTERED = "registrado"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware timestamp that always round-trips as an aware UTC datetime.

    SQLite has no timestamp type and SQLAlchemy drops the offset when writing
    there, so values are normalised to UTC before binding and re-tagged as UTC
    when read. PostgreSQL stores ``timestamptz`` and returns it in the session
    time zone, which is converted back to UTC for a uniform API.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            # A naive value is ambiguous (server time? customer's time?): refuse it.
            raise ValueError("naive datetime given for a timezone-aware column")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Incident(Base):
    __tablename__ = "incidents"

    id = Column(Integer, primary_key=True, autoincrement=True)
    ticket = Column(String(32), nullable=False, unique=True)
    idempotency_key = Column(String(200), nullable=False, unique=True)
    status = Column(String(32), nullable=False)

    company = Column(Text, nullable=True)
    service_id = Column(Text, nullable=True)
    contact_name = Column(Text, nullable=True)
    contact_phone = Column(String(32), nullable=True)
    contact_email = Column(Text, nullable=True)
    country = Column(String(2), nullable=True)
    region = Column(String(64), nullable=True)

    symptom = Column(Text, nullable=True)
    symptom_kind = Column(String(64), nullable=True)
    started_at = Column(UTCDateTime(), nullable=True)
    # IANA name (e.g. "America/Bogota") so started_at can be shown in the
    # customer's own offset; the UTC instant alone loses that.
    timezone = Column(String(64), nullable=False)
    started_text = Column(Text, nullable=True)

    power_ok = Column(Boolean(create_constraint=False), nullable=True)
    rebooted = Column(Boolean(create_constraint=False), nullable=True)
    problem_persists = Column(Boolean(create_constraint=False), nullable=True)

    severity = Column(Integer, nullable=True)
    severity_reason = Column(Text, nullable=True)
    escalation_level = Column(Integer, nullable=False, default=1)

    channel = Column(String(32), nullable=False)
    sender_id = Column(String(255), nullable=True)

    # Agent work on the incident (console, escalation requests).
    assigned_agent_id = Column(Integer, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)
    last_escalated_at = Column(UTCDateTime(), nullable=True)
    last_agent_update_at = Column(UTCDateTime(), nullable=True)
    # Chat verification (service ID + e-mail) of this ticket is refused until
    # then, after too many failures (noc/db/verification.py).
    verification_locked_until = Column(UTCDateTime(), nullable=True)

    created_at = Column(UTCDateTime(), nullable=False)
    # onupdate covers later status changes made through the ORM.
    updated_at = Column(UTCDateTime(), nullable=False, onupdate=_utc_now)

    transcript = relationship(
        "TranscriptMessage",
        back_populates="incident",
        order_by="TranscriptMessage.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    __table_args__ = (
        Index("ix_incidents_sender_id", "sender_id"),
        Index("ix_incidents_status", "status"),
        Index("ix_incidents_created_at", "created_at"),
    )


class TranscriptMessage(Base):
    __tablename__ = "transcript_messages"

    id = Column(Integer, primary_key=True, autoincrement=True)
    incident_id = Column(
        Integer,
        ForeignKey("incidents.id", ondelete="CASCADE"),
        nullable=False,
    )
    position = Column(Integer, nullable=False)
    role = Column(String(8), nullable=False)
    text = Column(Text, nullable=False)
    at = Column(UTCDateTime(), nullable=False)

    incident = relationship("Incident", back_populates="transcript")

    __table_args__ = (
        UniqueConstraint("incident_id", "position", name="uq_transcript_messages_incident_id_position"),
    )


class TicketCounter(Base):
    """Last ticket sequence number handed out per UTC year (see repository)."""

    __tablename__ = "ticket_counters"

    year = Column(Integer, primary_key=True, autoincrement=False)
    last_value = Column(Integer, nullable=False)


class Agent(Base):
    """A NOC agent who logs in to the console."""

    __tablename__ = "agents"

    id = Column(Integer, primary_key=True, autoincrement=True)
    username = Column(String(64), nullable=False, unique=True)
    display_name = Column(String(128), nullable=False)
    # "scrypt$n$r$p$salt$hash" (hashlib.scrypt), never the password itself.
    password_hash = Column(String(256), nullable=False)
    is_admin = Column(Boolean(create_constraint=False), nullable=False, default=False)
    active = Column(Boolean(create_constraint=False), nullable=False, default=True)
    created_at = Column(UTCDateTime(), nullable=False)


class AgentSession(Base):
    """A console login. The cookie carries a random token; only its SHA-256 is stored."""

    __tablename__ = "agent_sessions"

    token_hash = Column(String(64), primary_key=True)
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime(), nullable=False)
    last_seen_at = Column(UTCDateTime(), nullable=False)
    expires_at = Column(UTCDateTime(), nullable=False)

    __table_args__ = (Index("ix_agent_sessions_agent_id", "agent_id"),)


class AuditEvent(Base):
    """Who changed what on an incident, and when (shown on the incident page)."""

    __tablename__ = "audit_events"

    id = Column(Integer, primary_key=True, autoincrement=True)
    incident_id = Column(Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=True)
    change_request_id = Column(Integer, ForeignKey("change_requests.id", ondelete="CASCADE"), nullable=True)
    # "agent:<username>", "bot" or "customer:<sender_id>".
    actor = Column(String(300), nullable=False)
    action = Column(String(64), nullable=False)
    detail = Column(JSON(), nullable=True)
    at = Column(UTCDateTime(), nullable=False)

    __table_args__ = (
        Index("ix_audit_events_incident_id", "incident_id"),
        Index("ix_audit_events_change_request_id", "change_request_id"),
    )


class ConversationMessage(Base):
    """Every message of every conversation, as it happens (user, bot, agent, system).

    Written by the Rasa server's event broker (``noc.rasa_plugins.live_log``)
    and by the console; the agent's live view of a conversation reads it.
    """

    __tablename__ = "conversation_messages"

    id = Column(Integer, primary_key=True, autoincrement=True)
    sender_id = Column(String(255), nullable=False)
    role = Column(String(8), nullable=False)
    text = Column(Text, nullable=False)
    at = Column(UTCDateTime(), nullable=False)
    channel = Column(String(32), nullable=True)
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)

    __table_args__ = (Index("ix_conversation_messages_sender_id_at", "sender_id", "at"),)


class Handoff(Base):
    """A conversation handed from the bot to the agents (the bot is paused meanwhile)."""

    __tablename__ = "handoffs"

    id = Column(Integer, primary_key=True, autoincrement=True)
    incident_id = Column(Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False)
    sender_id = Column(String(255), nullable=False)
    channel = Column(String(32), nullable=False)
    reason = Column(String(32), nullable=False)
    status = Column(String(16), nullable=False)
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)
    created_at = Column(UTCDateTime(), nullable=False)
    updated_at = Column(UTCDateTime(), nullable=False)

    __table_args__ = (
        Index("ix_handoffs_status", "status"),
        Index("ix_handoffs_sender_id", "sender_id"),
        Index("ix_handoffs_incident_id", "incident_id"),
    )


class Notification(Base):
    """Outbox of agent notifications (webhook, e-mail), retried with backoff until sent or given up."""

    __tablename__ = "notifications"

    id = Column(Integer, primary_key=True, autoincrement=True)
    # None for notices about no handoff (a ticket's verification locked).
    handoff_id = Column(Integer, ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=True)
    kind = Column(String(16), nullable=False)  # "webhook" | "email"
    payload = Column(JSON(), nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UTCDateTime(), nullable=False)
    delivered_at = Column(UTCDateTime(), nullable=True)
    last_error = Column(Text, nullable=True)
    created_at = Column(UTCDateTime(), nullable=False)
    # Set when the row ran out of attempts (a dead letter): no longer retried
    # until an agent puts it back in the queue from the console.
    failed_at = Column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_notifications_next_attempt_at", "next_attempt_at"),
        Index("ix_notifications_failed_at", "failed_at"),
    )


class VerificationFailure(Base):
    """A wrong service ID + e-mail given in a chat for a ticket the conversation does not own.

    Counted per ticket over a window, whatever the conversation, channel or
    server (noc/db/verification.py).
    """

    __tablename__ = "verification_failures"

    id = Column(Integer, primary_key=True, autoincrement=True)
    incident_id = Column(Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False)
    sender_id = Column(String(255), nullable=False)
    at = Column(UTCDateTime(), nullable=False)

    __table_args__ = (Index("ix_verification_failures_incident_id_at", "incident_id", "at"),)


class ChangeRequest(Base):
    """A customer's change request ("Solicitudes de cambio"), numbered CHG-<year>-<6 digits>."""

    __tablename__ = "change_requests"

    id = Column(Integer, primary_key=True, autoincrement=True)
    number = Column(String(32), nullable=False, unique=True)
    idempotency_key = Column(String(200), nullable=False, unique=True)
    status = Column(String(32), nullable=False)
    company = Column(Text, nullable=False)
    service_id = Column(Text, nullable=False)
    contact_name = Column(Text, nullable=False)
    contact_phone = Column(String(32), nullable=True)
    contact_email = Column(Text, nullable=True)
    country = Column(String(2), nullable=True)
    region = Column(String(64), nullable=True)
    description = Column(Text, nullable=False)
    change_type = Column(String(16), nullable=False)
    desired_date = Column(Date, nullable=True)
    earliest_at = Column(UTCDateTime(), nullable=False)
    channel = Column(String(32), nullable=False)
    sender_id = Column(String(255), nullable=True)
    created_at = Column(UTCDateTime(), nullable=False)

    __table_args__ = (
        Index("ix_change_requests_sender_id", "sender_id"),
        Index("ix_change_requests_created_at", "created_at"),
    )


class ChangeCounter(Base):
    """Last change-request sequence number per UTC year (same scheme as tickets)."""

    __tablename__ = "change_counters"

    year = Column(Integer, primary_key=True, autoincrement=False)
    last_value = Column(Integer, nullable=False)
