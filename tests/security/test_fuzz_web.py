"""Fuzzing the web server (``/api/*``, ``/agents/*``) through aiohttp's test client.

Three kinds of client: anyone (no valid token or session), an API client with
the token, and a logged-in agent with the session's CSRF token. No request may
get a 5xx, and incident A (the other customer's conversation) never changes:
for anyone, nothing in the database changes at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from noc.db.conversation_log import LoggedMessage, append_messages
from noc.db.models import (
    Agent,
    AgentSession,
    AuditEvent,
    ConversationMessage,
    Handoff,
    Incident,
    Notification,
    TranscriptMessage,
)
from noc.db.repository import open_incident
from tests.api.conftest import NOW, make_incident
from tests.console.conftest import TOKEN, Console
from tests.security.fuzz_http import FuzzRequest, requests

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    # The app is built once per test and shared by its examples, on purpose:
    # what one hostile request changes, the next ones see.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
A_SENDER = "cliente-a"


def seed(factory: sessionmaker) -> tuple[str, str]:
    """Incident A (the one that must not change) and incident B (fair game for authorized clients)."""
    a = open_incident(factory, incident=make_incident("a", sender_id=A_SENDER), now=NOW)
    b = open_incident(factory, incident=make_incident("b", sender_id="cliente-b"), now=NOW + timedelta(minutes=1))
    append_messages(
        factory,
        messages=[
            LoggedMessage(sender_id=A_SENDER, role="user", text="el enlace está caído", at=NOW, channel="rest"),
            LoggedMessage(sender_id=A_SENDER, role="bot", text="¿Empresa?", at=NOW, channel="rest"),
        ],
    )
    return a.ticket, b.ticket


def rows(factory: sessionmaker, model: type, *conditions: Any) -> list[tuple]:
    with factory() as s:
        found = s.execute(select(model).where(*conditions)).scalars().all()
        return sorted(tuple(str(getattr(row, c.key)) for c in model.__table__.columns) for row in found)


def whole_database(factory: sessionmaker) -> dict[str, list[tuple]]:
    models = (Incident, TranscriptMessage, ConversationMessage, AuditEvent, Handoff, Notification, Agent, AgentSession)
    return {model.__tablename__: rows(factory, model) for model in models}


def incident_a(factory: sessionmaker, ticket: str) -> dict[str, list[tuple]]:
    with factory() as s:
        incident_id = s.execute(select(Incident.id).where(Incident.ticket == ticket)).scalar_one()
    return {
        "incident": rows(factory, Incident, Incident.id == incident_id),
        "transcript": rows(factory, TranscriptMessage, TranscriptMessage.incident_id == incident_id),
        "audit": rows(factory, AuditEvent, AuditEvent.incident_id == incident_id),
        "handoffs": rows(factory, Handoff, Handoff.incident_id == incident_id),
        "conversation": rows(factory, ConversationMessage, ConversationMessage.sender_id == A_SENDER),
    }


@dataclass
class Target:
    console: Console
    ticket_a: str
    ticket_b: str
    csrf: str = ""

    def a_is_unchanged(self, baseline: dict[str, list[tuple]], request: FuzzRequest) -> None:
        assert incident_a(self.console.session_factory, self.ticket_a) == baseline, request.describe()


@pytest.fixture
def target(console: Console) -> Target:
    return Target(console, *seed(console.session_factory))


@pytest.fixture
async def agent_target(target: Target) -> Target:
    target.csrf = await target.console.login()
    return target


@pytest.fixture
def a_before(target: Target) -> dict[str, list[tuple]]:
    return incident_a(target.console.session_factory, target.ticket_a)


async def send(console: Console, request: FuzzRequest) -> int:
    response = await console.client.request(
        request.method, request.path, headers=request.headers, data=request.body, allow_redirects=False
    )
    await response.read()
    assert response.status < 500, f"{response.status} for {request.describe()}"
    return response.status


def without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {key: value for key, value in headers.items() if key != name}


@pytest.fixture
def database_before(target: Target) -> dict[str, list[tuple]]:
    return whole_database(target.console.session_factory)


@FUZZ
@given(data=st.data())
async def test_anyone_gets_no_5xx_and_changes_nothing(
    target: Target, database_before: dict[str, list[tuple]], data: st.DataObject
) -> None:
    tickets = [target.ticket_a, target.ticket_b]
    request = data.draw(requests(tickets=tickets, authorization=[f"Bearer {TOKEN}x", TOKEN]))
    await send(target.console, request)
    assert whole_database(target.console.session_factory) == database_before, request.describe()


@FUZZ
@given(data=st.data())
async def test_api_clients_get_no_5xx_and_leave_other_incidents_alone(
    target: Target, a_before: dict[str, list[tuple]], data: st.DataObject
) -> None:
    request = data.draw(
        requests(tickets=[target.ticket_b], authorization=[])
        .map(lambda r: FuzzRequest(r.method, r.path, {**r.headers, "Authorization": f"Bearer {TOKEN}"}, r.body))
        .filter(lambda r: target.ticket_a.lower() not in r.path.lower())
    )
    await send(target.console, request)
    target.a_is_unchanged(a_before, request)


@FUZZ
@given(data=st.data())
async def test_agents_get_no_5xx_and_leave_other_incidents_alone(
    agent_target: Target, a_before: dict[str, list[tuple]], data: st.DataObject
) -> None:
    target = agent_target
    request = data.draw(
        requests(tickets=[target.ticket_b], authorization=[], csrf=[target.csrf])
        # The client sends the agent's session cookie itself; logging out would end the fuzzing.
        .map(lambda r: FuzzRequest(r.method, r.path, without(r.headers, "Cookie"), r.body))
        .filter(lambda r: "/logout" not in r.path and "/login" not in r.path)
        .filter(lambda r: target.ticket_a.lower() not in r.path.lower())
    )
    await send(target.console, request)
    target.a_is_unchanged(a_before, request)
