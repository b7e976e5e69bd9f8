"""Rate limits of the console login: per client IP and per username, successful logins not counted."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from actions.api.console.login import TOO_MANY_ATTEMPTS
from actions.store.agents import create_agent
from tests.console.conftest import PASSWORD, Console, hidden

LIMIT = 10  # LOGIN_ATTEMPTS_PER_15_MINUTES default


@dataclass
class Attempt:
    status: int
    retry_after: str | None
    page: str


async def attempt(console: Console, username: str, password: str, forwarded_for: str | None = None) -> Attempt:
    form = await (await console.client.get("/agents/login")).text()
    response = await console.client.post(
        "/agents/login",
        data={"username": username, "password": password, "csrf": hidden(form, "csrf")},
        headers={"X-Forwarded-For": forwarded_for} if forwarded_for else {},
        allow_redirects=False,
    )
    return Attempt(response.status, response.headers.get("Retry-After"), await response.text())


async def test_wrong_passwords_are_limited_then_even_the_right_one_waits(console: Console) -> None:
    statuses = [(await attempt(console, "ana", f"adivinanza-{n}")).status for n in range(LIMIT)]
    refused = await attempt(console, "ana", PASSWORD)

    assert statuses == [401] * LIMIT
    # Sliding window: the wait can reach into the next window (at most two of them).
    assert refused.status == 429 and 1 <= int(refused.retry_after or 0) <= 2 * 15 * 60
    assert TOO_MANY_ATTEMPTS in refused.page


async def test_successful_logins_are_not_counted(console: Console) -> None:
    for _ in range(LIMIT + 3):
        assert (await attempt(console, "ana", PASSWORD)).status == 303


async def test_one_ip_cannot_spread_guesses_over_usernames(console: Console) -> None:
    statuses = [(await attempt(console, f"usuario{n}", "clave")).status for n in range(LIMIT + 1)]
    assert statuses == [401] * LIMIT + [429]


@pytest.fixture
def behind_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "1")


async def test_one_username_cannot_be_guessed_from_many_ips(behind_a_proxy: None, console: Console) -> None:
    # Behind a trusted proxy each guess comes from another client IP; the username limit still holds.
    create_agent(console.session_factory, username="bea", display_name="Bea", password=PASSWORD)
    guesses = [(await attempt(console, "Bea", "mala", f"198.51.100.{n}")).status for n in range(LIMIT + 1)]
    other_user = await attempt(console, "ana", PASSWORD, "198.51.100.200")
    assert guesses == [401] * LIMIT + [429] and other_user.status == 303
