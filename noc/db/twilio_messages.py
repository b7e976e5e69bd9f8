"""What the Twilio channel keeps in the database: seen MessageSids and numbered menus.

Both tables live on ``noc.db.models.metadata`` and are created by the
migration ``0002_twilio_messages``; ``migrations/env.py`` imports this module
so the models and the migrated schema are compared as one.

Every function here blocks (SQLAlchemy): the channel calls them through
``asyncio.to_thread``. Each one is one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import JSON, Column, Index, String, Text, delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from noc.db.models import Base, UTCDateTime

# twilio_messages.status
STATUS_PROCESSING = "procesando"  # claimed, the bot is working on it
STATUS_ANSWERED = "respondido"  # the bot answered (response_twiml holds the answer)
STATUS_UNSUPPORTED = "no_soportado"  # media, location, empty or too long: answered by the channel
STATUS_FAILED = "fallido"  # the bot raised; not retried (at most once)
# A later delivery found it still "procesando" (its server died, or Twilio gave
# up waiting) and is handling it; no other delivery takes it over again.
STATUS_TAKEN_OVER = "retomado"
MESSAGE_STATUSES = (STATUS_PROCESSING, STATUS_ANSWERED, STATUS_UNSUPPORTED, STATUS_FAILED, STATUS_TAKEN_OVER)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class TwilioMessage(Base):
    """One inbound Twilio message, claimed by its MessageSid on first delivery."""

    __tablename__ = "twilio_messages"

    message_sid = Column(String(64), primary_key=True)
    # Rasa sender id: "whatsapp:+573001234567" or "sms:+51987654321".
    sender = Column(String(64), nullable=False)
    received_at = Column(UTCDateTime(), nullable=False)
    status = Column(String(16), nullable=False)
    response_twiml = Column(Text, nullable=True)

    __table_args__ = (Index("ix_twilio_messages_received_at", "received_at"),)


class TwilioMenu(Base):
    """Payloads of the numbered options last shown to a sender ("1" -> payloads[0])."""

    __tablename__ = "twilio_menus"

    sender = Column(String(64), primary_key=True)
    payloads = Column(JSON(), nullable=False)
    updated_at = Column(UTCDateTime(), nullable=False)


@dataclass(frozen=True)
class Claim:
    """A delivery the caller processes. ``payload`` is the menu option chosen, if any.

    ``taken_over``: not the first delivery, but the first one's processing
    never finished (``claim_message``). The conversation may already hold the
    message; Rasa then does not process it again (``noc.rasa_plugins.message_ids``).
    """

    payload: str | None = None
    taken_over: bool = False


def claim_message(
    factory: sessionmaker,
    message_sid: str,
    sender: str,
    *,
    choice: int | None = None,
    now: datetime | None = None,
) -> Claim | None:
    """Record ``message_sid`` as seen; ``None`` when a delivery of it was, or is being, handled.

    The INSERT on the primary key decides: of two deliveries racing, exactly
    one commits, the other gets an IntegrityError. When ``choice`` (the body
    was just a number) picks an option of the sender's menu, the menu is used
    up in the same transaction and its payload returned.

    A message still ``procesando`` is taken over, once: the server handling
    it may have died (nginx then resends the request to another one), and
    refusing the copy would lose the message. The menu was used up by the
    first delivery, so a number is read as the number then.
    """
    try:
        with factory() as session, session.begin():
            session.add(
                TwilioMessage(
                    message_sid=message_sid,
                    sender=sender,
                    received_at=now or _utc_now(),
                    status=STATUS_PROCESSING,
                )
            )
            session.flush()
            if choice is None:
                return Claim()
            menu = session.get(TwilioMenu, sender)
            if menu is None or not 1 <= choice <= len(menu.payloads):
                return Claim()
            payload = str(menu.payloads[choice - 1])
            session.delete(menu)
            return Claim(payload=payload)
    except IntegrityError:
        return _take_over(factory, message_sid)


def _take_over(factory: sessionmaker, message_sid: str) -> Claim | None:
    # One UPDATE decides, as the INSERT does for first deliveries.
    with factory() as session, session.begin():
        taken = session.execute(
            update(TwilioMessage)
            .where(TwilioMessage.message_sid == message_sid, TwilioMessage.status == STATUS_PROCESSING)
            .values(status=STATUS_TAKEN_OVER)
        )
        return Claim(taken_over=True) if taken.rowcount == 1 else None


def finish_message(
    factory: sessionmaker,
    message_sid: str,
    *,
    status: str,
    response_twiml: str | None,
    menu_sender: str | None = None,
    menu_payloads: Sequence[str] = (),
    now: datetime | None = None,
) -> None:
    """Store the outcome of a claimed message.

    With ``menu_sender``, that sender's menu is replaced by ``menu_payloads``
    (deleted when there are none): every answer of the bot replaces the menu.
    """
    if status not in MESSAGE_STATUSES:
        raise ValueError(f"unknown status {status!r}")
    for attempt in (1, 2):
        try:
            with factory() as session, session.begin():
                message = session.get(TwilioMessage, message_sid)
                if message is not None:
                    message.status = status
                    message.response_twiml = response_twiml
                if menu_sender is not None:
                    _replace_menu(session, menu_sender, list(menu_payloads), now or _utc_now())
            return
        except IntegrityError:
            # Two answers to one sender inserting its menu at once (PostgreSQL):
            # the second attempt finds the row and updates it.
            if attempt == 2:
                raise


def set_menu(factory: sessionmaker, sender: str, payloads: Sequence[str], *, now: datetime | None = None) -> None:
    """Replace ``sender``'s menu with ``payloads`` (deleted when there are none).

    For the bot's messages sent outside a webhook answer (through the REST
    API), which replace the menu just as a TwiML answer does.
    """
    for attempt in (1, 2):
        try:
            with factory() as session, session.begin():
                _replace_menu(session, sender, list(payloads), now or _utc_now())
            return
        except IntegrityError:
            # Two answers inserting the sender's menu at once: see finish_message.
            if attempt == 2:
                raise


def _replace_menu(session, sender: str, payloads: list[str], now: datetime) -> None:
    if not payloads:
        session.execute(delete(TwilioMenu).where(TwilioMenu.sender == sender))
        return
    menu = session.get(TwilioMenu, sender)
    if menu is None:
        session.add(TwilioMenu(sender=sender, payloads=payloads, updated_at=now))
    else:
        menu.payloads = payloads
        menu.updated_at = now


def get_menu(factory: sessionmaker, sender: str) -> list[str] | None:
    """The payloads of the sender's current menu, if any (for tests and diagnosis)."""
    with factory() as session, session.begin():
        menu = session.get(TwilioMenu, sender)
        return list(menu.payloads) if menu is not None else None


def get_message(factory: sessionmaker, message_sid: str) -> TwilioMessage | None:
    """The stored row of ``message_sid`` (detached), if seen."""
    with factory() as session, session.begin():
        return session.get(TwilioMessage, message_sid)
