"""Agents, passwords and console sessions, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import sessionmaker

from noc.db import agents
from noc.db.agents import (
    SESSION_TOUCH_INTERVAL,
    authenticate,
    create_agent,
    create_session,
    delete_session,
    ensure_first_admin,
    get_session,
    hash_password,
    verify_password,
)
from noc.db.models import Agent, AgentSession

PASSWORD = "una-clave-larga-1"
T0 = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def test_hash_format_and_round_trip() -> None:
    stored = hash_password("contraseña-ñ-segura")

    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(2**14), "8", "1")
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(digest)) == 32
    assert verify_password("contraseña-ñ-segura", stored)
    assert hash_password("contraseña-ñ-segura") != stored, "every hash gets its own salt"


@pytest.mark.parametrize(
    "attempt", ["contraseña-ñ-segura ", "Contraseña-ñ-segura", "contrasena-n-segura", "", "contraseña-ñ-segur"]
)
def test_wrong_password_is_refused(attempt: str) -> None:
    assert not verify_password(attempt, hash_password("contraseña-ñ-segura"))


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain-text",
        "bcrypt$16384$8$1$AAAA$AAAA",
        "scrypt$16384$8$1$AAAA",
        "scrypt$abc$8$1$AAAA$AAAA",
        "scrypt$16385$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",  # n not a power of two
        "scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",  # n too large to run
        "scrypt$16384$8$1$not base64!$AAAA",
        "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$",
    ],
)
def test_malformed_hashes_never_verify(stored: str) -> None:
    assert not verify_password("x", stored)


def test_create_and_authenticate(session_factory: sessionmaker) -> None:
    agent = create_agent(
        session_factory, username="  Ana.Ruiz ", display_name=" Ana Ruiz ", password=PASSWORD, is_admin=True
    )

    assert (agent.username, agent.display_name, agent.is_admin) == ("ana.ruiz", "Ana Ruiz", True)
    assert authenticate(session_factory, username="ANA.RUIZ", password=PASSWORD) == agent
    assert authenticate(session_factory, username="ana.ruiz", password=PASSWORD + "x") is None
    assert authenticate(session_factory, username="nadie", password=PASSWORD) is None
    assert authenticate(session_factory, username="ana ruiz'--", password=PASSWORD) is None
    with session_factory() as s:
        stored = s.execute(select(Agent.password_hash)).scalar_one()
    assert PASSWORD not in stored and stored.startswith("scrypt$")


def test_inactive_agents_cannot_log_in(session_factory: sessionmaker) -> None:
    agent = create_agent(session_factory, username="luis", display_name="Luis", password=PASSWORD)
    with session_factory() as s, s.begin():
        s.execute(update(Agent).where(Agent.id == agent.id).values(active=False))

    assert authenticate(session_factory, username="luis", password=PASSWORD) is None


def test_unknown_users_cost_a_password_check(session_factory: sessionmaker, monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[str] = []
    real = agents.verify_password
    monkeypatch.setattr(agents, "verify_password", lambda pw, stored: checked.append(stored) or real(pw, stored))

    assert authenticate(session_factory, username="nadie", password=PASSWORD) is None
    assert authenticate(session_factory, username="no valido!", password=PASSWORD) is None

    assert len(checked) == 2 and all(stored.startswith("scrypt$16384$8$1$") for stored in checked)


@pytest.mark.parametrize(
    ("username", "display_name", "password", "message"),
    [
        ("", "Ana", PASSWORD, "usuario inválido"),
        ("ana ruiz", "Ana", PASSWORD, "usuario inválido"),
        ("añá", "Ana", PASSWORD, "usuario inválido"),
        ("a" * 65, "Ana", PASSWORD, "usuario inválido"),
        ("ana", "  ", PASSWORD, "nombre visible"),
        ("ana", "A" * 129, PASSWORD, "nombre visible"),
        ("ana", "Ana", "corta", "contraseña"),
        ("ana", "Ana", "x" * 1025, "contraseña"),
    ],
)
def test_create_agent_refuses_bad_input(
    session_factory: sessionmaker, username: str, display_name: str, password: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        create_agent(session_factory, username=username, display_name=display_name, password=password)


def test_usernames_are_unique_in_any_case(session_factory: sessionmaker) -> None:
    create_agent(session_factory, username="ana", display_name="Ana", password=PASSWORD)

    with pytest.raises(ValueError, match="ya existe"):
        create_agent(session_factory, username="ANA", display_name="Otra Ana", password=PASSWORD)


def test_first_admin_only_when_there_is_no_agent(session_factory: sessionmaker) -> None:
    assert ensure_first_admin(session_factory, username="admin", password=PASSWORD) is True
    assert ensure_first_admin(session_factory, username="admin", password="otra-clave-larga") is False
    assert ensure_first_admin(session_factory, username="root", password=PASSWORD) is False

    admin = authenticate(session_factory, username="admin", password=PASSWORD)
    assert admin is not None and admin.is_admin
    with session_factory() as s:
        assert s.execute(select(func.count()).select_from(Agent)).scalar_one() == 1


def test_session_round_trip_stores_only_the_token_hash(session_factory: sessionmaker) -> None:
    agent = create_agent(session_factory, username="ana", display_name="Ana", password=PASSWORD)

    new = create_session(session_factory, agent_id=agent.id, idle_minutes=30, max_hours=12, now=T0)
    found = get_session(session_factory, token=new.token, idle_minutes=30, max_hours=12, now=T0 + timedelta(minutes=5))

    assert found is not None
    assert found.agent == agent and found.csrf_token == new.csrf_token
    assert len(new.token) >= 40 and len(new.csrf_token) >= 40 and new.token != new.csrf_token
    with session_factory() as s:
        row = s.execute(select(AgentSession)).scalar_one()
    assert row.token_hash != new.token and len(row.token_hash) == 64
    assert get_session(session_factory, token=row.token_hash, idle_minutes=30, max_hours=12, now=T0) is None
    assert get_session(session_factory, token=new.token + "x", idle_minutes=30, max_hours=12, now=T0) is None
    assert get_session(session_factory, token="", idle_minutes=30, max_hours=12, now=T0) is None


def test_sessions_expire_when_idle_and_use_keeps_them_alive(session_factory: sessionmaker) -> None:
    agent = create_agent(session_factory, username="ana", display_name="Ana", password=PASSWORD)
    token = create_session(session_factory, agent_id=agent.id, idle_minutes=30, max_hours=12, now=T0).token

    # Used every 20 minutes for two hours: still alive (sliding expiry).
    for step in range(1, 7):
        at = T0 + timedelta(minutes=20 * step)
        session = get_session(session_factory, token=token, idle_minutes=30, max_hours=12, now=at)
        assert session is not None, f"expired after {20 * step} minutes of use"
        assert session.expires_at == at + timedelta(minutes=30)

    last_use = T0 + timedelta(minutes=120)
    later = last_use + timedelta(minutes=31)
    assert get_session(session_factory, token=token, idle_minutes=30, max_hours=12, now=later) is None
    with session_factory() as s:
        assert s.execute(select(func.count()).select_from(AgentSession)).scalar_one() == 0, "expired row deleted"
    # Gone for good, even if asked "earlier".
    assert get_session(session_factory, token=token, idle_minutes=30, max_hours=12, now=last_use) is None


def test_sessions_end_at_their_absolute_lifetime_however_active(session_factory: sessionmaker) -> None:
    agent = create_agent(session_factory, username="ana", display_name="Ana", password=PASSWORD)
    token = create_session(session_factory, agent_id=agent.id, idle_minutes=30, max_hours=2, now=T0).token
    deadline = T0 + timedelta(hours=2)

    # Used every 10 minutes: the idle expiry slides, but never past two hours after the login.
    for step in range(1, 12):
        at = T0 + timedelta(minutes=10 * step)
        session = get_session(session_factory, token=token, idle_minutes=30, max_hours=2, now=at)
        assert session is not None, f"expired after {10 * step} minutes of use"
        assert session.expires_at == min(at + timedelta(minutes=30), deadline)

    assert get_session(session_factory, token=token, idle_minutes=30, max_hours=2, now=deadline) is None
    with session_factory() as s:
        assert s.execute(select(func.count()).select_from(AgentSession)).scalar_one() == 0, "old row deleted"


def test_a_shorter_absolute_lifetime_ends_older_sessions(session_factory: sessionmaker) -> None:
    """Sessions made before the setting was lowered (their expires_at further away) end on time too."""
    agent = create_agent(session_factory, username="ana", display_name="Ana", password=PASSWORD)
    token = create_session(session_factory, agent_id=agent.id, idle_minutes=600, max_hours=24, now=T0).token

    at = T0 + timedelta(hours=3)
    assert get_session(session_factory, token=token, idle_minutes=600, max_hours=4, now=at) is not None
    assert get_session(session_factory, token=token, idle_minutes=600, max_hours=2, now=at) is None


def test_requests_close_together_do_not_write(session_factory: sessionmaker) -> None:
    agent = create_agent(session_factory, username="ana", display_name="Ana", password=PASSWORD)
    token = create_session(session_factory, agent_id=agent.id, idle_minutes=30, max_hours=12, now=T0).token

    soon = T0 + SESSION_TOUCH_INTERVAL / 2
    session = get_session(session_factory, token=token, idle_minutes=30, max_hours=12, now=soon)

    assert session is not None and session.expires_at == T0 + timedelta(minutes=30)


def test_logout_and_deactivation_end_sessions(session_factory: sessionmaker) -> None:
    agent = create_agent(session_factory, username="ana", display_name="Ana", password=PASSWORD)
    first = create_session(session_factory, agent_id=agent.id, idle_minutes=30, max_hours=12, now=T0).token
    second = create_session(session_factory, agent_id=agent.id, idle_minutes=30, max_hours=12, now=T0).token

    delete_session(session_factory, token=first)
    assert get_session(session_factory, token=first, idle_minutes=30, max_hours=12, now=T0) is None
    assert get_session(session_factory, token=second, idle_minutes=30, max_hours=12, now=T0) is not None

    with session_factory() as s, s.begin():
        s.execute(update(Agent).values(active=False))
    assert get_session(session_factory, token=second, idle_minutes=30, max_hours=12, now=T0) is None


def test_a_new_login_clears_expired_sessions(session_factory: sessionmaker) -> None:
    agent = create_agent(session_factory, username="ana", display_name="Ana", password=PASSWORD)
    create_session(session_factory, agent_id=agent.id, idle_minutes=30, max_hours=12, now=T0)

    create_session(session_factory, agent_id=agent.id, idle_minutes=30, max_hours=12, now=T0 + timedelta(hours=1))

    with session_factory() as s:
        assert s.execute(select(func.count()).select_from(AgentSession)).scalar_one() == 1


def test_cli_creates_an_agent_with_the_password_from_stdin(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from noc.db.db import get_session_factory
    from noc.db.migrate import upgrade
    from tests.db_env import database_url

    upgrade(sqlite_url)
    with database_url(monkeypatch, sqlite_url):
        monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
        assert agents.main(["create", "--username", "Marta", "--display-name", "Marta Gómez", "--admin"]) == 0
        assert "creado (administrador)" in capsys.readouterr().out

        monkeypatch.setattr("sys.stdin", io.StringIO("corta\n"))
        assert agents.main(["create", "--username", "pepe", "--display-name", "Pepe"]) == 1
        assert "contraseña" in capsys.readouterr().err

        marta = authenticate(get_session_factory(), username="marta", password=PASSWORD)
        assert marta is not None and marta.is_admin and marta.display_name == "Marta Gómez"


def test_cli_ensure_admin_reads_the_settings(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from noc.db.db import get_session_factory
    from noc.db.migrate import upgrade
    from tests.db_env import database_url

    upgrade(sqlite_url)
    monkeypatch.setenv("ADMIN_USERNAME", "jefe")
    monkeypatch.setenv("ADMIN_PASSWORD", PASSWORD)
    with database_url(monkeypatch, sqlite_url):
        assert agents.main(["ensure-admin"]) == 0
        assert "jefe" in capsys.readouterr().out
        assert agents.main(["ensure-admin"]) == 0
        assert capsys.readouterr().out == "", "second start: nothing to do"
        assert authenticate(get_session_factory(), username="jefe", password=PASSWORD) is not None
