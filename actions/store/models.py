"""ORM models of the incident store.

The tables themselves are created only by the Alembic migrations in
``migrations/``; ``tests/store/test_migrations.py`` checks that both agree.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    Boolean,
    Column,
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

    company = Column(Text, nullable=False)
    service_id = Column(Text, nullable=False)
    contact_name = Column(Text, nullable=False)
    contact_phone = Column(String(32), nullable=False)
    contact_email = Column(Text, nullable=True)
    country = Column(String(2), nullable=False)
    region = Column(String(64), nullable=True)

    symptom = Column(Text, nullable=False)
    symptom_kind = Column(String(64), nullable=True)
    started_at = Column(UTCDateTime(), nullable=True)
    # IANA name (e.g. "America/Bogota") so started_at can be shown in the
    # customer's own offset; the UTC instant alone loses that.
    timezone = Column(String(64), nullable=False)
    started_text = Column(Text, nullable=True)

    power_ok = Column(Boolean(create_constraint=False), nullable=True)
    rebooted = Column(Boolean(create_constraint=False), nullable=True)
    problem_persists = Column(Boolean(create_constraint=False), nullable=True)

    severity = Column(Integer, nullable=False)
    severity_reason = Column(Text, nullable=True)
    escalation_level = Column(Integer, nullable=False, default=1)

    channel = Column(String(32), nullable=False)
    sender_id = Column(String(255), nullable=True)

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
