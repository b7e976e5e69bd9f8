"""Simulated customers: who they are and what they answer to each question (pure, no I/O).

A customer does not follow a fixed script: the bot skips what was already
said and asks again what it could not use, so the customer reads the bot's
last question and answers that checklist item, as a person would.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

REST = "rest"
WHATSAPP = "whatsapp"
SMS = "sms"
# The bare `rasa init` bot's customers: REST, its own English small talk.
MOODBOT = "moodbot"
TWILIO_CHANNELS = (WHATSAPP, SMS)
INTAKE_CHANNELS = (REST, WHATSAPP, SMS)

# A conversation that has no ticket after this many messages is counted as failed
# (a complete intake takes 7 to 12).
MAX_TURNS = 25

# The same messages as scripts/bench.py's latency part, so both measure the same bot turns.
MOODBOT_MESSAGES = (
    "hello", "I am sad", "yes", "great", "bye", "hi", "I am happy", "goodbye", "are you a bot?", "ok", "bye",
)  # fmt: skip

# Twilio sender numbers must differ between runs too (the cluster test shares one
# database across runs of a session), so a run seed takes the high digits.
MAX_CUSTOMERS = 10_000


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    dial: str
    # National significant number without its last 7 digits (a mobile prefix).
    mobile_prefix: str
    service_prefix: str


COUNTRIES = (
    Country("CO", "Colombia", "+57", "301", "CO-MPLS"),
    Country("PE", "Perú", "+51", "98", "PE-INT"),
    Country("MX", "México", "+52", "551", "MX-DIA"),
    Country("CL", "Chile", "+56", "98", "CL-L2L"),
)
COMPANIES = (
    "Banco Andino", "Minera Los Andes", "Clínica San Rafael", "Textiles Lima", "Logística Andina",
    "Grupo Éxito", "Ferretería El Tornillo", "Inversiones Caribe", "Transportes del Sur",
    "Agroindustrial Valle Verde", "Hotel Plaza Mayor", "Universidad del Pacífico",
)  # fmt: skip
FIRST_NAMES = (
    "Ana", "Luis", "Carolina", "Jorge", "Pedro", "María", "Diego", "Lucía", "Andrés", "Valentina", "Camila", "Javier",
)  # fmt: skip
LAST_NAMES = (
    "Ruiz", "Paz", "Méndez", "Quispe", "Gómez", "Torres", "Rojas", "Vargas", "Castro", "Herrera", "Salazar", "Navarro",
)  # fmt: skip
SYMPTOMS = (
    "el enlace de la sede norte está caído desde ayer",
    "no tenemos internet desde ayer a las 8",
    "el internet de la oficina se cae a cada rato",
    "hay pérdida de paquetes hacia el data center desde anoche",
    "la navegación está lentísima y los usuarios se quejan",
    "el servicio no tiene conexión desde hace dos horas",
)
# Past at any hour in any of the countries: "esta mañana" is the future at 01:00 local
# time, and the bot refuses it.
# The opening messages' times obey the same rule.
SINCE = ("desde ayer a las 3 de la tarde", "hace dos horas", "desde ayer")

TICKET = re.compile(r"INC-\d{4}-\d{6}")
# utter_incident_opened: the one message that says the intake is complete.
OPENED = re.compile(r"quedó registrado con el ticket (INC-\d{4}-\d{6})")
# utter_handoff_*: the conversation went to an agent instead (a partial record).
HANDED_OFF = "le comunico con un agente del noc. su caso quedó registrado"
# Answers that mean the message was refused or failed, not answered (domain.yml).
CHANNEL_FAILURES = {
    "rate_limited": "recibimos demasiados mensajes seguidos",
    "bot_error": "tuvimos un problema técnico",
}
# utter_offer_agent*: "le comunico con un agente del NOC", "puedo comunicarle con un agente del NOC".
AGENT_OFFER = "con un agente del noc"


@dataclass(frozen=True)
class Customer:
    index: int
    channel: str
    # REST: the sender id; Twilio: the ``From`` field.
    address: str
    company: str
    service_id: str
    name: str
    phone: str
    email: str
    country: str
    symptom: str
    # Said again in other words when the bot did not understand it.
    since: tuple[str, ...]
    # Sent first, before the customer reacts to any question.
    opening: tuple[str, ...]
    # "sí", or "1" for a Twilio customer who answers from the numbered list.
    yes: str

    @property
    def sender_id(self) -> str:
        """The conversation's id in Rasa's tracker store (docs/twilio.md: Senders)."""
        if self.channel == SMS:
            return f"{SMS}:{self.address}"
        return self.address


def ascii_slug(text: str) -> str:
    """Lowercase letters and digits only, accents dropped (for e-mail addresses)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def channel_for(index: int, channels: Sequence[str]) -> str:
    """Channels in turn, so every run mixes them in the same proportions."""
    return channels[index % len(channels)]


def make_customer(index: int, channel: str, seed: int) -> Customer:
    """Customer number ``index`` of a run; ``seed`` (0-999) keeps senders apart between runs."""
    if not 0 <= index < MAX_CUSTOMERS:
        raise ValueError(f"at most {MAX_CUSTOMERS} customers per run")
    if channel == MOODBOT:
        return Customer(
            index, MOODBOT, f"load-{seed:03d}-{index}", "", "", "", "", "", "", "", (), MOODBOT_MESSAGES, "yes"
        )
    country = COUNTRIES[index % len(COUNTRIES)]
    company = COMPANIES[index % len(COMPANIES)]
    first, last = FIRST_NAMES[index % len(FIRST_NAMES)], LAST_NAMES[(index * 5 + index // 12) % len(LAST_NAMES)]
    subscriber = f"{seed % 1000:03d}{index:04d}"
    phone = f"{country.dial} {country.mobile_prefix} {subscriber[:3]} {subscriber[3:]}"
    e164 = f"{country.dial}{country.mobile_prefix}{subscriber}"
    service_id = f"{country.service_prefix}-{10000 + index:05d}"
    name = f"{first} {last}"
    symptom = SYMPTOMS[index % len(SYMPTOMS)]
    openings = (
        ("hola buenas tardes",),
        (symptom,),
        # Several checklist items in one message.
        (f"Soy {name} de {company}, el servicio {service_id} no tiene conexión desde ayer",),
        (f"buenas tardes, el circuito {service_id} está caído desde ayer a las 10 de la mañana",),
    )
    if channel == REST:
        address = f"load-{seed:03d}-{index}"
    elif channel == WHATSAPP:
        address = f"whatsapp:{e164}"
    elif channel == SMS:
        address = e164
    else:
        raise ValueError(f"unknown channel {channel!r}")
    return Customer(
        index=index,
        channel=channel,
        address=address,
        company=company,
        service_id=service_id,
        name=name,
        phone=phone,
        email=f"{ascii_slug(first)}.{ascii_slug(last)}{index}@{ascii_slug(company)}.com",
        country=country.name,
        symptom=symptom,
        since=SINCE[index % len(SINCE) :] + SINCE[: index % len(SINCE)],
        opening=openings[(index // len(INTAKE_CHANNELS)) % len(openings)],
        yes="1" if channel in TWILIO_CHANNELS and index % 2 == 0 else "sí",
    )


def _yes(customer: Customer, bot_texts: Sequence[str]) -> str:
    # With an agent offer in the same turn the numbered list has other options
    # too: typing the answer is unambiguous.
    if customer.yes != "sí" and any(AGENT_OFFER in text.lower() for text in bot_texts):
        return "sí"
    return customer.yes


def answer_to(question: str, customer: Customer, bot_texts: Sequence[str] = (), sent: Sequence[str] = ()) -> str | None:
    """The reply to one bot message, or None when it asks nothing the customer knows.

    Order matters: "¿El equipo está encendido y la sede tiene energía sin
    problemas?" must read as the power question, not as "which problem".
    An item with several wordings gets the next one each time it is asked
    again (``sent``: what the customer said so far), as a person rephrases.
    """
    q = question.lower()
    yes = _yes(customer, bot_texts)
    rules: tuple[tuple[str, str | tuple[str, ...]], ...] = (
        ("correctos", yes),  # the summary
        ("datos del resumen", yes),  # the summary asked again, with its example
        ("desde el que nos escribe", yes),  # Twilio: confirm the number it writes from
        ("podemos llamarle", yes),
        ("restablecer la energía", yes),
        ("encendid", yes),
        ("continúa", "1" if yes == "1" else "sí, sigue igual"),
        ("sigue fallando", "1" if yes == "1" else "sí, sigue igual"),
        ("reinició", "1" if yes == "1" else "sí, ya lo reiniciamos"),
        ("apagó el equipo", "1" if yes == "1" else "sí, ya lo reiniciamos"),
        ("describiría la falla", "1" if customer.channel in TWILIO_CHANNELS else "sin servicio"),
        # Before "empresa" and "nombre": "Debe tener la forma nombre@empresa.com".
        ("correo", customer.email),
        # Before "país": "Escríbalo con el código de país".
        ("teléfono", customer.phone),
        # Before "nombre": "Escriba el nombre del país o de la ciudad".
        ("país", customer.country),
        ("empresa", customer.company),
        ("id del servicio", customer.service_id),
        ("código del servicio", customer.service_id),
        ("nombre", customer.name),
        ("desde cuándo", customer.since),
        ("cuándo empezó", customer.since),
        ("problema", customer.symptom),
        ("qué le pasa al servicio", customer.symptom),
    )
    for keyword, reply in rules:
        if keyword in q:
            if isinstance(reply, str):
                return reply
            said = sum(message in reply for message in sent)
            return reply[said % len(reply)]
    return None


def answer(customer: Customer, bot_texts: Sequence[str], sent: Sequence[str] = ()) -> str | None:
    """The reply to a bot turn: to its last message that asks something (an agent offer may follow it)."""
    for text in reversed(bot_texts):
        # Messages of one Twilio answer are joined by blank lines (docs/twilio.md).
        for part in reversed(text.split("\n\n")):
            reply = answer_to(part, customer, bot_texts, sent)
            if reply is not None:
                return reply
    return None


def next_message(customer: Customer, sent: Sequence[str], bot_texts: Sequence[str]) -> str | None:
    """What the customer sends after the messages ``sent``, given the bot's last turn; None: nothing more."""
    if len(sent) >= MAX_TURNS:
        return None
    if len(sent) < len(customer.opening):
        return customer.opening[len(sent)]
    if customer.channel == MOODBOT:
        return None
    return answer(customer, bot_texts, sent)


def ticket_opened(bot_texts: Sequence[str]) -> str | None:
    """The ticket of the message that confirms a complete intake, if this turn has it."""
    for text in bot_texts:
        if match := OPENED.search(text):
            return match.group(1)
    return None


def turn_problem(bot_texts: Sequence[str]) -> str | None:
    """Why a 200 answer is not a real answer: empty, refused, failed or handed to an agent."""
    if not any(text.strip() for text in bot_texts):
        return "empty_answer"
    joined = "\n".join(bot_texts).lower()
    for problem, marker in CHANNEL_FAILURES.items():
        if marker in joined:
            return problem
    if HANDED_OFF in joined:
        return "handoff"
    return None
