"""The simulated customers of the load test: who they are and what they answer (scripts/load/customers.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from noc.domain.phones import normalize_phone
from noc.domain.timeparse import parse_since
from scripts.load.customers import (
    COUNTRIES,
    INTAKE_CHANNELS,
    MAX_TURNS,
    MOODBOT,
    MOODBOT_MESSAGES,
    REST,
    SMS,
    WHATSAPP,
    answer,
    answer_to,
    channel_for,
    make_customer,
    next_message,
    ticket_opened,
    turn_problem,
)

DOMAIN = Path(__file__).resolve().parents[2] / "domain.yml"
RESPONSES = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))["responses"]


def domain_texts(name: str) -> list[str]:
    """Every variation of a response, as the bot says it (placeholders left in)."""
    return [variation["text"] for variation in RESPONSES[name]]


REST_CUSTOMER = make_customer(2, REST, seed=7)  # types "sí"
TWILIO_CUSTOMER = make_customer(4, WHATSAPP, seed=7)  # index even: answers "1" from the list


# Read from domain.yml: a reworded question the customer no longer recognises fails here.
@pytest.mark.parametrize(
    ("response", "customer", "expected"),
    [
        ("utter_greet", REST_CUSTOMER, REST_CUSTOMER.symptom),
        ("utter_ask_company", REST_CUSTOMER, REST_CUSTOMER.company),
        ("utter_ask_service_id", REST_CUSTOMER, REST_CUSTOMER.service_id),
        ("utter_ask_contact_name", REST_CUSTOMER, REST_CUSTOMER.name),
        ("utter_ask_contact_phone", REST_CUSTOMER, REST_CUSTOMER.phone),
        ("utter_ask_country", REST_CUSTOMER, REST_CUSTOMER.country),
        ("utter_ask_contact_email", REST_CUSTOMER, REST_CUSTOMER.email),
        ("utter_ask_symptom", REST_CUSTOMER, REST_CUSTOMER.symptom),
        ("utter_ask_symptom_kind", REST_CUSTOMER, "sin servicio"),
        ("utter_ask_symptom_kind", TWILIO_CUSTOMER, "1"),
        ("utter_ask_started", REST_CUSTOMER, REST_CUSTOMER.since[0]),
        ("utter_ask_power_ok", REST_CUSTOMER, "sí"),
        ("utter_ask_power_ok", TWILIO_CUSTOMER, "1"),
        ("utter_ask_rebooted", REST_CUSTOMER, "sí, ya lo reiniciamos"),
        ("utter_ask_rebooted", TWILIO_CUSTOMER, "1"),
        ("utter_ask_problem_persists", REST_CUSTOMER, "sí, sigue igual"),
        ("utter_ask_problem_persists", TWILIO_CUSTOMER, "1"),
        ("utter_ask_confirmed", REST_CUSTOMER, "sí"),
        ("utter_ask_confirmed", TWILIO_CUSTOMER, "1"),
        ("utter_ask_channel_phone_ok", TWILIO_CUSTOMER, "1"),
        # Refusals repeat the question's subject: the customer gives the item again.
        ("utter_invalid_company", REST_CUSTOMER, REST_CUSTOMER.company),
        ("utter_invalid_contact_phone", REST_CUSTOMER, REST_CUSTOMER.phone),
        ("utter_invalid_contact_email", REST_CUSTOMER, REST_CUSTOMER.email),
        ("utter_invalid_country", REST_CUSTOMER, REST_CUSTOMER.country),
        ("utter_phone_needs_country", REST_CUSTOMER, REST_CUSTOMER.country),
        ("utter_invalid_service_id", REST_CUSTOMER, REST_CUSTOMER.service_id),
        ("utter_invalid_contact_name", REST_CUSTOMER, REST_CUSTOMER.name),
        ("utter_invalid_started", REST_CUSTOMER, REST_CUSTOMER.since[0]),
        ("utter_invalid_symptom", REST_CUSTOMER, REST_CUSTOMER.symptom),
    ],
)
def test_each_question_of_the_domain_gets_its_item(response: str, customer, expected: str) -> None:
    for text in domain_texts(response):
        assert answer_to(text, customer) == expected, text


@pytest.mark.parametrize(
    "response", ["utter_goodbye", "utter_anything_else", "utter_offer_agent", "utter_offer_agent_low_confidence"]
)
def test_what_asks_for_no_checklist_item_gets_no_answer(response: str) -> None:
    for text in domain_texts(response):
        assert answer_to(text, REST_CUSTOMER) is None, text


@pytest.mark.parametrize(
    ("bot_texts", "expected"),
    [
        # The summary lists every item; only its last message asks something.
        (["Este es el resumen de su reporte:\n- Empresa: X\n- Correo: a@b.co", "¿Los datos son correctos?"], "sí"),
        # An agent offer after the question: the question is still answered.
        (["¿Cuál es su correo electrónico?", "Si le resulta más fácil, puedo comunicarle con un agente del NOC."],
         REST_CUSTOMER.email),
        # Twilio joins a turn's messages with a blank line.
        (["Entendido.\n\n¿Cuál es el nombre de su empresa?"], REST_CUSTOMER.company),
        ([], None),
        (["Gracias por comunicarse con el NOC. Que tenga un buen día."], None),
    ],
)  # fmt: skip
def test_a_turn_is_answered_by_its_last_question(bot_texts: list[str], expected: str | None) -> None:
    assert answer(REST_CUSTOMER, bot_texts) == expected


@pytest.mark.parametrize("offer", ["utter_offer_agent", "utter_offer_agent_low_confidence"])
def test_a_twilio_customer_types_yes_when_an_agent_offer_shares_the_numbered_list(offer: str) -> None:
    question = "¿Ya reinició el equipo?\n1. Sí\n2. No"
    assert answer(TWILIO_CUSTOMER, [question]) == "1"
    # With the offer first, "1" would pick "Hablar con un agente": the answer is typed instead.
    offered = [f"{domain_texts(offer)[0]}\n1. Hablar con un agente", "¿Ya reinició el equipo?\n2. Sí\n3. No"]
    assert answer(TWILIO_CUSTOMER, offered) == "sí, ya lo reiniciamos"


MOODBOT_CUSTOMER = make_customer(0, MOODBOT, 7)


@pytest.mark.parametrize(
    ("customer", "sent", "bot_texts", "expected"),
    [
        (REST_CUSTOMER, [], [], REST_CUSTOMER.opening[0]),
        (REST_CUSTOMER, ["hola"], ["¿Cuál es el nombre de su empresa?"], REST_CUSTOMER.company),
        (REST_CUSTOMER, ["hola"], ["Disculpe, no le entendí."], None),
        (REST_CUSTOMER, ["hola"] * MAX_TURNS, ["¿Cuál es el nombre de su empresa?"], None),
        (MOODBOT_CUSTOMER, [], [], MOODBOT_MESSAGES[0]),
        (MOODBOT_CUSTOMER, MOODBOT_MESSAGES[:-1], ["Bye"], MOODBOT_MESSAGES[-1]),
        (MOODBOT_CUSTOMER, MOODBOT_MESSAGES, ["Bye"], None),
    ],
)
def test_next_message(customer, sent: list[str], bot_texts: list[str], expected: str | None) -> None:
    assert next_message(customer, sent, bot_texts) == expected


def test_since_when_is_said_in_other_words_each_time_the_bot_asks_again() -> None:
    refused = domain_texts("utter_invalid_started") + domain_texts("utter_ask_started")
    sent = ["hola", REST_CUSTOMER.symptom]
    replies = []
    for _ in range(len(REST_CUSTOMER.since) + 1):
        replies.append(next_message(REST_CUSTOMER, sent, refused))
        sent.append(replies[-1])
    assert replies == [*REST_CUSTOMER.since, REST_CUSTOMER.since[0]]
    assert len(set(REST_CUSTOMER.since)) == 3


@pytest.mark.parametrize("index", range(len(COUNTRIES) * 3))
def test_every_customer_has_a_valid_phone_of_its_country(index: int) -> None:
    customer = make_customer(index, WHATSAPP, seed=999)
    result = normalize_phone(customer.phone)
    assert result.ok, customer.phone
    assert result.e164 == customer.address.removeprefix("whatsapp:")
    assert normalize_phone(make_customer(index, SMS, seed=0).address).ok


@pytest.mark.parametrize("channel", INTAKE_CHANNELS)
def test_customers_of_a_run_and_of_two_runs_are_distinct(channel: str) -> None:
    run = [make_customer(index, channel, seed=5) for index in range(300)]
    assert len({c.sender_id for c in run}) == len(run)
    assert len({c.email for c in run}) == len(run)
    assert len({c.service_id for c in run}) == len(run)
    # The data varies, and some customers say several items at once.
    assert len({c.company for c in run}) > 5 and len({c.name for c in run}) > 20
    assert any(c.service_id in c.opening[0] and c.company in c.opening[0] for c in run)
    other_run = {make_customer(index, channel, seed=6).sender_id for index in range(300)}
    assert not other_run & {c.sender_id for c in run}


@pytest.mark.parametrize(
    ("channel", "sender_id"),
    [(REST, "load-007-3"), (WHATSAPP, "whatsapp:+56980070003"), (SMS, "sms:+56980070003")],
)
def test_sender_ids_are_those_of_the_channel(channel: str, sender_id: str) -> None:
    assert make_customer(3, channel, seed=7).sender_id == sender_id


def test_channels_take_turns() -> None:
    assert [channel_for(index, INTAKE_CHANNELS) for index in range(4)] == [REST, WHATSAPP, SMS, REST]


@pytest.mark.parametrize("index", [-1, 10_000])
def test_customer_numbers_are_bounded(index: int) -> None:
    with pytest.raises(ValueError):
        make_customer(index, REST, seed=1)


@pytest.mark.parametrize(
    ("bot_texts", "ticket"),
    [
        ([domain_texts("utter_incident_opened")[0].replace("{ticket}", "INC-2026-000042")], "INC-2026-000042"),
        # A handoff's partial record has a ticket too, but the intake did not end.
        ([domain_texts("utter_handoff_started")[0].format(ticket="INC-2026-000007", response_target="15 minutos")],
         None),
        (["¿Cuál es su correo electrónico?"], None),
    ],
)
def test_ticket_opened(bot_texts: list[str], ticket: str | None) -> None:
    assert ticket_opened(bot_texts) == ticket


@pytest.mark.parametrize(
    ("bot_texts", "problem"),
    [
        ([], "empty_answer"),
        ([""], "empty_answer"),
        (domain_texts("utter_channel_rate_limited"), "rate_limited"),
        (domain_texts("utter_channel_error"), "bot_error"),
        ([domain_texts("utter_handoff_started")[0].format(ticket="INC-2026-000007", response_target="15 minutos")],
         "handoff"),
        (["¿Cuál es el nombre de su empresa?"], None),
    ],
)
def test_turn_problem(bot_texts: list[str], problem: str | None) -> None:
    assert turn_problem(bot_texts) == problem


# Every time a customer gives, alone or inside its opening, at four hours of the day
# (a run starts at any hour): the bot refuses a moment in the future.
TIMES_SAID = (
    *make_customer(0, REST, seed=1).since,
    "desde ayer a las 8",
    "desde anoche",
    "desde ayer a las 10 de la mañana",
)


@pytest.mark.parametrize("said", TIMES_SAID)
@pytest.mark.parametrize("zone", ["America/Bogota", "America/Lima", "America/Mexico_City", "America/Santiago"])
@pytest.mark.parametrize("hour", [0, 7, 13, 23])
def test_what_customers_say_about_since_when_is_past_at_any_hour(said: str, zone: str, hour: int) -> None:
    now = datetime(2026, 12, 1, hour, 30, tzinfo=ZoneInfo(zone))
    assert parse_since(said, tz=zone, now=now) is not None


def test_the_times_above_are_those_the_customers_say() -> None:
    customers = [make_customer(index, REST, seed=1) for index in range(24)]
    said = " ".join(text for c in customers for text in (*c.opening, c.symptom))
    assert all(phrase in said for phrase in TIMES_SAID[3:])
    assert {c.since[0] for c in customers} == set(TIMES_SAID[:3])
