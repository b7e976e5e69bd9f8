"""The event broker that keeps every conversation's messages for the agents."""

from __future__ import annotations

import asyncio

import pytest

from noc.db.conversation_log import list_messages
from noc.db.db import make_engine, make_session_factory
from noc.db.migrate import upgrade
from noc.rasa_plugins.live_log import ConversationLogBroker, message_from_event

T = 1764000000.0


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"event": "user", "text": "hola", "input_channel": "socketio"}, ("user", "hola", "web")),
        ({"event": "bot", "text": "¿Qué empresa?"}, ("bot", "¿Qué empresa?", None)),
        ({"event": "bot", "text": "Soy Ana", "metadata": {"agent": "Ana"}}, ("agent", "Soy Ana", None)),
        ({"event": "pause"}, ("system", "paused", None)),
        ({"event": "resume"}, ("system", "resumed", None)),
        ({"event": "bot", "text": None}, None),
        ({"event": "user", "text": "EXTERNAL: EXTERNAL_agent_handback"}, None),
        ({"event": "slot", "name": "company", "value": "x"}, None),
        ({"event": "action", "name": "action_listen"}, None),
    ],
)
def test_message_from_event(event: dict, expected) -> None:
    message = message_from_event({"sender_id": "s1", "timestamp": T, **event})
    got = None if message is None else (message.role, message.text, message.channel)
    assert got == expected


def test_events_without_sender_are_ignored() -> None:
    assert message_from_event({"event": "user", "text": "hola", "timestamp": T}) is None


def test_the_broker_writes_in_order_with_button_titles(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    broker = ConversationLogBroker(factory)
    try:
        broker.publish({"sender_id": "s1", "event": "user", "text": "hola", "timestamp": T, "input_channel": "rest"})
        broker.publish(
            {
                "sender_id": "s1",
                "event": "bot",
                "text": "¿El equipo está encendido?",
                "timestamp": T + 1,
                "data": {"buttons": [{"title": "Sí, encendido", "payload": "/affirm"}]},
            }
        )
        broker.publish({"sender_id": "s1", "event": "user", "text": "/affirm", "timestamp": T + 2})
        broker.publish({"sender_id": "s1", "event": "slot", "name": "x", "value": 1, "timestamp": T + 3})
        broker.flush()
        texts = [(m["role"], m["text"]) for m in list_messages(factory, sender_id="s1")]
        assert texts == [("user", "hola"), ("bot", "¿El equipo está encendido?"), ("user", "Sí, encendido")]
    finally:
        asyncio.run(broker.close())
        engine.dispose()


def test_a_database_failure_loses_the_batch_but_not_the_broker(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"  # never migrated: the table is missing
    engine = make_engine(url)
    broker = ConversationLogBroker(make_session_factory(engine))
    try:
        broker.publish({"sender_id": "s1", "event": "user", "text": "hola", "timestamp": T})
        broker.flush()
        assert broker._thread.is_alive()
    finally:
        asyncio.run(broker.close())
        engine.dispose()
