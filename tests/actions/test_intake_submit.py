"""Confirmation summary and the incident record opened at the end of an intake."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.intake_submit import ActionAskChannelPhoneOk, ActionAskConfirmed, ActionSubmitIntake
from actions.service_desk import ActionCancelIntake, ActionNotAnAnswer
from noc.db import db
from noc.db.migrate import upgrade
from noc.db.repository import get_incident, list_incidents
from tests.actions.helpers import domain, make_tracker, responses
from tests.db_env import database_url

FILLED = {
    "company": "Banco Andino",
    "service_id": "CO-MPLS-00123",
    "contact_name": "Ana Ruiz",
    "contact_phone": "+573001234567",
    "contact_email": "ana.ruiz@bancoandino.com.co",
    "country": "CO",
    "symptom": "el enlace de la sede norte está caído",
    "symptom_kind": "sin_servicio",
    "started": "ayer a las 3 de la tarde",
    "power_ok": True,
    "rebooted": True,
    "problem_persists": True,
    "confirmed": True,
}
EVENTS = [
    {"event": "user", "text": "el enlace de la sede norte está caído", "timestamp": 1764000000.0},
    {"event": "active_loop", "name": "incident_form", "timestamp": 1764000000.5},
    {"event": "bot", "text": "¿Cuál es el nombre de su empresa?", "timestamp": 1764000001.0, "data": {}},
    {
        "event": "bot",
        "text": "¿El equipo está encendido?",
        "timestamp": 1764000002.0,
        "data": {"buttons": [{"title": "Sí", "payload": "/affirm"}]},
    },
    {"event": "user", "text": "/affirm", "timestamp": 1764000003.0, "input_channel": "rest"},
]


@pytest.fixture
def database(tmp_path, monkeypatch) -> Iterator[object]:
    url = f"sqlite:///{tmp_path / 'actions.db'}"
    with database_url(monkeypatch, url):
        upgrade(url)
        yield db.get_session_factory()


async def submit(slots: dict, events=EVENTS, sender_id: str = "s1"):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots, events=events, sender_id=sender_id, active_loop=None)
    result = await ActionSubmitIntake().run(dispatcher, tracker, domain())
    return dispatcher, result


def ticket_of(dispatcher: CollectingDispatcher) -> str:
    return next(m["ticket"] for m in dispatcher.messages if "ticket" in m)


@pytest.mark.parametrize(
    ("country", "phone", "region"),
    [
        ("CO", "+573001234567", "colombia"),
        ("PE", "+51987654321", "peru"),
        ("AR", "+5491123456789", "cono_sur"),
        ("MX", "+525512345678", "mexico"),
        ("VE", "+584121234567", "venezuela"),
        ("GT", "+50251234567", "centroamerica_caribe"),
    ],
)
async def test_opens_the_incident_with_the_regional_contact(database, country, phone, region):
    dispatcher, events = await submit({**FILLED, "country": country, "contact_phone": phone})
    assert responses(dispatcher) == [
        "utter_incident_opened",
        "utter_escalation_contact",
        "utter_escalation_policy",
        # A critical incident is offered an agent right away.
        "utter_offer_agent_severity_1",
    ]
    opened = dispatcher.messages[0]
    assert re.fullmatch(r"INC-\d{4}-\d{6}", opened["ticket"])
    assert (opened["severity"], opened["severity_name"]) == (1, "Crítica")
    assert opened["response_target"] == "15 minutos" and opened["restoration_target"] == "4 horas"
    contact = dispatcher.messages[1]
    assert contact["level"] == 1 and contact["contact_phone_display"].startswith("+")
    record = get_incident(database, ticket=opened["ticket"])
    assert (record["country"], record["region"], record["status"]) == (country, region, "abierto")
    assert record["severity"] == 1 and record["severity_reason"]
    assert record["channel"] == "rest" and record["sender_id"] == "s1"
    assert record["started_at"].endswith(":00") and "15:00:00" in record["started_at"]
    assert {"event": "slot", "name": "ticket", "value": opened["ticket"], "timestamp": None} in events


async def test_transcript_shows_button_titles(database):
    dispatcher, _ = await submit(FILLED)
    record = get_incident(database, ticket=ticket_of(dispatcher))
    assert [(m["role"], m["text"]) for m in record["transcript"]][-1] == ("user", "Sí")
    assert record["transcript"][0]["text"] == "el enlace de la sede norte está caído"


async def test_submitting_the_same_intake_twice_opens_one_record(database):
    first, _ = await submit(FILLED)
    second, _ = await submit(FILLED)
    assert ticket_of(first) == ticket_of(second)
    assert len(list_incidents(database, sender_id="s1")) == 1


async def test_reboot_solved_it_is_kept_as_resolved(database):
    dispatcher, _ = await submit({**FILLED, "problem_persists": False, "confirmed": None})
    assert responses(dispatcher) == ["utter_resolved_first_contact", "utter_anything_else"]
    record = get_incident(database, ticket=ticket_of(dispatcher))
    assert record["status"] == "resuelto_primer_contacto"
    assert record["severity"] == 4


async def test_a_non_critical_incident_is_not_offered_an_agent(database):
    dispatcher, _ = await submit({**FILLED, "symptom_kind": "intermitente"})
    assert responses(dispatcher)[-1] == "utter_anything_else"


async def test_power_problem_is_severity_three(database):
    dispatcher, _ = await submit({**FILLED, "power_ok": False, "rebooted": None, "problem_persists": None})
    record = get_incident(database, ticket=ticket_of(dispatcher))
    assert record["severity"] == 3 and record["power_ok"] is False


async def test_unconfirmed_intake_goes_back_to_the_form(database):
    dispatcher, events = await submit({**FILLED, "confirmed": None})
    assert dispatcher.messages == []
    assert events == [{"event": "followup", "name": "incident_form", "timestamp": None}]


async def test_database_failure_keeps_the_data_and_asks_again(tmp_path, monkeypatch):
    with database_url(monkeypatch, f"sqlite:///{tmp_path / 'missing-tables.db'}"):
        dispatcher, events = await submit(FILLED)
    assert responses(dispatcher) == ["utter_submit_failed"]
    assert {"event": "slot", "name": "confirmed", "value": None, "timestamp": None} in events
    assert not any(e.get("name") == "company" for e in events)


async def test_summary_shows_country_name_and_parsed_time():
    dispatcher = CollectingDispatcher()
    await ActionAskConfirmed().run(dispatcher, make_tracker(FILLED), domain())
    summary, question = dispatcher.messages
    assert summary["response"] == "utter_summary" and question["response"] == "utter_ask_confirmed"
    assert summary["country_display"] == "Colombia"
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} 15:00", summary["started_time"])


async def test_cancel_keeps_identity_and_clears_the_report():
    dispatcher = CollectingDispatcher()
    events = await ActionCancelIntake().run(dispatcher, make_tracker(FILLED, active_loop=None), domain())
    assert responses(dispatcher) == ["utter_intake_cancelled"]
    cleared = {e["name"] for e in events}
    assert "service_id" in cleared and "symptom" in cleared
    assert "company" not in cleared and "contact_email" not in cleared


async def test_channel_number_question_shows_the_number():
    dispatcher = CollectingDispatcher()
    events = [{"event": "user", "text": "hola", "metadata": {"channel_phone": "+573001234567"}}]
    await ActionAskChannelPhoneOk().run(dispatcher, make_tracker({}, events=events), domain())
    (message,) = dispatcher.messages
    assert message["response"] == "utter_ask_channel_phone_ok"
    assert message["channel_phone"] == "+573001234567"


async def test_third_unusable_message_offers_an_agent():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker({"invalid_slot": "contact_phone", "invalid_count": 2.0}, requested="contact_phone")
    events = await ActionNotAnAnswer().run(dispatcher, tracker, domain())
    assert responses(dispatcher) == ["utter_not_an_answer", "utter_offer_agent"]
    assert {"event": "slot", "name": "invalid_count", "value": 3.0, "timestamp": None} in events


async def test_fourth_unusable_message_hands_off_instead_of_a_fifth_ask():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker({"invalid_slot": "contact_phone", "invalid_count": 3.0}, requested="contact_phone")
    events = await ActionNotAnAnswer().run(dispatcher, tracker, domain())
    assert responses(dispatcher) == ["utter_not_an_answer", "utter_handoff_after_retries"]
    assert {"event": "followup", "name": "action_handoff", "timestamp": None} in events


async def test_first_unusable_message_is_counted():
    dispatcher = CollectingDispatcher()
    events = await ActionNotAnAnswer().run(dispatcher, make_tracker({}, requested="company"), domain())
    assert responses(dispatcher) == ["utter_not_an_answer"]
    assert {"event": "slot", "name": "invalid_count", "value": 1.0, "timestamp": None} in events


def test_a_word_in_the_country_slot_does_not_stop_the_record():
    # A place word that slipped into the slot ("cajitas") once made every submission
    # fail ("country longer than 2 characters") and the customer confirm in a loop.
    from actions.intake_submit import build_incident

    incident = build_incident(make_tracker({**FILLED, "country": "cajitas"}, events=EVENTS), status="abierto")
    assert incident.country is None and incident.company == "Banco Andino"
    assert build_incident(make_tracker(FILLED, events=EVENTS), status="abierto").country == "CO"
