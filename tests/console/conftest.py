"""Console fixtures: the store's two-backend fixtures, a console app on SQLite, a fake agent bridge.

Store tests take ``session_factory`` (SQLite and PostgreSQL, see
tests/store/conftest.py); HTTP tests take ``console`` (one SQLite database,
an agent, and the app pointed at a recording fake of the Rasa bridge).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.orm import sessionmaker

from noc.db.agents import AgentInfo, create_agent
from noc.db.db import make_engine, make_session_factory
from noc.db.migrate import upgrade
from noc.settings import load_settings
from noc.web.server import create_app
from tests.api.conftest import FakeEscalationBook
from tests.console.fake_bridge import FakeBridge
from tests.store.conftest import (  # noqa: F401 - fixtures used by the store tests here
    database_url,
    empty_database_url,
    engine,
    postgres_admin_engine,
    postgresql_url,
    session_factory,
    sqlite_url,
)

TOKEN = "console-test-token"
PASSWORD = "clave-de-prueba-123"


@pytest.fixture
def sqlite_factory(tmp_path: Path) -> Iterator[sessionmaker]:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    upgrade(url)
    sqlite_engine = make_engine(url)
    yield make_session_factory(sqlite_engine)
    sqlite_engine.dispose()


@dataclass
class Console:
    client: TestClient
    session_factory: sessionmaker
    agent: AgentInfo
    bridge: FakeBridge
    book: FakeEscalationBook

    async def login(self, username: str | None = None, password: str = PASSWORD) -> str:
        """Log in through the form; returns the session's CSRF token (read from a page)."""
        page = await (await self.client.get("/agents/login")).text()
        response = await self.client.post(
            "/agents/login",
            data={"username": username or self.agent.username, "password": password, "csrf": hidden(page, "csrf")},
            allow_redirects=False,
        )
        assert response.status == 303, await response.text()
        listing = await (await self.client.get("/agents")).text()
        return hidden(listing, "csrf")


def hidden(page: str, name: str) -> str:
    """Value of the first hidden input called ``name`` on the page."""
    marker = f'name="{name}" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


@pytest.fixture
async def bridge(aiohttp_server: Callable) -> FakeBridge:
    fake = FakeBridge()
    fake.server = await aiohttp_server(fake.app())
    return fake


@pytest.fixture
def book() -> FakeEscalationBook:
    """The console's escalation book (a module may override this fixture with another book)."""
    return FakeEscalationBook()


@pytest.fixture
async def console(
    aiohttp_client: Callable, sqlite_factory: sessionmaker, bridge: FakeBridge, book: FakeEscalationBook
) -> Console:
    settings = replace(
        load_settings(), agent_api_token=TOKEN, rasa_url=str(bridge.server.make_url("")).rstrip("/")
    )
    app: web.Application = create_app(settings=settings, session_factory=sqlite_factory, escalation_book=book)
    agent = create_agent(sqlite_factory, username="ana", display_name="Ana <Operadora>", password=PASSWORD)
    client: TestClient = await aiohttp_client(TestServer(app))
    return Console(client=client, session_factory=sqlite_factory, agent=agent, bridge=bridge, book=book)
