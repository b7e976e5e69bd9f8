"""Delete conversation texts older than the retention period.

    python -m noc retention [--days N] [--dry-run]

Deletes, in one transaction, the messages older than N days (default
``RETENTION_DAYS``) of incident transcripts (``transcript_messages``), of the
live conversation log (``conversation_messages``) and the Twilio channel's
copies of its answers (``twilio_messages``) and failed ticket verifications
(``verification_failures``, which name the conversations that tried), plus
console sessions that have expired. Rasa keeps its conversations in the same
database (PostgreSQL or the SQLite file, table ``events``): those idle for N
days are deleted whole, never
part of one, which would leave Rasa a conversation without its beginning.
Incident records themselves (ticket, contact, severity, audit trail) are
kept. ``--dry-run`` counts without deleting.

Run it daily from a scheduler, e.g. cron (as the user that runs the servers)::

    15 3 * * *  cd /srv/noc && .venv/bin/python -m noc retention >> var/retention.log 2>&1

or a systemd timer (``noc-retention.service`` + ``noc-retention.timer``)::

    [Service]
    Type=oneshot
    WorkingDirectory=/srv/noc
    EnvironmentFile=/srv/noc/.env
    ExecStart=/srv/noc/.venv/bin/python -m noc retention

    [Timer]
    OnCalendar=*-*-* 03:15
    Persistent=true

    [Install]
    WantedBy=timers.target
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import column, delete, func, inspect, select, table
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from noc.db.models import AgentSession, ConversationMessage, TranscriptMessage, VerificationFailure
from noc.db.twilio_messages import TwilioMessage


@dataclass(frozen=True)
class RetentionReport:
    cutoff: datetime
    dry_run: bool
    transcript_messages: int
    conversation_messages: int
    twilio_messages: int
    expired_sessions: int
    rasa_events: int = 0
    verification_failures: int = 0


# Rasa's SQLTrackerStore table (rasa.core.tracker_store.SQLTrackerStore.SQLEvent); timestamps are Unix seconds.
RASA_EVENTS = table("events", column("sender_id"), column("timestamp"))


def _idle_conversations(s: Session, cutoff: datetime) -> ColumnElement | None:
    """Condition on Rasa's events of conversations whose last event is older than ``cutoff``, if the table is here."""
    if not inspect(s.connection()).has_table(RASA_EVENTS.name):
        return None
    idle = (
        select(RASA_EVENTS.c.sender_id)
        .group_by(RASA_EVENTS.c.sender_id)
        .having(func.max(RASA_EVENTS.c.timestamp) < cutoff.timestamp())
    )
    return RASA_EVENTS.c.sender_id.in_(idle)


def _targets(cutoff: datetime, now: datetime) -> dict[str, tuple[Any, ColumnElement]]:
    return {
        "transcript_messages": (TranscriptMessage, TranscriptMessage.at < cutoff),
        "conversation_messages": (ConversationMessage, ConversationMessage.at < cutoff),
        "twilio_messages": (TwilioMessage, TwilioMessage.received_at < cutoff),
        "verification_failures": (VerificationFailure, VerificationFailure.at < cutoff),
        "expired_sessions": (AgentSession, AgentSession.expires_at <= now),
    }


def purge(
    session_factory: sessionmaker, *, days: int, now: datetime | None = None, dry_run: bool = False
) -> RetentionReport:
    """Delete (or with ``dry_run`` only count) what is older than ``days`` days; one transaction."""
    if days < 1:
        raise ValueError(f"los días de retención deben ser al menos 1, no {days}")
    now = now or datetime.now(timezone.utc)
    cutoff = now - timedelta(days=days)
    counts: dict[str, int] = {}
    with session_factory() as s, s.begin():
        targets = _targets(cutoff, now)
        idle = _idle_conversations(s, cutoff)
        if idle is not None:
            targets["rasa_events"] = (RASA_EVENTS, idle)
        for name, (target, condition) in targets.items():
            if dry_run:
                counts[name] = s.execute(select(func.count()).select_from(target).where(condition)).scalar_one()
            else:
                result = s.execute(delete(target).where(condition).execution_options(synchronize_session=False))
                counts[name] = result.rowcount
    return RetentionReport(cutoff=cutoff, dry_run=dry_run, **counts)


def describe(report: RetentionReport) -> str:
    verb = "Se borrarían (simulación, nada se borró)" if report.dry_run else "Se borraron"
    return (
        f"{verb}: {report.transcript_messages} mensajes de transcripciones, "
        f"{report.conversation_messages} mensajes de conversaciones y {report.twilio_messages} respuestas de Twilio "
        f"anteriores a {report.cutoff.isoformat(timespec='seconds')}, {report.rasa_events} eventos de "
        f"conversaciones de Rasa inactivas desde entonces, {report.verification_failures} intentos fallidos de "
        f"verificar un ticket y {report.expired_sessions} sesiones de consola vencidas."
    )


def _parser(default_days: int) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m noc retention",
        description="Borra las transcripciones y conversaciones más antiguas que el período de retención.",
    )
    parser.add_argument(
        "--days", type=int, default=default_days, help=f"días que se conservan (RETENTION_DAYS, hoy {default_days})"
    )
    parser.add_argument("--dry-run", action="store_true", help="solo contar, sin borrar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from noc.db.db import get_session_factory
    from noc.settings import get_settings

    args = _parser(get_settings().retention_days).parse_args(argv)
    try:
        report = purge(get_session_factory(), days=args.days, dry_run=args.dry_run)
    except ValueError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(describe(report))
    return 0

