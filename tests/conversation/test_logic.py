"""The conversation benchmark's own logic, without servers: banks, bot messages, customers, scoring."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import pytest
import yaml

from scripts.conversation import bot
from scripts.conversation.banks import HALVES, Answer, Bank, load_banks
from scripts.conversation.bot import BotMessage, BotTurn, read_turn, recognise, templates_from_domain
from scripts.conversation.customers import (
    BUTTON,
    CANNOT_ANSWER,
    CORRECTION,
    DENY_SUMMARY,
    HANDOFF,
    OPENING,
    REPEAT,
    REQUEST_HUMAN,
    TICKET,
    UNUSABLE,
    USABLE,
    Customer,
    Plan,
    Reply,
    field_named,
    generate,
    phone_country,
    same_value,
)
from scripts.conversation.scoring import compare_record, longest_runs, record_value, score
from scripts.conversation.simulate import Conversation, Exchange

BANKS = load_banks()
DOMAIN = {
    "responses": {
        "utter_ask_company": [
            {"condition": [{"type": "slot", "name": "reask", "value": "help"}], "text": "Necesito el nombre."},
            {"text": "¿Cuál es el nombre de su empresa?"},
        ],
        "utter_ask_power_ok": [
            {"condition": [{"type": "slot", "name": "power_warned", "value": True}], "text": "¿Pudo restablecer?"},
            {"text": "¿El equipo está encendido?", "buttons": [{"title": "Sí", "payload": "/affirm"}]},
        ],
        "utter_incident_opened": [{"text": "Su incidente quedó registrado con el ticket {ticket}.\nSeveridad {s}."}],
        "utter_greet": [{"text": "Hola. Cuénteme, ¿qué problema presenta?"}],
        "utter_summary": [{"text": "Resumen:\n- Empresa: {company}"}],
        "utter_ask_confirmed": [{"text": "¿Los datos son correctos?"}],
        "utter_handoff_started": [{"text": "Le comunico con un agente. Su caso {ticket} en {response_target}."}],
    }
}
TEMPLATES = templates_from_domain(DOMAIN)


# -- banks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BANKS))
def test_every_bank_has_usable_answers_in_both_halves(name: str) -> None:
    bank = BANKS[name]
    for half in HALVES:
        answers = bank.half(half)
        assert answers, (name, half)
        if name != "unusable":
            assert bank.usable(half), (name, half)
    assert all(a.half == ("train" if a.index % 2 == 0 else "heldout") for a in bank.answers)


# -- recognising the bot -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "response", "variant"),
    [
        ("¿Cuál es el nombre de su empresa?", "utter_ask_company", ""),
        ("Necesito el nombre.", "utter_ask_company", "reask=help"),
        ("¿Pudo restablecer?", "utter_ask_power_ok", "power_warned=true"),
        ("Su incidente quedó registrado con el ticket INC-2026-000001.\nSeveridad 1.", "utter_incident_opened", ""),
        ("Resumen:\n- Empresa: Banco Andino", "utter_summary", ""),
        ("algo que el dominio no tiene", None, ""),
    ],
)
def test_recognise(text: str, response: str | None, variant: str) -> None:
    assert recognise(text, TEMPLATES) == (response, variant)


def test_every_ask_of_the_domain_is_recognised_as_its_question() -> None:
    domain = yaml.safe_load(bot.DOMAIN.read_text(encoding="utf-8"))
    templates = templates_from_domain(domain)
    for name, variants in domain["responses"].items():
        for variant in variants:
            text = variant["text"].replace("{", "").replace("}", "")
            found, _ = recognise(text, templates)
            assert bot.question_of(found) == bot.question_of(name), (name, text, found)


def test_read_turn_finds_the_question_the_terminal_and_the_number() -> None:
    turn = read_turn(
        [
            {"text": "Resumen:\n- Empresa: X"},
            {"text": "¿Los datos son correctos?"},
        ],
        TEMPLATES,
    )
    assert (turn.questions, turn.terminal) == (("confirmed",), None)
    closing = read_turn(
        [{"text": "Su incidente quedó registrado con el ticket INC-2026-000042.\nSeveridad 2."}], TEMPLATES
    )
    assert (closing.terminal, closing.number) == (bot.TICKET, "INC-2026-000042")
    assert read_turn([{"text": "Hola. Cuénteme, ¿qué problema presenta?"}], TEMPLATES).question == "symptom"


# -- customers -------------------------------------------------------------------------------------


def answer(bank: str, index: int, text: str, expect: Mapping[str, Any], region: str = "Perú") -> Answer:
    return Answer(bank=bank, index=index, text=text, region=region, expect=dict(expect))


def fake_banks() -> dict[str, Bank]:
    def bank(name: str, *answers: Answer) -> Bank:
        return Bank(question=name, asked="", answers=answers)

    return {
        "opening": bank("opening", answer("opening", 0, "no tengo internet", {"symptom_kind": "sin_servicio"})),
        "company": bank(
            "company",
            answer("company", 0, "Banco Andino", {"company": "Banco Andino"}),
            answer("company", 2, "es la misma", {}),
            answer("company", 4, "Minera Sur", {"company": "Minera Sur"}),
        ),
        "power_ok": bank(
            "power_ok",
            answer("power_ok", 0, "sí, hay luz", {"power_ok": True}),
            answer("power_ok", 2, "no hay luz", {"power_ok": False}),
            answer(
                "power_ok",
                4,
                "sí, y lo reinicié y sigue",
                {"power_ok": True, "rebooted": True, "problem_persists": True},
            ),
        ),
        "confirmed": bank(
            "confirmed",
            answer("confirmed", 0, "sí, correcto", {"confirmed": True}),
            answer("confirmed", 2, "no, la empresa está mal", {"confirmed": False}),
        ),
        "correction": bank(
            "correction", answer("correction", 0, "la empresa es Minera Sur", {"company": "Minera Sur"})
        ),
        "request_human": bank("request_human", answer("request_human", 0, "quiero una persona", {"handoff": True})),
        "cancel": bank("cancel", answer("cancel", 0, "cancele", {"cancel": True})),
        "unusable": bank("unusable", answer("unusable", 0, "mmm", {})),
    }


def customer(plan: Plan | None = None, **truth: Any) -> Customer:
    banks = fake_banks()
    made = Customer(
        index=0,
        half="train",
        flow="intake",
        region="Perú",
        opening=banks["opening"].answers[0],
        plan=plan or Plan(unusable_rate=0.0),
        banks=banks,
        rng=random.Random(1),
    )
    made.truth.update({"power_ok": True, "rebooted": False, "problem_persists": True, "confirmed": True, **truth})
    made.opening_reply()
    return made


def asks(question: str, *buttons: tuple[str, str]) -> BotTurn:
    return BotTurn(
        messages=(BotMessage(text="?", buttons=buttons, response=f"utter_ask_{question}"),), questions=(question,)
    )


@pytest.mark.parametrize(("power", "allowed"), [(True, {"sí, hay luz"}), (False, {"no hay luz"})])
def test_a_yes_no_answer_agrees_with_the_truth_on_every_key(power: bool, allowed: set[str]) -> None:
    for seed in range(10):
        someone = customer(power_ok=power)
        someone.rng = random.Random(seed)
        reply = someone.reply(asks("power_ok"))
        assert reply is not None and reply.text in allowed and reply.kind == USABLE


def test_a_first_text_answer_becomes_the_truth_and_a_second_ask_repeats_it() -> None:
    someone = customer()
    first = someone.reply(asks("company"))
    assert first is not None and first.kind == USABLE
    assert someone.truth["company"] == first.states["company"]
    again = someone.reply(asks("company"))
    assert again is not None and again.kind == REPEAT and again.states["company"] == first.states["company"]


def test_an_unusable_answer_comes_first_then_a_usable_one() -> None:
    someone = customer(Plan(unusable_rate=1.0))
    first, second = someone.reply(asks("company")), someone.reply(asks("company"))
    assert first is not None and first.kind == UNUSABLE and first.states == {}
    assert second is not None and second.kind == USABLE


def test_a_planned_request_for_a_person_replaces_that_answer() -> None:
    someone = customer(Plan(unusable_rate=0.0, request_human_at=2))
    assert someone.reply(asks("company")).kind == USABLE  # type: ignore[union-attr]
    request = someone.reply(asks("power_ok"))
    assert request is not None and request.kind == REQUEST_HUMAN
    assert someone.expected_outcome == HANDOFF


def test_a_no_to_the_summary_names_the_field_and_its_new_value_becomes_the_truth() -> None:
    someone = customer(Plan(unusable_rate=0.0, correct=True), company="Banco Andino")
    someone.stated["company"] = 1
    deny = someone.reply(asks("confirmed"))
    assert deny is not None and deny.kind == DENY_SUMMARY and "company" in deny.invites
    new = someone.reply(asks("company"))
    assert new is not None and new.states["company"] == "Minera Sur" == someone.truth["company"]
    assert someone.reply(asks("confirmed")).states == {"confirmed": True}  # type: ignore[union-attr]


def test_a_summary_shown_again_before_the_correction_gets_the_new_value() -> None:
    someone = customer(Plan(unusable_rate=0.0, correct=True), company="Banco Andino")
    assert someone.reply(asks("confirmed")).kind == DENY_SUMMARY  # type: ignore[union-attr]
    insisted = someone.reply(asks("confirmed"))
    assert insisted is not None and insisted.kind == CORRECTION and insisted.states == {"company": "Minera Sur"}
    assert someone.truth["company"] == "Minera Sur" and someone.correcting is None


def test_a_direct_correction_changes_the_truth() -> None:
    someone = customer(Plan(unusable_rate=0.0, correct=True, correct_directly=True), company="Banco Andino")
    reply = someone.reply(asks("confirmed"))
    assert reply is not None and reply.kind == CORRECTION and someone.truth["company"] == "Minera Sur"


def test_the_symptom_buttons_are_pressed_by_the_truth() -> None:
    someone = customer()
    buttons = (
        ("Sin servicio", '/inform{"symptom_kind":"sin_servicio"}'),
        ("Lentitud", '/inform{"symptom_kind":"lentitud"}'),
    )
    reply = someone.reply(asks("symptom_kind", *buttons))
    assert reply is not None and reply.kind == BUTTON and reply.text == buttons[0][1]


def test_a_ticket_question_in_an_intake_is_not_answered_with_a_made_up_ticket() -> None:
    reply = customer().reply(asks("ticket"))
    assert reply is not None and reply.kind == CANNOT_ANSWER and reply.states == {}


def test_the_same_seed_makes_the_same_customers() -> None:
    first = generate(20, seed=3, half="heldout", banks=BANKS)
    second = generate(20, seed=3, half="heldout", banks=BANKS)
    assert [(c.opening.text, c.plan, c.truth) for c in first] == [(c.opening.text, c.plan, c.truth) for c in second]
    assert all(c.opening.half == "heldout" for c in first)


# -- comparing and scoring ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "left", "right", "same"),
    [
        ("contact_name", "Martín Gutiérrez", "martin gutierrez", True),
        ("company", "Banco Istmeño S.A.", "BANCO ISTMENO S.A", True),
        ("company", "La Ceiba C.A.", "Alimentos La Ceiba C.A.", False),
        ("service_id", "co-mpls-00881", "CO-MPLS-00881", True),
        ("contact_phone", "+57 310 555 0142", "+573105550142", True),
        ("power_ok", True, False, False),
    ],
)
def test_same_value(key: str, left: Any, right: Any, same: bool) -> None:
    assert same_value(key, left, right) is same


@pytest.mark.parametrize(
    ("text", "field"),
    [("no, el correo está mal", "contact_email"), ("No, el ID del servicio está equivocado", "service_id"),
     ("no, el apeliido esta mal escrito", "contact_name"), ("no, te faltó un número en el teléfono", "contact_phone")],
)  # fmt: skip
def test_field_named(text: str, field: str) -> None:
    assert field_named(text) == field


@pytest.mark.parametrize(
    ("phone", "country"), [("+573001234567", "CO"), ("+18095550142", "DO"), ("+50765550123", "PA")]
)
def test_phone_country(phone: str, country: str) -> None:
    assert phone_country(phone) == country


@pytest.mark.parametrize(
    ("questions", "runs"),
    [(["a", "a", "b", "a"], {"a": 2, "b": 1}), (["c"] * 5, {"c": 5}), ([], {})],
)
def test_longest_runs(questions: list[str], runs: dict[str, int]) -> None:
    assert longest_runs(questions) == runs


def test_compare_record_separates_wrong_values_from_invented_ones() -> None:
    expected = {"company": "Banco Andino", "power_ok": None, "started": True, "contact_email": "a@b.co"}
    record = {"company": "banco andino", "power_ok": True, "started_text": "desde ayer", "contact_email": "x@b.co"}
    mismatches, invented = compare_record(expected, record)
    assert invented == ["power_ok"]
    assert set(mismatches) == {"contact_email"}


def turn_of(*responses: str, terminal: str | None = None) -> BotTurn:
    messages = tuple(BotMessage(text=r, buttons=(), response=r) for r in responses)
    return BotTurn(
        messages=messages, questions=tuple(q for r in responses if (q := bot.question_of(r))), terminal=terminal
    )


def conversation_of(someone: Customer, steps: list[tuple[str, str, str | None, BotTurn]], outcome: str) -> Conversation:
    """A conversation from (customer text, reply kind, question answered, bot turn) steps."""
    exchanges = [Exchange(Reply(text, kind, question), turn) for text, kind, question, turn in steps]
    return Conversation(customer=someone, sender="s", exchanges=exchanges, outcome=outcome)


@pytest.mark.parametrize(
    ("next_turn", "taken"),
    [
        (turn_of("utter_not_an_answer", "utter_ask_company"), False),
        (turn_of("utter_ask_contact_name"), True),
        (turn_of("utter_incident_opened", terminal=bot.TICKET), True),
        (turn_of("utter_handoff_started", terminal=bot.HANDOFF), False),
    ],
)
def test_an_unusable_answer_is_taken_when_the_bot_moves_on(next_turn: BotTurn, taken: bool) -> None:
    someone = customer()
    steps = [
        ("no tengo internet", OPENING, None, turn_of("utter_ask_company")),
        ("mmm", UNUSABLE, "company", next_turn),
    ]
    result = score(conversation_of(someone, steps, outcome="stopped"))
    assert result.unusable_given == 1
    assert bool(result.unusable_taken) is taken


def test_a_question_asked_again_after_a_usable_answer_is_a_re_ask_and_five_in_a_row_a_loop() -> None:
    someone = customer()
    ask = turn_of("utter_ask_company")
    steps = [("no tengo internet", OPENING, None, ask)] + [("Banco Andino", USABLE, "company", ask)] * 5
    result = score(conversation_of(someone, steps, outcome="turn_limit"))
    assert result.reasked == ["company"] * 5
    assert result.loops == ["company"]
    assert not result.success and result.expected_outcome == TICKET


def test_a_record_value_taken_from_an_unusable_answer_is_invented_and_taken() -> None:
    someone = customer(company="Banco Andino")
    someone.stated["company"] = 2
    summary = turn_of("utter_summary", "utter_ask_confirmed")
    steps = [
        ("no tengo internet", OPENING, None, turn_of("utter_ask_company")),
        ("Banco Andino", USABLE, "company", summary),
        ("un momentico, no me carga", UNUSABLE, "confirmed", summary),
        ("sí", USABLE, "confirmed", turn_of("utter_incident_opened", terminal=bot.TICKET)),
    ]
    conversation = conversation_of(someone, steps, outcome=TICKET)
    conversation.number = "INC-2026-000001"
    conversation.record = {"company": "un momentico", "status": "abierto"}
    result = score(conversation)
    assert "company" in result.invented and result.unusable_taken == ["confirmed"]
    assert not result.success


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"description": "cambiar los DNS"}, True),
        # a change request handed to an agent: its partial record keeps the request as symptom
        ({"symptom": "cambiar los DNS", "description": None}, True),
        ({"symptom": None}, None),
    ],
)
def test_record_value_of_a_description(record: dict, expected: bool | None) -> None:
    assert record_value(record, "description") is expected
