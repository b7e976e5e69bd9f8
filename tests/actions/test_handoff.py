"""Handoff to an agent, low confidence, and the actions around ticket follow-ups."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import (
    ActionAgentClosed,
    ActionHandoff,
    ActionLowConfidence,
    consecutive_low_confidence,
    conversation_key,
    handoff_reason,
)
from actions.service_desk import ActionNotAnAnswer
from actions.ticket_forms import ActionAskTicket, ValidateStatusForm
from actions.ticket_requests import ActionEscalateTicket, ActionTicketStatus
from noc.db import db
from noc.db.migrate import upgrade
from noc.db.repository import get_incident, open_incident
from tests.actions.helpers import domain, make_tracker, responses
from tests.actions.test_intake_submit import EVENTS, FILLED
from tests.db_env import database_url
from tests.store.test_repository import make_incident


@pytest.fixture
def database(tmp_path, monkeypatch) -> Iterator[object]:
    url = f"sqlite:///{tmp_path / 'actions.db'}"
    with database_url(monkeypatch, url):
        upgrade(url)
        yield db.get_session_factory()


def user(intent: str, text: str = "x") -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def bot(response: str) -> dict:
    return {"event": "bot", "text": "...", "metadata": {"utter_action": response}}


@pytest.mark.parametrize(
    ("events", "reason"),
    [
        ([user("request_human")], "customer_request"),
        ([bot("utter_ask_company"), user("request_human")], "customer_request"),
        ([bot("utter_offer_agent"), user("request_human", "/request_human")], "failed_answers"),
        ([bot("utter_offer_agent_low_confidence"), user("request_human")], "low_confidence"),
        ([bot("utter_offer_agent_severity_1"), bot("utter_anything_else"), user("request_human")], "severity_1"),
        # An old offer, answered by something else first, does not count.
        (
            [bot("utter_offer_agent"), user("inform"), bot("utter_ask_company"), user("request_human")],
            "customer_request",
        ),
    ],
)
def test_handoff_reason(events, reason) -> None:
    assert handoff_reason(events) == reason


@pytest.mark.parametrize(
    ("intents", "count"),
    [
        ([], 0),
        (["inform"], 0),
        (["nlu_fallback"], 1),
        (["nlu_fallback", "nlu_fallback"], 2),
        (["nlu_fallback", "inform"], 0),
    ],
)
def test_consecutive_low_confidence(intents, count) -> None:
    assert consecutive_low_confidence([user(i) for i in intents]) == count


def test_conversation_key_is_the_intake_key_or_the_session() -> None:
    assert (
        conversation_key("s", [{"event": "active_loop", "name": "incident_form", "timestamp": 5.0}], "incident_form")
        == "s:5.000000"
    )
    assert (
        conversation_key("s", [{"event": "session_started", "timestamp": 7.0}], "incident_form") == "s:session:7.000000"
    )


async def test_handoff_saves_the_partial_intake_and_pauses(database) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker({"company": "Banco Andino", "symptom_kind": None}, events=EVENTS, sender_id="s-h")
    events = await ActionHandoff().run(dispatcher, tracker, domain())
    assert responses(dispatcher) == ["utter_handoff_started_hours"]
    ticket = dispatcher.messages[0]["ticket"]
    assert {"event": "pause", "timestamp": None} in events
    record = get_incident(database, ticket=ticket)
    assert record["status"] == "derivado" and record["company"] == "Banco Andino" and record["severity"] is None
    assert [m["role"] for m in record["transcript"]] == ["user", "bot", "bot", "user"]


async def test_a_handoff_records_only_a_kind_the_severity_table_knows(database) -> None:
    # From a change request the incident form never validated the kind: the entity
    # extractor's words ("solo es una ampliación") are no kind and set no severity.
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {"company": "Agroexportadora", "symptom_kind": "solo es una ampliación"},
        events=EVENTS,
        sender_id="s-h3",
        active_loop="change_request_form",
    )
    await ActionHandoff().run(dispatcher, tracker, domain())
    record = get_incident(database, ticket=dispatcher.messages[0]["ticket"])
    assert record["symptom_kind"] is None and record["severity"] is None
    assert responses(dispatcher) == ["utter_handoff_started_hours"]


async def test_a_handoff_from_a_change_request_records_what_was_asked(database) -> None:
    dispatcher = CollectingDispatcher()
    asked = "cambiar los DNS del servicio PE-INT-004512 a 8.8.8.8"
    tracker = make_tracker(
        {"company": "Agroexportadora", "change_description": asked},
        events=EVENTS,
        sender_id="s-h4",
        active_loop="change_request_form",
    )
    await ActionHandoff().run(dispatcher, tracker, domain())
    record = get_incident(database, ticket=dispatcher.messages[0]["ticket"])
    assert record["symptom"] == asked


async def test_handoff_with_a_severity_gives_its_response_time(database) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker({**FILLED, "confirmed": None}, events=EVENTS, sender_id="s-h2")
    await ActionHandoff().run(dispatcher, tracker, domain())
    assert responses(dispatcher) == ["utter_handoff_started"]
    assert dispatcher.messages[0]["response_target"] == "15 minutos"


async def test_agent_closing_forgets_the_unfinished_report() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionAgentClosed().run(dispatcher, make_tracker(FILLED), domain())
    assert responses(dispatcher) == ["utter_agent_closed"]
    assert {e["name"] for e in events} >= {"service_id", "symptom"}


@pytest.mark.parametrize(("previous", "offered"), [([], False), ([user("nlu_fallback")], True)])
async def test_second_low_confidence_message_in_a_row_offers_an_agent(previous, offered) -> None:
    dispatcher = CollectingDispatcher()
    events = [*previous, user("nlu_fallback")]
    await ActionLowConfidence().run(dispatcher, make_tracker({}, events=events, active_loop=None), domain())
    assert ("utter_offer_agent_low_confidence" in responses(dispatcher)) is offered
    dispatcher = CollectingDispatcher()
    await ActionNotAnAnswer().run(dispatcher, make_tracker({}, events=events, requested="company"), domain())
    assert ("utter_offer_agent_low_confidence" in responses(dispatcher)) is offered


async def opened_ticket(database, sender_id: str = "owner", **overrides) -> str:
    return open_incident(database, incident=make_incident(f"k-{sender_id}", sender_id=sender_id, **overrides)).ticket


async def test_status_form_verifies_strangers_but_not_the_owner(database) -> None:
    ticket = await opened_ticket(database)
    form = ValidateStatusForm()
    dispatcher = CollectingDispatcher()
    owner = make_tracker({}, requested="ticket", sender_id="owner", active_loop="status_form")
    assert (await form.validate_ticket(ticket.lower(), dispatcher, owner, domain()))["ticket_verified"] is True
    stranger = make_tracker({}, requested="ticket", sender_id="stranger", active_loop="status_form")
    assert (await form.validate_ticket(ticket, dispatcher, stranger, domain()))["ticket_verified"] is False
    unknown = await form.validate_ticket("INC-2026-999999", dispatcher, stranger, domain())
    assert unknown["ticket"] is None and responses(dispatcher) == ["utter_invalid_ticket"]


async def test_three_wrong_proofs_end_the_request(database) -> None:
    ticket = await opened_ticket(database)
    form = ValidateStatusForm()
    said = []
    attempts = None
    for _ in range(3):
        dispatcher = CollectingDispatcher()
        slots = {
            "ticket": ticket,
            "ticket_verified": False,
            "verify_service_id": "SRV-10442",
            "verify_attempts": attempts,
        }
        tracker = make_tracker(slots, requested="verify_email", sender_id="stranger", active_loop="status_form")
        result = await form.validate_verify_email("otro@example.com", dispatcher, tracker, domain())
        attempts = result["verify_attempts"]
        said += responses(dispatcher)
    assert said == ["utter_ticket_not_verified", "utter_ticket_not_verified", "utter_ticket_access_denied"]
    final = make_tracker(
        {"ticket": ticket, "verify_attempts": attempts}, sender_id="stranger", active_loop="status_form"
    )
    assert (
        await form.required_slots(
            ["ticket", "verify_service_id", "verify_email"], CollectingDispatcher(), final, domain()
        )
        == []
    )
    right = make_tracker(
        {"ticket": ticket, "ticket_verified": False, "verify_service_id": "srv-10442"},
        requested="verify_email",
        sender_id="stranger",
        active_loop="status_form",
    )
    assert (await form.validate_verify_email("MARIA@example.com", CollectingDispatcher(), right, domain()))[
        "ticket_verified"
    ] is True


async def test_status_is_told_only_to_the_owner_or_a_proof(database) -> None:
    # Not to a tracker that only says so (tests/actions/test_ticket_verification.py).
    ticket = await opened_ticket(database)
    dispatcher = CollectingDispatcher()
    await ActionTicketStatus().run(dispatcher, make_tracker({"ticket": ticket, "ticket_verified": True}), domain())
    assert responses(dispatcher) == []
    await ActionTicketStatus().run(dispatcher, make_tracker({"ticket": ticket}, sender_id="owner"), domain())
    assert responses(dispatcher)[0] == "utter_ticket_status"
    assert dispatcher.messages[0]["status_label"] == "abierto"


async def test_ask_ticket_offers_the_senders_tickets(database) -> None:
    ticket = await opened_ticket(database, sender_id="mine")
    dispatcher = CollectingDispatcher()
    await ActionAskTicket().run(dispatcher, make_tracker({}, sender_id="mine"), domain())
    assert responses(dispatcher) == ["utter_ask_ticket_choices"]
    assert dispatcher.messages[0]["buttons"][0]["payload"] == ticket
    dispatcher = CollectingDispatcher()
    await ActionAskTicket().run(dispatcher, make_tracker({}, sender_id="new"), domain())
    assert responses(dispatcher) == ["utter_ask_ticket"]


@pytest.mark.parametrize(
    ("opened_ago", "exhausted", "said", "level"),
    [
        (timedelta(minutes=5), True, ["utter_escalation_too_early"], 1),
        (timedelta(hours=10), False, ["utter_escalation_contact_current_first", "utter_escalation_contact"], 1),
        (timedelta(hours=10), True, ["utter_escalated", "utter_escalation_contact"], 2),
    ],
)
async def test_escalation_request(database, opened_ago, exhausted, said, level) -> None:
    now = datetime.now(timezone.utc)
    incident = make_incident("k-esc", sender_id="owner", region="colombia")
    ticket = open_incident(database, incident=incident, now=now - opened_ago).ticket
    dispatcher = CollectingDispatcher()
    slots = {"ticket": ticket, "ticket_verified": True, "level_exhausted": exhausted}
    events = await ActionEscalateTicket().run(dispatcher, make_tracker(slots, sender_id="owner"), domain())
    assert responses(dispatcher) == said
    assert get_incident(database, ticket=ticket)["escalation_level"] == level
    assert {"event": "slot", "name": "ticket_verified", "value": None, "timestamp": None} in events
