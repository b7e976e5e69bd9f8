"""Rate limits of the console login: per client IP and per username, successful logins not counted.

Behind the documented deployments' proxies the client is the one the proxy
names in X-Forwarded-For, never the proxy itself (which every agent shares)
nor what the client wrote in the header.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from noc.db.agents import create_agent
from noc.web.console.login import TOO_MANY_ATTEMPTS
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


# The console's hop count in each documented deployment, read from its files,
# with the proxies in front of the web server there (a request arrives from the
# last one; the test client's 127.0.0.1 plays it).
ROOT = Path(__file__).resolve().parents[2]


def compose_web_hops() -> int:
    """deploy/docker-compose.yml: the web server behind the TLS proxy."""
    services = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    return int(services["web"].get("environment", {}).get("TRUSTED_PROXY_HOPS", 0))


def k8s_web_hops() -> int:
    """deploy/k8s: noc-web behind ingress-nginx, its settings from the ConfigMap."""
    config = yaml.safe_load((ROOT / "deploy" / "k8s" / "config.yaml").read_text(encoding="utf-8"))
    return int(config["data"].get("TRUSTED_PROXY_HOPS", 0))


# Deployment -> (its hop count, the proxies actually in front of the console there).
DEPLOYMENTS = {
    "compose": (compose_web_hops, 1),
    "k8s": (k8s_web_hops, 1),
    "make run": (lambda: 0, 0),  # the web server listens to the clients itself
}
BEHIND_A_PROXY = ["compose", "k8s"]


@pytest.fixture
def proxies(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Configure the console as ``request.param``'s deployment does; the number of proxies in front of it."""
    hops, in_front = DEPLOYMENTS[request.param]
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", str(hops()))
    return in_front


def through(proxies: int, client: str, claimed: str | None = None) -> str | None:
    """X-Forwarded-For as it reaches the console from ``client`` through ``proxies`` proxies.

    ``claimed`` is what the client itself put in the header: each proxy appends
    whom it received the request from, the first one the client.
    """
    chain = [claimed] if claimed else []
    if proxies:
        chain += [client] + [f"10.0.0.{n}" for n in range(1, proxies)]
    return ", ".join(chain) or None


@pytest.mark.parametrize("proxies", BEHIND_A_PROXY, indirect=True)
async def test_through_the_proxy_a_client_locked_out_does_not_lock_out_another(proxies: int, console: Console) -> None:
    # The attacker spreads guesses over usernames: only its own client limit stops it.
    guesses = [
        (await attempt(console, f"usuario{n}", "clave", through(proxies, "203.0.113.66"))).status
        for n in range(LIMIT + 1)
    ]
    wrong = await attempt(console, "ana", "mala", through(proxies, "198.51.100.7"))
    right = await attempt(console, "ana", PASSWORD, through(proxies, "198.51.100.7"))

    assert guesses == [401] * LIMIT + [429]
    assert (wrong.status, right.status) == (401, 303)


@pytest.mark.parametrize("proxies", BEHIND_A_PROXY, indirect=True)
@pytest.mark.parametrize("spelled", ["bea", "Bea", " BEA "])
async def test_ten_wrong_passwords_lock_that_username_from_any_client_only(
    proxies: int, spelled: str, console: Console
) -> None:
    create_agent(console.session_factory, username="bea", display_name="Bea", password=PASSWORD)
    # Each guess from another client: the per-client limit never triggers, the username's does.
    guesses = [
        (await attempt(console, spelled, "mala", through(proxies, f"198.51.100.{n}"))).status for n in range(LIMIT)
    ]
    bea_elsewhere = await attempt(console, "bea", PASSWORD, through(proxies, "192.0.2.50"))
    ana_same_client = await attempt(console, "ana", PASSWORD, through(proxies, f"198.51.100.{LIMIT - 1}"))

    assert guesses == [401] * LIMIT
    assert bea_elsewhere.status == 429 and TOO_MANY_ATTEMPTS in bea_elsewhere.page
    assert ana_same_client.status == 303


@pytest.mark.parametrize("proxies", [*BEHIND_A_PROXY, "make run"], indirect=True)
@pytest.mark.parametrize("claims", ["one address", "a chain"])
async def test_a_forged_forwarded_for_does_not_dodge_the_client_limit(
    proxies: int, claims: str, console: Console
) -> None:
    def claimed(n: int) -> str:
        return f"192.0.2.{n}" if claims == "one address" else f"192.0.2.{n}, 198.51.100.{n}, 10.1.1.{n}"

    # Another username and another claimed address each time: only the real client's limit can stop it.
    statuses = [
        (await attempt(console, f"usuario{n}", "clave", through(proxies, "203.0.113.66", claimed(n)))).status
        for n in range(LIMIT + 1)
    ]
    assert statuses == [401] * LIMIT + [429]
