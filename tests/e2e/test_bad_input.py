"""Hostile and odd messages over the REST channel: a Spanish answer, no crash, nothing lost."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import Chat
from tests.e2e.servers import Servers

HOSTILE = {
    "emoji only": "🙂🙂🔥",
    "html": "<script>alert('x')</script>",
    "sql": "'; DROP TABLE incidents; --",
    "english": "what is the weather like today?",
    "portuguese": "bom dia, a minha internet caiu",
    "number for a word": "12345",
    "very long": "falla " * 1700,
}


def assert_spanish_answer(texts: list[str], chat: Chat) -> None:
    assert texts and all(t.strip() for t in texts), chat.transcript()
    # Every answer is one of the domain's Spanish responses, which all use
    # Spanish punctuation, accents or common Spanish words.
    spanish = ("¿", "á", "é", "í", "ó", "ú", "ñ", " el ", " la ", " de ", " su ")
    assert any(any(marker in t for marker in spanish) for t in texts), texts


def test_hostile_inputs_keep_the_report(servers: Servers, chat: Chat) -> None:
    chat.say("el enlace está caído desde hace dos horas")
    chat.say("Banco Andino")
    hostile = list(HOSTILE.values())
    # At most three in a row to one question: the fourth would hand the
    # conversation to an agent (tests/e2e/test_real_customers.py).
    answers = ["CO-MPLS-00777", "Ana Ruiz", "+57 300 123 4567"]
    for start, answer in zip(range(0, len(hostile), 3), answers, strict=False):
        for text in hostile[start : start + 3]:
            assert_spanish_answer(chat.say(text), chat)
        # The report goes on where it was: the pending question takes its answer.
        chat.say(answer)
    chat.say("ana.ruiz@bancoandino.com.co")
    chat.say("sí")
    chat.say("sí")
    summary = "\n".join(chat.say("sí, continúa"))
    assert "Banco Andino" in summary and "CO-MPLS-00777" in summary and "Ana Ruiz" in summary, chat.transcript()


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_message_gets_an_answer(servers: Servers, chat: Chat, text: str) -> None:
    chat.say("el enlace está caído")
    assert_spanish_answer(chat.say(text), chat)


def test_three_bad_answers_offer_an_agent(servers: Servers, chat: Chat) -> None:
    chat.say("el enlace está caído desde ayer")
    chat.say("Banco Andino")
    chat.say("CO-MPLS-00123")
    chat.say("Ana Ruiz")
    answers = [chat.say("abc@@") for _ in range(3)]
    assert "agente" not in "\n".join(answers[1]), chat.transcript()
    assert "le comunico con un agente" in "\n".join(answers[2]), chat.transcript()
    # The offer's button: the conversation goes to an agent with what was collected.
    handed = "\n".join(chat.say("/request_human"))
    assert "INC-" in handed and "agente" in handed, chat.transcript()


def test_rest_channel_rejects_malformed_json(servers: Servers) -> None:
    response = requests.post(
        f"{servers.rasa_url}/webhooks/rest/webhook",
        data="{not json",
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code < 500
