"""One test per way real customers were misread (issue "Understand customers as they really write").

Each customer follows a script of answers per question, in phrasings of our
own (not the issue's, not the phrase banks'), through the real servers; the
test reads the record back through the API.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import requests

from tests.e2e.conftest import Chat
from tests.e2e.servers import Servers

TICKET = re.compile(r"INC-\d{4}-\d{6}")
# The run of a customer ends at a ticket: an incident's or a change request's.
ANY_TICKET = re.compile(r"(?:INC|CHG)-\d{4}-\d{6}")

# Words of each question (first variant and the "help" one) -> the question's key.
QUESTIONS = (
    ("número desde el que nos escribe", "channel_phone_ok"),
    ("podamos llamarle", "channel_phone_ok"),
    ("nombre de la empresa", "company"),
    ("nombre de su empresa", "company"),
    ("ID del servicio", "service_id"),
    ("código del servicio", "service_id"),
    ("nombre y apellido", "contact_name"),
    ("teléfono", "contact_phone"),
    ("En qué país", "country"),
    ("país donde", "country"),
    ("correo electrónico", "contact_email"),
    ("Describa brevemente", "symptom"),
    ("qué problema presenta", "symptom"),
    ("qué le pasa al servicio", "symptom"),
    ("Cómo describiría la falla", "symptom_kind"),
    ("Desde cuándo", "started"),
    ("cuándo empezó", "started"),
    ("energía", "power_ok"),
    ("Ya reinició", "rebooted"),
    ("Apagó el equipo", "rebooted"),
    ("Después de reiniciar", "problem_persists"),
    ("Después del reinicio", "problem_persists"),
    ("Los datos son correctos", "confirmed"),
    ("todos los datos del resumen", "confirmed"),
    ("Qué cambio necesita", "change_description"),
    ("Descríbame el cambio", "change_description"),
    ("restablecer un servicio", "restores_service"),
    ("servicio caído que este cambio", "restores_service"),
    ("Para qué fecha", "desired_date"),
    ("Indíqueme una fecha", "desired_date"),
    ("Registro la solicitud", "change_confirmed"),
)


def question_of(texts: list[str]) -> str | None:
    """The question the bot's last message asks, by its words."""
    for text in reversed(texts):
        for words, key in QUESTIONS:
            if words.lower() in text.lower():
                return key
    return None


@dataclass
class Customer:
    """A customer who answers each question from a script, in order, and notes what was asked."""

    chat: Chat
    script: dict[str, list[str]]
    asked: list[str] = field(default_factory=list)

    def run(self, opening: str, *, limit: int = 30) -> str:
        """Talk until a ticket or a handoff; returns the bot's last messages."""
        texts = self.chat.say(opening)
        for _ in range(limit):
            joined = "\n".join(texts)
            if ANY_TICKET.search(joined):
                return joined
            key = question_of(texts)
            assert key is not None, self.chat.transcript()
            self.asked.append(key)
            answers = self.script.get(key)
            assert answers, f"unexpected question {key}\n{self.chat.transcript()}"
            texts = self.chat.say(answers.pop(0) if len(answers) > 1 else answers[0])
        raise AssertionError(f"no ticket after {limit} turns\n{self.chat.transcript()}")

    def times_asked(self, key: str) -> int:
        return Counter(self.asked)[key]


def record(servers: Servers, ticket: str, *, kind: str = "incidents") -> dict:
    response = requests.get(
        f"{servers.web_url}/api/{kind}/{ticket}", headers={"Authorization": f"Bearer {servers.token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


IDENTITY = {
    "company": ["Distribuidora Los Álamos S.A.S."],
    "service_id": ["el circuito es CO-DIA-55120"],
    "contact_name": ["María Fernanda López Gil"],
    "contact_phone": ["+57 311 444 2211"],
    "contact_email": ["mflopez@losalamos.com.co"],
    "confirmed": ["sí, todo bien"],
}


def test_elaborated_yes_to_the_power_question_is_a_yes(servers: Servers, chat: Chat) -> None:
    customer = Customer(
        chat,
        {
            **IDENTITY,
            "started": ["desde las seis de la mañana"],
            "power_ok": [
                "Sí señor, hay corriente y el equipo tiene las luces prendidas, no hay problema de luz"
            ],
            "rebooted": ["si ya lo reinicie"],
            "problem_persists": ["si sigue iguall"],
        },
    )
    answer = customer.run("buenas, no tenemos internet en la bodega principal")
    data = record(servers, TICKET.search(answer).group())
    assert data["power_ok"] is True and data["severity"] == 1, chat.transcript()


def test_combined_answers_end_the_triage_and_unusable_ones_hand_off_by_the_fourth(servers: Servers) -> None:
    chat = Chat(servers)
    customer = Customer(
        chat,
        {
            **IDENTITY,
            "started": ["hace unas tres horitas"],
            "power_ok": ["si, con corriente"],
            "rebooted": ["ya lo reiniciamos dos veces y sigue igualito"],
        },
    )
    answer = customer.run("el enlace se cayó")
    assert customer.times_asked("problem_persists") == 0, chat.transcript()
    assert record(servers, TICKET.search(answer).group())["rebooted"] is True

    # A customer who never answers the question: asked at most four times, then a person.
    other = Chat(servers)
    other.say("hola, el internet no anda")
    asks = 1
    for reply in ("ehh", "¿qué?", "jajaja", "hmm"):
        texts = other.say(reply)
        if question_of(texts) == "company":
            asks += 1
    assert asks <= 4, other.transcript()
    assert "agente" in "\n".join(texts), other.transcript()


def test_unusable_answers_are_never_recorded(servers: Servers, chat: Chat) -> None:
    customer = Customer(
        chat,
        {
            **IDENTITY,
            "started": ["desde anoche"],
            "power_ok": ["mmmm", "sí, encendido"],
            "rebooted": ["eh... no sabría decirle", "sí"],
            "problem_persists": ["ni idea", "sí, sigue"],
        },
    )
    answer = customer.run("tenemos el servicio caído")
    assert customer.times_asked("power_ok") == 2 and customer.times_asked("rebooted") == 2, chat.transcript()
    assert customer.times_asked("problem_persists") == 2, chat.transcript()
    data = record(servers, TICKET.search(answer).group())
    assert data["power_ok"] is True and data["rebooted"] is True and data["status"] == "abierto"


def test_facts_in_the_opening_are_not_asked_again(servers: Servers, chat: Chat) -> None:
    customer = Customer(chat, {**IDENTITY, "started": ["desde ayer"]})
    customer.run(
        "Hola, el enlace de la oficina de Cali no funciona: el módem está prendido y hay luz, "
        "lo apagamos y prendimos y nada, sigue sin servicio"
    )
    for key in ("power_ok", "rebooted", "problem_persists"):
        assert customer.times_asked(key) == 0, chat.transcript()


def test_a_stray_entity_does_not_overwrite_the_company_and_names_keep_all_words(servers: Servers, chat: Chat) -> None:
    customer = Customer(
        chat,
        {
            **IDENTITY,
            "company": ["Banco Andino S.A."],
            "symptom": ["El enlace de la sede está caído por completo"],
            "started": ["El lunes a las 9 de la mañana"],
            "power_ok": ["sí"],
            "rebooted": ["sí, sigue igual"],
        },
    )
    answer = customer.run("buenas tardes, les escribe Ana María Ruiz")
    data = record(servers, TICKET.search(answer).group())
    assert data["company"] == "Banco Andino S.A.", chat.transcript()
    assert data["contact_name"] == "Ana María Ruiz", chat.transcript()


def test_a_phone_number_does_not_turn_a_change_request_into_an_incident(servers: Servers, chat: Chat) -> None:
    customer = Customer(
        chat,
        {
            **IDENTITY,
            "contact_email": ["+57 310 555 0142", "mflopez@losalamos.com.co"],
            "restores_service": ["no, es una mejora"],
            "desired_date": ["el próximo lunes"],
            "change_confirmed": ["sí, regístrela"],
        },
    )
    answer = customer.run("necesitamos ampliar el ancho de banda del enlace a 500 megas")
    assert "symptom" not in customer.asked and "power_ok" not in customer.asked, chat.transcript()
    assert re.search(r"CHG-\d{4}-\d{6}", answer), chat.transcript()


def test_a_query_skips_since_when_power_and_reboot(servers: Servers, chat: Chat) -> None:
    customer = Customer(chat, {**IDENTITY, "symptom_kind": ["es una consulta"]})
    customer.run("hola, es solo una consulta sobre mi servicio, no hay ninguna falla")
    for key in ("started", "power_ok", "rebooted", "problem_persists"):
        assert key not in customer.asked, chat.transcript()
