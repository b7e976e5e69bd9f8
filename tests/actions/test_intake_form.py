"""The form's validators and its dynamic list of questions."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.intake_form import ValidateIncidentForm
from tests.actions.helpers import domain, make_tracker, responses

FORM = ValidateIncidentForm()
REQUIRED = domain()["forms"]["incident_form"]["required_slots"]


async def validate(slot: str, value, **tracker_args):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(requested=tracker_args.pop("requested", slot), **tracker_args)
    result = await _call(getattr(FORM, f"validate_{slot}"), value, dispatcher, tracker)
    return result, responses(dispatcher)


async def _call(method, value, dispatcher, tracker):
    out = method(value, dispatcher, tracker, domain())
    if hasattr(out, "__await__"):
        out = await out
    return out


@pytest.mark.parametrize(
    ("slot", "value", "expected"),
    [
        ("company", "Banco Andino", "Banco Andino"),
        ("service_id", "co-mpls-00123", "CO-MPLS-00123"),
        ("contact_name", "ana ruiz", "Ana Ruiz"),
        ("contact_email", "Ana.Ruiz@BancoAndino.com.co", "Ana.Ruiz@bancoandino.com.co"),
        ("symptom", "el enlace de la sede norte está caído", "el enlace de la sede norte está caído"),
        ("symptom_kind", "sin_servicio", "sin_servicio"),
        ("started", "desde ayer a las 3 de la tarde", "desde ayer a las 3 de la tarde"),
    ],
)
async def test_valid_values_are_kept(slot, value, expected):
    result, said = await validate(slot, value)
    assert result[slot] == expected
    assert said == []


@pytest.mark.parametrize(
    ("slot", "value"),
    [
        ("company", "<script>alert(1)</script>"),
        ("company", "12345"),
        ("service_id", "hola"),
        ("contact_name", "🙂🙂"),
        ("contact_email", "ana.ruiz@"),
        ("contact_phone", "abc"),
        ("symptom", "🙂"),
        ("symptom_kind", "desconocido"),
        ("started", "el router"),
        ("country", "Narnia"),
    ],
)
async def test_bad_values_are_refused_with_their_own_message(slot, value):
    result, said = await validate(slot, value)
    assert result[slot] is None
    assert said == [f"utter_invalid_{slot}"]


async def test_a_good_answer_resets_the_count():
    result, _ = await validate("contact_email", "a@b.co", slots={"invalid_slot": "contact_email", "invalid_count": 2.0})
    assert result["invalid_count"] == 0 and result["invalid_slot"] is None


@pytest.mark.parametrize(
    ("raw", "e164", "country"),
    [
        ("+57 300 123 4567", "+573001234567", "CO"),
        ("+51 987 654 321", "+51987654321", "PE"),
        ("whatsapp:+5215512345678", None, "MX"),
    ],
)
async def test_international_phone_decides_the_country(raw, e164, country):
    result, _ = await validate("contact_phone", raw)
    assert result["country"] == country
    if e164:
        assert result["contact_phone"] == e164


async def test_local_phone_waits_for_the_country():
    result, said = await validate("contact_phone", "300 123 4567")
    assert result == {"contact_phone": None, "pending_local_phone": "300 123 4567"}
    assert said == ["utter_phone_needs_country"]
    result, said = await validate("country", "Colombia", slots={"pending_local_phone": "300 123 4567"})
    assert result["country"] == "CO" and result["contact_phone"] == "+573001234567"
    assert result["pending_local_phone"] is None


async def test_local_phone_read_in_the_known_country():
    result, _ = await validate("contact_phone", "987 654 321", slots={"country": "PE"})
    assert result["contact_phone"] == "+51987654321"


def _known_before(**slots):
    """The events of slots set before the latest user message."""
    return [*({"event": "slot", "name": k, "value": v} for k, v in slots.items()), {"event": "user", "text": "…"}]


async def test_city_in_passing_does_not_override_a_known_country():
    known = {"country": "CO", "contact_phone": "+573001234567"}
    result, _ = await validate("country", "Lima", slots=known, events=_known_before(**known), requested="service_id")
    assert result["country"] == "CO"


async def test_unknown_place_in_passing_keeps_the_country_not_the_word():
    # "aguantá un toque" at the summary, "aguantá" tagged as a location: a record with
    # country="aguantá" could not be saved (nor handed to an agent).
    result, said = await validate(
        "country", "aguantá", slots={"country": "aguantá"}, events=_known_before(country="PR"), requested="confirmed"
    )
    assert result == {"country": "PR"} and said == []


async def test_place_named_with_the_phone_outranks_the_phone_country():
    entities = [{"entity": "location", "value": "Caracas"}]
    result, _ = await validate(
        "contact_phone", "+51 987 654 321", text="en Caracas, mi cel +51 987 654 321", entities=entities
    )
    assert result["contact_phone"] == "+51987654321" and "country" not in result
    result, _ = await validate("contact_phone", "+51 987 654 321", events=_known_before(country="VE"))
    assert "country" not in result
    result, _ = await validate("contact_phone", "+51 987 654 321")
    assert result["country"] == "PE"


async def test_city_answers_the_country_question():
    result, _ = await validate("country", "desde Lima")
    assert result["country"] == "PE"


async def test_power_problem_asks_to_restore_then_accepts():
    result, said = await validate("power_ok", False)
    assert result == {"power_ok": None, "power_warned": True}
    assert said == ["utter_restore_power_first"]
    result, said = await validate("power_ok", False, slots={"power_warned": True})
    assert result == {"power_ok": False}
    assert said == ["utter_power_problem_noted"]


@pytest.mark.parametrize(
    ("text", "warned"),
    [
        ("no, se fue la luz en toda la zona", False),
        ("no hay luz, los vecinos tampoco tienen", False),
        ("no, el breaker se bajó", True),
        ("no, está apagado", True),
    ],
)
async def test_a_power_cut_beyond_the_site_is_noted_at_once(text, warned):
    # No breaker or UPS at the site brings back a zone's power: no restore instructions.
    result, said = await validate("power_ok", False, text=text)
    assert said == (["utter_restore_power_first"] if warned else ["utter_power_problem_noted"])
    assert result["power_ok"] is (None if warned else False)


async def test_not_rebooted_asks_to_reboot():
    result, said = await validate("rebooted", False)
    assert result == {"rebooted": False}
    assert said == ["utter_please_reboot"]


async def test_answering_after_reboot_means_it_was_rebooted():
    result, _ = await validate("problem_persists", False, slots={"rebooted": False})
    assert result == {"problem_persists": False, "rebooted": True}


async def test_no_at_summary_asks_what_to_correct():
    result, _ = await validate("confirmed", False)
    assert result == {"confirmed": None, "awaiting_correction": True}


async def test_naming_the_field_clears_it():
    entities = [{"entity": "field", "value": "contact_phone"}]
    result, _ = await validate("confirmed", False, entities=entities, intent="correct")
    assert result == {"confirmed": None, "contact_phone": None, "pending_local_phone": None}


async def test_correction_with_value_shows_the_summary_again():
    events = [
        {"event": "user", "text": "el correo es a@b.co"},
        {"event": "slot", "name": "contact_email", "value": "a@b.co"},
        {"event": "slot", "name": "confirmed", "value": False},
    ]
    result, _ = await validate("confirmed", False, events=events, intent="correct")
    assert result == {"confirmed": None}


@pytest.mark.parametrize(
    ("value", "cleared"),
    [("el correo", "contact_email"), ("company", "company"), ("el teléfono", "contact_phone")],
)
async def test_correction_field_clears_the_named_slot(value, cleared):
    result, _ = await validate("correction_field", value, slots={"awaiting_correction": True})
    assert result[cleared] is None
    assert result["awaiting_correction"] is False and result["correction_field"] is None


async def required(events=None, **slots):
    tracker = make_tracker(slots, events=events)
    return await FORM.required_slots(list(REQUIRED), CollectingDispatcher(), tracker, domain())


async def test_checklist_order_by_default():
    assert await required() == [slot for slot in REQUIRED if slot not in ("correction_field", "channel_phone_ok")]


async def test_pending_local_phone_asks_country_first():
    slots = await required(pending_local_phone="3001234567")
    assert slots.index("country") < slots.index("contact_phone")


async def test_power_problem_skips_reboot_questions():
    slots = await required(power_ok=False)
    assert "rebooted" not in slots and "problem_persists" not in slots and "confirmed" in slots


async def test_solved_problem_needs_no_confirmation():
    assert "confirmed" not in await required(problem_persists=False)


async def test_awaiting_correction_asks_which_field():
    slots = await required(awaiting_correction=True)
    assert slots.index("correction_field") == slots.index("confirmed") - 1


async def test_correction_field_with_the_new_value_keeps_it():
    events = [
        {"event": "user", "text": "el correo está mal, es a@b.co"},
        {"event": "slot", "name": "contact_email", "value": "a@b.co"},
        {"event": "slot", "name": "correction_field", "value": "contact_email"},
    ]
    result, _ = await validate("correction_field", "contact_email", slots={"awaiting_correction": True}, events=events)
    assert result == {"correction_field": None, "awaiting_correction": False}


async def test_bad_value_in_passing_is_dropped_silently_and_keeps_the_old_one():
    events = [
        {"event": "slot", "name": "contact_phone", "value": "+573001234567"},
        {"event": "user", "text": "mi servicio es 12345"},
        {"event": "slot", "name": "contact_phone", "value": "12345"},
    ]
    result, said = await validate("contact_phone", "12345", requested="service_id", events=events)
    assert result == {"contact_phone": "+573001234567"}
    assert said == []


WHATSAPP_EVENTS = [{"event": "user", "text": "hola", "metadata": {"channel_phone": "+573001234567"}}]


async def test_channel_number_is_confirmed_instead_of_typed():
    slots = await required(events=WHATSAPP_EVENTS)
    assert slots.index("channel_phone_ok") == slots.index("contact_phone") - 1
    assert "channel_phone_ok" not in await required(events=WHATSAPP_EVENTS, contact_phone="+51987654321")


async def test_confirmed_channel_number_fills_phone_and_country():
    result, _ = await validate("channel_phone_ok", True, events=WHATSAPP_EVENTS)
    assert result == {"channel_phone_ok": True, "contact_phone": "+573001234567", "country": "CO"}


async def test_refused_channel_number_asks_for_another():
    result, _ = await validate("channel_phone_ok", False, events=WHATSAPP_EVENTS)
    assert result == {"channel_phone_ok": False}


async def test_partial_outage_wins_over_the_failure_words():
    entities = [
        {"entity": "symptom_kind", "value": "parcial"},
        {"entity": "symptom_kind", "value": "sin_servicio"},
    ]
    result, said = await validate("symptom_kind", "sin_servicio", entities=entities, requested="company")
    assert result["symptom_kind"] == "parcial" and said == []


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("hola, en la sede de Miraflores se va y viene", "Miraflores", False),
        ("sigue igual", "igual", False),
        ("Soy Ana de Banco Andino S.A.", "Banco Andino S.A.", True),
        ("trabajo en Grupo Éxito", "Grupo Éxito", True),
        ("de Posada del Mar, en Cartagena, sin internet", "Cartagena", False),
        ("hay que cambiar los DNS del enlace", "DNS del", False),
        ("somos Banco de Bogotá", "Banco de Bogotá", True),
    ],
)
def test_a_company_in_passing_is_capitalised_and_not_a_place(text, value, expected):
    from actions.intake_form import plausible_company

    assert plausible_company(text, value) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ignacio Larraín, encargado de TI", "Ignacio Larraín"),
        ("Rosa Quispe Mamani, jefa de sistemas", "Rosa Quispe Mamani"),
        ("maria del pilar salas", "Maria del Pilar Salas"),
        ("bom dia, a minha internet caiu", None),
    ],
)
def test_a_name_answered_with_a_role(text, expected):
    from noc.domain.validators import person_name_from_answer

    assert person_name_from_answer(text) == expected


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("se fue la luz un rato pero ya volvió", "luz", False),
        ("habla Luz Marina Ortega", "Luz Marina Ortega", True),
        ("soy Luz, de la sede centro", "Luz", True),
        ("soy juan carlos rivas", "juan carlos rivas", True),
    ],
)
def test_a_person_in_passing_is_not_a_common_noun(text, value, expected):
    from actions.intake_form import plausible_person

    assert plausible_person(text, value) is expected


async def test_a_company_tagged_as_the_person_is_not_the_contact():
    text = "Buenas, habla Pablo Ríos del Bufete Ríos y Asociados, no tenemos internet"
    entities = [{"entity": "person", "value": "Pablo Ríos del Bufete Ríos"}]
    result, _ = await validate(
        "contact_name", "Pablo Ríos del Bufete Ríos", text=text, entities=entities, requested=None
    )
    assert result["contact_name"] == "Pablo Ríos"
    result, said = await validate(
        "contact_name", "Estudio Jurídico Morales", text="del Estudio Jurídico Morales", requested=None
    )
    assert result["contact_name"] is None and said == []


async def test_a_capitalised_answer_drops_its_lowercase_lead_in():
    text = "la razón social es Transportes El Cóndor S.A."
    entities = [{"entity": "company", "value": "Transportes El Cóndor S.A."}]
    result, _ = await validate("company", "Transportes El Cóndor S.A.", text=text, entities=entities)
    assert result["company"] == "Transportes El Cóndor S.A."


async def test_a_place_in_the_company_name_is_not_where_the_service_is():
    text = "soy Iris de Cementos Cartagena S.A., no hay servicio"
    entities = [{"entity": "company", "value": "Cementos Cartagena S.A."}, {"entity": "location", "value": "Cartagena"}]
    result, _ = await validate("country", "Cartagena", text=text, entities=entities, requested="contact_phone")
    assert result["country"] is None
    result, _ = await validate("contact_phone", "+51 987 654 321", text=text + " +51 987 654 321", entities=entities)
    assert result["country"] == "PE"


async def test_the_longest_of_two_names_in_a_correction_is_the_name():
    text = "me llamo Ana Lucía Prieto Vargas, no Ana Prieto"
    entities = [{"entity": "person", "value": "Ana Lucía Prieto Vargas"}, {"entity": "person", "value": "Ana Prieto"}]
    result, _ = await validate("contact_name", "Ana Prieto", text=text, entities=entities, requested="correction_field")
    assert result["contact_name"] == "Ana Lucía Prieto Vargas"


async def test_a_service_number_is_not_also_the_phone():
    text = "el número de servicio es 7781203345"
    known = {"contact_phone": "+525555550921", "country": "MX"}
    events = [*_known_before(**known)[:-1], {"event": "user", "text": text}]
    result, _ = await validate(
        "contact_phone", "7781203345", text=text, slots=known, events=events, requested="service_id"
    )
    assert result["contact_phone"] == "+525555550921"


async def test_a_city_in_the_company_name_and_named_again_is_the_place():
    text = "les escribe Rosa de Textiles Arequipa S.A.C., la planta de Arequipa está sin servicio"
    entities = [{"entity": "company", "value": "Textiles Arequipa S.A.C."}, {"entity": "location", "value": "Arequipa"}]
    result, _ = await validate("country", "Arequipa", text=text, entities=entities, requested="contact_phone")
    assert result["country"] == "PE"


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        # an accent or ñ added by habit: the answer says what is wrong
        ("bajú@micoope.com.gt", "utter_invalid_contact_email_accents"),
        ("mi correo es peña.luis@ferreteria.com.pe", "utter_invalid_contact_email_accents"),
        ("luis arroba ferreteria punto com", "utter_invalid_contact_email"),
    ],
)
async def test_an_email_with_accents_is_refused_saying_why(answer, said):
    result, told = await validate("contact_email", answer, text=answer)
    assert result["contact_email"] is None
    assert told == [said]
