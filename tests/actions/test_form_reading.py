"""The whole validation action on one message: reading, digressions, bad answers counted."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.change_request_form import ValidateChangeRequestForm
from actions.intake_form import ValidateIncidentForm
from tests.actions.helpers import domain, make_tracker, responses

FORM = ValidateIncidentForm()
CHANGE_FORM = ValidateChangeRequestForm()


async def run_form(
    text: str,
    *,
    requested: str | None,
    intent: str = "inform",
    confidence: float = 0.99,
    slots: dict[str, Any] | None = None,
    extracted: dict[str, Any] | None = None,
    form: Any = FORM,
    entities: list[dict[str, Any]] | None = None,
    ranking: list[tuple[str, float]] | None = None,
) -> tuple[dict[str, Any], list[str], list[dict[str, Any]]]:
    """Run the form's validation action as Rasa would after the customer's message.

    `extracted` are the slots Rasa's own mappings set from the message (from_text,
    from_entity): they come as SlotSet events after the user event.
    """
    before = [{"event": "slot", "name": k, "value": v} for k, v in (slots or {}).items()]
    after = [{"event": "slot", "name": k, "value": v} for k, v in (extracted or {}).items()]
    # As Rasa sends it: the customer's message after a listen, the slot candidates,
    # then the form's own ActionExecuted (and the candidates again).
    events = [
        *before,
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text},
        *after,
        {"event": "action", "name": form.form_name()},
        *after,
    ]
    tracker = make_tracker(
        {**(slots or {}), **(extracted or {})},
        requested=requested,
        intent=intent,
        text=text,
        events=events,
        entities=entities,
        active_loop=form.form_name(),
    )
    tracker.latest_message["intent"]["confidence"] = confidence
    if ranking:
        tracker.latest_message["intent_ranking"] = [{"name": n, "confidence": c} for n, c in ranking]
    dispatcher = CollectingDispatcher()
    out = await form.run(dispatcher, tracker, domain())
    slots_set = {e["name"]: e["value"] for e in out if e.get("event") == "slot"}
    return slots_set, responses(dispatcher), out


@pytest.mark.parametrize(
    ("requested", "text", "intent", "expected"),
    [
        ("power_ok", "sí, con energía", "power_problem", True),
        ("power_ok", "Sí, el equipo está encendido y no hay problemas de energía en el sitio", "power_problem", True),
        ("power_ok", "si el equipo esta encendido", "affirm", True),
        ("power_ok", "no tenemos luz desde la mañana", "power_problem", False),
        ("problem_persists", "sí, ya se reinició y sigue igual", "rebooted", True),
        ("problem_persists", "listo, lo reinicié y ya funciona todo, gracias", "thank", False),
        ("rebooted", "Sí, se reinició y el problema persiste", "rebooted", True),
        ("level_exhausted", "sí, ya contactamos al nivel 1 hace una hora y no obtuvimos respuesta", "affirm", True),
    ],
)
async def test_yes_no_answers_are_read_from_the_words(requested, text, intent, expected):
    # After a reboot; for power, after the bot already asked to restore it (the first "no" only warns).
    slots = {"rebooted": True} if requested == "problem_persists" else {"power_warned": True}
    form = FORM if requested != "level_exhausted" else _escalation_form()
    result, _, _ = await run_form(text, requested=requested, intent=intent, slots=slots, form=form)
    assert result[requested] is expected


def _escalation_form():
    from actions.ticket_forms import ValidateEscalationForm

    return ValidateEscalationForm()


@pytest.mark.parametrize(
    ("requested", "text"), [("power_ok", "mmm"), ("rebooted", "mmm"), ("problem_persists", "no sé qué decirle")]
)
async def test_unusable_answers_fill_nothing_and_are_counted(requested, text):
    result, said, _ = await run_form(text, requested=requested, intent="deny", slots={"rebooted": True})
    assert result.get(requested) is None
    assert said == ["utter_not_an_answer"]
    assert result["invalid_slot"] == requested and result["invalid_count"] == 1
    assert result["reask"] == "again"


async def test_bad_answers_re_ask_with_help_then_offer_a_person_then_hand_off():
    slots: dict[str, Any] = {}
    seen = []
    for _ in range(4):
        result, said, events = await run_form("eh?", requested="rebooted", slots=dict(slots))
        seen.append((said, result.get("reask")))
        slots.update({k: v for k, v in result.items() if k in ("invalid_slot", "invalid_count", "reask")})
    assert seen[0] == (["utter_not_an_answer"], "again")
    assert seen[1] == (["utter_not_an_answer"], "help")
    assert seen[2][0] == ["utter_offer_agent"]
    assert seen[3][0] == ["utter_handoff_after_retries"]
    assert any(e.get("event") == "followup" and e.get("name") == "action_handoff" for e in events)
    assert any(e.get("event") == "action_execution_rejected" for e in events)


async def test_a_hedge_to_a_text_question_is_not_taken_as_the_company():
    result, said, _ = await run_form("mmm no sé", requested="company", extracted={"company": "mmm no sé"})
    assert result.get("company") is None
    assert said == ["utter_not_an_answer"]


async def test_volunteered_triage_in_the_opening_fills_all_three():
    text = "El router está encendido, sin problemas de energía, y ya lo reiniciamos pero sigue sin servicio"
    tracker_result, _, _ = await run_form(text, requested=None, intent="report_incident")
    assert (tracker_result["power_ok"], tracker_result["rebooted"], tracker_result["problem_persists"]) == (
        True,
        True,
        True,
    )


async def test_a_stray_entity_does_not_overwrite_a_confirmed_company():
    result, _, _ = await run_form(
        "El enlace se cae cada rato",
        requested="symptom",
        slots={"company": "Banco Andino S.A."},
        extracted={"company": "el", "symptom": "El enlace se cae cada rato"},
    )
    assert result["company"] == "Banco Andino S.A."


async def test_an_explicit_correction_changes_a_filled_slot():
    result, _, _ = await run_form(
        "la empresa es Banco Andes, me equivoqué",
        requested="symptom",
        intent="correct",
        slots={"company": "Banco Andino S.A."},
        extracted={"company": "Banco Andes"},
    )
    assert result["company"] == "Banco Andes"


async def test_asking_for_a_person_interrupts_when_meant():
    result, said, events = await run_form(
        "quiero hablar con una persona",
        requested="company",
        intent="request_human",
        extracted={"company": "quiero hablar con una persona"},
    )
    assert result["company"] is None
    assert any(e.get("event") == "action_execution_rejected" for e in events)
    assert said == []


async def test_a_phone_number_in_a_change_request_is_not_a_digression():
    form = ValidateChangeRequestForm()
    _, _, events = await run_form(
        "+57 310 555 0142", requested="contact_email", intent="report_incident", form=form, confidence=0.7
    )
    assert not any(e.get("event") == "action_execution_rejected" for e in events)


async def test_a_query_skips_since_when_power_and_reboot():
    from rasa_sdk.executor import CollectingDispatcher as Dispatcher

    tracker = make_tracker({"symptom_kind": "consulta"})
    required = await FORM.required_slots(
        domain()["forms"]["incident_form"]["required_slots"], Dispatcher(), tracker, domain()
    )
    assert not {"started", "power_ok", "rebooted", "problem_persists"} & set(required)


@pytest.mark.parametrize(
    ("text", "requested", "first"),
    [
        # "un momento" to the greeting's question about the problem: the problem is asked
        # again, not the company.
        ("un momento", None, "symptom"),
        ("déjeme ver", "symptom", "symptom"),
        # Doubt to another question re-asks that question (the form's reading).
        ("un momento", "company", "company"),
        # Anything that is not doubt keeps the usual order.
        ("somos de Banco Andino", None, "company"),
    ],
)
async def test_doubt_to_the_greeting_asks_the_problem_again(text, requested, first):
    tracker = make_tracker(text=text, requested=requested)
    required = await FORM.required_slots(
        domain()["forms"]["incident_form"]["required_slots"], CollectingDispatcher(), tracker, domain()
    )
    assert required[0] == first


async def test_since_when_in_passing_is_read_from_the_opening():
    text = "no tenemos internet en la oficina de Monterrey desde hace como 2 horas, el modem esta prendido"
    result, _, _ = await run_form(text, requested=None, intent="report_incident")
    assert result["started"] == "desde hace como 2 horas"


@pytest.mark.parametrize(
    ("text", "described"),
    [
        # Heard as a problem report while the service ID is asked: the ID, not the problem.
        ("el circuito es CO-DIA-55120", False),
        # A failure named in passing still describes the problem.
        ("es el CO-DIA-55120, y sigue sin servicio desde ayer", True),
    ],
)
async def test_a_problem_in_passing_needs_words_about_a_failure(text, described):
    result, _, _ = await run_form(
        text,
        requested="service_id",
        intent="report_incident",
        confidence=0.81,
        extracted={"symptom": text, "service_id": "CO-DIA-55120"},
    )
    assert result["service_id"] == "CO-DIA-55120"
    assert result["symptom"] == (text if described else None)


async def test_a_correction_to_another_question_is_progress_not_a_bad_answer():
    result, _, _ = await run_form(
        "no, el correo esta mal, es lupita.hernandez@gindnorte.mx",
        requested="started",
        intent="correct",
        slots={"contact_email": "lupita.hdz@gindnorte.mx"},
        extracted={"started": "no, el correo esta mal", "contact_email": "lupita.hernandez@gindnorte.mx"},
    )
    assert result["contact_email"] == "lupita.hernandez@gindnorte.mx"
    assert "invalid_count" not in result


async def test_a_return_to_the_form_after_a_rule_counts_nothing():
    """Rasa validates again after a rule answered (no fresh message): not a second bad answer."""
    tracker_events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "hola"},
        {"event": "action", "name": "utter_hello_again"},
        {"event": "action", "name": "incident_form"},
    ]
    from actions.form_reading import answered_after_listen

    tracker = make_tracker(requested="company", events=tracker_events)
    assert not answered_after_listen(tracker)


async def test_a_name_heard_as_goodbye_is_still_the_answer():
    """The domain's from_text skips intents it lists under not_intent; the form offers the text itself."""
    result, said, _ = await run_form("Yanira Batista", requested="contact_name", intent="goodbye", confidence=0.4)
    assert result["contact_name"] == "Yanira Batista"
    assert said == []


async def test_a_sentence_heard_as_another_intent_is_not_taken_as_the_company():
    result, _, _ = await run_form(
        "es la misma que ya tienen registrada", requested="company", intent="ask_ticket_status", confidence=0.5
    )
    assert result.get("company") is None


async def test_a_digression_leaves_nothing_its_message_put_in_other_slots():
    # The question back is answered by a rule; "cajitas" tagged as a place (and so set
    # as the country by Rasa's own mapping) must not stay as the country.
    result, _, events = await run_form(
        "¿cuál equipo? tenemos como tres cajitas",
        requested="power_ok",
        intent="out_of_scope",
        slots={"country": None, "symptom_kind": "sin_servicio"},
        extracted={"country": "cajitas", "symptom_kind": "service_id"},
    )
    assert any(e.get("event") == "action_execution_rejected" for e in events)
    assert result["country"] is None and result["symptom_kind"] == "sin_servicio"


@pytest.mark.parametrize(
    ("requested", "text", "confidence", "interrupts"),
    [
        # An e-mail or phone question answered with words that hold none: the model's
        # leaning to cancelling is enough.
        ("contact_email", "mejor no lo registre, ya funciona", 0.56, True),
        ("contact_phone", "déjelo así, no lo registre", 0.45, True),
        # An answer of that shape is the answer, however the model leans.
        ("contact_email", "rquispe@mineracerroazul.com.pe", 0.56, False),
        # Other questions keep the 60 % bar.
        ("service_id", "mejor no lo registre, ya funciona", 0.56, False),
        ("contact_email", "mejor no lo registre, ya funciona", 0.3, False),
    ],
)
async def test_a_cancel_the_model_leans_to_interrupts_a_shaped_question(requested, text, confidence, interrupts):
    _, _, events = await run_form(text, requested=requested, intent="cancel", confidence=confidence)
    assert any(e.get("event") == "action_execution_rejected" for e in events) is interrupts


@pytest.mark.parametrize(
    ("text", "second", "leaves"),
    [
        # "humano" to the company question: torn between asking for a person and asking
        # whether it talks to one, it is no company either way.
        ("humano", ("bot_challenge", 0.36), True),
        # Without a word for a person, a torn model is no reason to leave the question.
        ("Ferretería El Clavo", ("inform", 0.40), False),
    ],
)
async def test_a_word_for_a_person_the_model_was_torn_on_is_no_company(text, second, leaves):
    ranking = [("nlu_fallback", 0.4), ("request_human", 0.44), second]
    result, _, events = await run_form(
        text, requested="company", intent="nlu_fallback", confidence=0.4, ranking=ranking, extracted={"company": text}
    )
    assert any(e.get("event") == "action_execution_rejected" for e in events) is leaves
    assert result["company"] == (None if leaves else text)


@pytest.mark.parametrize(
    ("text", "interrupts"),
    [
        ("un momentito por favor", False),
        ("espere, ya vuelvo", False),
        ("un momento, mejor páseme con un agente", True),
    ],
)
async def test_a_wait_heard_as_asking_for_a_person_asks_for_none(text, interrupts):
    _, _, events = await run_form(text, requested="rebooted", intent="request_human", confidence=0.95)
    assert any(e.get("event") == "action_execution_rejected" for e in events) is interrupts


@pytest.mark.parametrize(
    ("requested", "text", "intent"),
    [
        ("desired_date", "para mañana", "cancel"),
        ("started", "desde las 9 de la mañana", "greet"),
        ("contact_email", "soporte@ferreteria-elclavo.com.gt", "goodbye"),
    ],
)
async def test_an_answer_its_reader_understands_is_no_digression(requested, text, intent):
    _, _, events = await run_form(text, requested=requested, intent=intent, confidence=0.7, form=CHANGE_FORM)
    assert not any(e.get("event") == "action_execution_rejected" for e in events)


async def test_a_no_about_another_field_is_no_answer_to_the_question():
    # Asked whether the problem continues, the customer corrects the name: the "no"
    # is about the name; taken as the answer, it closed the case as solved.
    entities = [{"entity": "person", "value": "María Alejandra González Pérez"}]
    result, _, _ = await run_form(
        "no, espera, el nombre es María Alejandra González Pérez",
        requested="problem_persists",
        intent="correct",
        slots={"rebooted": True, "contact_name": "María Gonzalez"},
        entities=entities,
    )
    assert result.get("problem_persists") is None
    result, _, _ = await run_form(
        "no, sigue sin servicio", requested="problem_persists", intent="deny", slots={"rebooted": True}
    )
    assert result["problem_persists"] is True


async def test_a_reboot_that_did_nothing_answers_both_questions():
    result, _, _ = await run_form("si chamo, lo apague y lo prendi y nada", requested="rebooted", intent="affirm")
    assert result["rebooted"] is True and result["problem_persists"] is True


async def test_a_name_completed_later_replaces_the_shorter_one():
    entities = [{"entity": "person", "value": "María Alejandra González Pérez"}]
    result, _, _ = await run_form(
        "espera, el nombre completo es María Alejandra González Pérez",
        requested="rebooted",
        intent="inform",
        slots={"contact_name": "Maria Alejandra Gonzalez"},
        extracted={"contact_name": "María Alejandra González Pérez"},
        entities=entities,
    )
    assert result["contact_name"] == "María Alejandra González Pérez"
    # A stray word is no completion.
    result, _, _ = await run_form(
        "El enlace sigue caído",
        requested="rebooted",
        slots={"company": "Banco Andino S.A."},
        extracted={"company": "El"},
    )
    assert result["company"] == "Banco Andino S.A."


async def test_a_no_with_its_reason_is_the_answer_not_a_cancellation():
    result, _, events = await run_form(
        "no, es una mejora", requested="restores_service", intent="cancel", confidence=0.96, form=CHANGE_FORM
    )
    assert result["restores_service"] is False
    assert not any(e.get("event") == "action_execution_rejected" for e in events)
    _, _, events = await run_form(
        "no, mejor páseme con alguien",
        requested="restores_service",
        intent="request_human",
        confidence=0.96,
        form=CHANGE_FORM,
    )
    assert any(e.get("event") == "action_execution_rejected" for e in events)


async def test_a_question_back_heard_as_cancel_cancels_nothing():
    _, _, events = await run_form(
        "qué significa registrar?", requested="change_confirmed", intent="cancel", confidence=0.85, form=CHANGE_FORM
    )
    assert not any(e.get("event") == "action_execution_rejected" for e in events)
    _, _, events = await run_form(
        "mejor cancele la solicitud", requested="change_confirmed", intent="cancel", confidence=0.95, form=CHANGE_FORM
    )
    assert any(e.get("event") == "action_execution_rejected" for e in events)
