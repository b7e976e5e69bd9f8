"""Who may read or escalate a ticket, decided from the store: forged trackers, failures counted per ticket, the lock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from actions.ticket_forms import ValidateEscalationForm, ValidateStatusForm
from actions.ticket_requests import ActionEscalateTicket, ActionTicketStatus
from noc.db import db
from noc.db.migrate import upgrade
from noc.db.models import AuditEvent, Notification, VerificationFailure
from noc.db.repository import get_incident, open_incident
from noc.notify.payloads import LOCK_EVENT
from tests.actions.helpers import domain, make_tracker, responses
from tests.db_env import database_url
from tests.store.test_repository import make_incident

FAILURES_TO_LOCK = 4
RIGHT_SERVICE_ID = "SRV-10442"  # make_incident's
RIGHT_EMAIL = "maria@example.com"


@pytest.fixture
def database(tmp_path, monkeypatch) -> Iterator[sessionmaker]:
    monkeypatch.setenv("VERIFY_FAILURES_PER_TICKET", str(FAILURES_TO_LOCK))
    monkeypatch.setenv("VERIFY_FAILURE_WINDOW_MINUTES", "60")
    monkeypatch.setenv("VERIFY_LOCK_MINUTES", "60")
    # The agents' webhook is configured: a lock queues its notice in the outbox.
    monkeypatch.setenv("HANDOFF_WEBHOOK_URL", "http://127.0.0.1:9/noc-hook")
    monkeypatch.setenv("SMTP_HOST", "")
    url = f"sqlite:///{tmp_path / 'verification.db'}"
    with database_url(monkeypatch, url):
        upgrade(url)
        yield db.get_session_factory()


@pytest.fixture
def ticket(database: sessionmaker) -> str:
    return open_incident(database, incident=make_incident("k-owner", sender_id="owner")).ticket


def count(factory: sessionmaker, query) -> int:
    with factory() as s:
        return s.execute(query).scalar_one()


def stranger(ticket: str, sender: str, **slots):
    return make_tracker(
        {"ticket": ticket, "ticket_verified": False, "verify_service_id": RIGHT_SERVICE_ID, **slots},
        requested="verify_email",
        sender_id=sender,
        active_loop="status_form",
    )


async def prove(ticket: str, sender: str, email: str) -> tuple[dict, list[str]]:
    """One try of a new conversation (its own three tries not used yet): the right service ID and ``email``."""
    dispatcher = CollectingDispatcher()
    result = await ValidateStatusForm().validate_verify_email(email, dispatcher, stranger(ticket, sender), domain())
    return result, responses(dispatcher)


async def test_failures_from_many_senders_lock_the_ticket_and_the_agents_hear_once(
    database: sessionmaker, ticket: str
) -> None:
    said = []
    for index in range(FAILURES_TO_LOCK):
        # A new sender id each time: each conversation's own count starts at zero.
        _, told = await prove(ticket, f"guesser-{index}", f"guess{index}@example.com")
        said += told
    assert said == ["utter_ticket_not_verified"] * (FAILURES_TO_LOCK - 1) + ["utter_ticket_verification_locked"]

    # While locked, the right answer is refused too, from any conversation.
    result, told = await prove(ticket, "guesser-right", RIGHT_EMAIL)
    assert told == ["utter_ticket_verification_locked"]
    assert result["ticket_verified"] is False and result["verify_attempts"] == 3.0

    # A new request is refused at once, without asking for the proof.
    form = ValidateEscalationForm()
    dispatcher = CollectingDispatcher()
    asking = make_tracker({}, requested="ticket", sender_id="guesser-next", active_loop="escalation_form")
    result = await form.validate_ticket(ticket, dispatcher, asking, domain())
    assert responses(dispatcher) == ["utter_ticket_verification_locked"]
    after = make_tracker({**result}, sender_id="guesser-next", active_loop="escalation_form")
    assert await form.required_slots(["ticket", "verify_service_id", "verify_email"], dispatcher, after, domain()) == []

    # A proof that passed just before the lock does not get through the final action either.
    dispatcher = CollectingDispatcher()
    proven = make_tracker(
        {"ticket": ticket, "ticket_verified": True, "verify_service_id": RIGHT_SERVICE_ID, "verify_email": RIGHT_EMAIL},
        sender_id="guesser-right",
    )
    await ActionTicketStatus().run(dispatcher, proven, domain())
    assert responses(dispatcher) == []

    # The conversation that opened the ticket is not locked out.
    dispatcher = CollectingDispatcher()
    await ActionTicketStatus().run(dispatcher, make_tracker({"ticket": ticket}, sender_id="owner"), domain())
    assert responses(dispatcher)[0] == "utter_ticket_status"

    # One notice, however many failures: one webhook row and one audit event.
    await prove(ticket, "guesser-late", "late@example.com")
    with database() as s:
        notices = s.execute(select(Notification)).scalars().all()
        assert [(n.kind, n.handoff_id, n.payload["event"], n.payload["ticket"]) for n in notices] == [
            ("webhook", None, LOCK_EVENT, ticket)
        ]
        assert notices[0].payload["failures"] == FAILURES_TO_LOCK
        assert notices[0].payload["conversations"] == FAILURES_TO_LOCK
    assert count(database, select(func.count()).select_from(AuditEvent)) == 1


async def test_the_right_answer_before_the_limit_still_works(database: sessionmaker, ticket: str) -> None:
    for index in range(FAILURES_TO_LOCK - 1):
        await prove(ticket, f"typo-{index}", "mariaa@example.com")
    result, told = await prove(ticket, "customer", "MARIA@example.com")
    assert told == [] and result["ticket_verified"] is True
    dispatcher = CollectingDispatcher()
    tracker = make_tracker({"ticket": ticket, **result, "verify_service_id": RIGHT_SERVICE_ID}, sender_id="customer")
    await ActionTicketStatus().run(dispatcher, tracker, domain())
    assert responses(dispatcher)[0] == "utter_ticket_status"


async def test_a_forged_ticket_verified_reads_no_other_customers_ticket(database: sessionmaker, ticket: str) -> None:
    # What anyone holding the action server could send: the slot says verified,
    # but this conversation neither opened the ticket nor proved it.
    forged = {"ticket": ticket, "ticket_verified": True, "level_exhausted": True}
    dispatcher = CollectingDispatcher()
    events = await ActionTicketStatus().run(dispatcher, make_tracker(forged, sender_id="attacker"), domain())
    assert responses(dispatcher) == []
    assert {"event": "slot", "name": "ticket_verified", "value": None, "timestamp": None} in events
    await ActionEscalateTicket().run(dispatcher, make_tracker(forged, sender_id="attacker"), domain())
    assert responses(dispatcher) == []
    assert get_incident(database, ticket=ticket)["escalation_level"] == 1


async def test_a_forged_wrong_proof_counts_as_a_failure(database: sessionmaker, ticket: str) -> None:
    # Guessing through the final action instead of the form is counted the same way.
    forged = {"ticket": ticket, "ticket_verified": True, "verify_service_id": "SRV-1", "verify_email": RIGHT_EMAIL}
    dispatcher = CollectingDispatcher()
    await ActionTicketStatus().run(dispatcher, make_tracker(forged, sender_id="attacker"), domain())
    assert responses(dispatcher) == []
    assert count(database, select(func.count()).select_from(VerificationFailure)) == 1
