"""The live conversation log: every message of every conversation, in order.

The Rasa server writes user and bot messages here in the transaction that
saves the conversation (``noc.rasa_plugins.tracker_store``; through its event broker,
``noc.rasa_plugins.live_log``, when conversations are kept in
memory); the console writes agents' replies
and system notes. The console's live view of a conversation reads it.
Each function is one unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from noc.db.db import READ_ONLY_OPTIONS
from noc.db.models import CONVERSATION_ROLES, ConversationMessage


@dataclass(frozen=True, kw_only=True)
class LoggedMessage:
    sender_id: str
    role: str
    text: str
    at: datetime
    channel: str | None = None
    agent_id: int | None = None


def _clean(text: str) -> str:
    # PostgreSQL text cannot hold NUL; both backends store the same thing.
    return text.replace("\x00", "\ufffd")


def _rows(messages: Sequence[LoggedMessage]) -> list[dict]:
    rows = []
    for message in messages:
        if message.role not in CONVERSATION_ROLES:
            raise ValueError(f"unknown role {message.role!r}")
        if message.at.tzinfo is None or message.at.utcoffset() is None:
            raise ValueError("message time must be timezone-aware")
        rows.append(
            {
                "sender_id": message.sender_id[:255],
                "role": message.role,
                "text": _clean(message.text),
                "at": message.at,
                "channel": message.channel,
                "agent_id": message.agent_id,
            }
        )
    return rows


def add_messages(session: Session, *, messages: Sequence[LoggedMessage]) -> None:
    """Add ``messages`` to ``session``'s transaction (the caller commits). Raises ValueError as below."""
    rows = _rows(messages)
    if rows:
        session.execute(insert(ConversationMessage), rows)


def append_messages(session_factory: sessionmaker, *, messages: Sequence[LoggedMessage]) -> None:
    """Store ``messages`` in one transaction. Raises ValueError on a bad role or naive time."""
    if not messages:
        return
    with session_factory() as s, s.begin():
        add_messages(s, messages=messages)


def list_messages(
    session_factory: sessionmaker,
    *,
    sender_id: str,
    since: datetime | None = None,
    after_id: int = 0,
    limit: int = 1000,
) -> list[dict]:
    """Messages of one conversation in order, as JSON-ready dicts with their ``id``.

    ``since`` keeps only messages at or after that time (the incident's own
    conversation); ``after_id`` lets a live view fetch only what is new.
    """
    query = select(ConversationMessage).where(
        ConversationMessage.sender_id == sender_id, ConversationMessage.id > after_id
    )
    if since is not None:
        query = query.where(ConversationMessage.at >= since)
    query = query.order_by(ConversationMessage.id).limit(limit)
    with session_factory() as s, s.begin():
        s.connection(execution_options=READ_ONLY_OPTIONS)
        return [
            {
                "id": row.id,
                "role": row.role,
                "text": row.text,
                "at": row.at.astimezone(timezone.utc).isoformat(),
                "channel": row.channel,
                "agent_id": row.agent_id,
            }
            for row in s.execute(query).scalars()
        ]
