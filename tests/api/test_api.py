"""HTTP API: authentication, JSON shapes, and hostile input never giving 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

pytestmark = pytest.mark.asyncio

# Same value as the conftest's default token (not imported: test packages may
# not be importable by name, depending on how pytest was started).
TOKEN = "test-token-1f9c2a"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
AppBuilder = Callable[..., web.Application]


async def assert_json_error(response: object, status: int) -> dict:
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body = await response.json()
    assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"]
    return body


async def test_health_is_public(aiohttp_client, build_app: AppBuilder) -> None:
    client: TestClient = await aiohttp_client(build_app(token=None))

    response = await client.get("/api/health")

    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_regions_are_public_with_level_1_only(
    aiohttp_client, build_app: AppBuilder, escalation_book: Any
) -> None:
    for token in (TOKEN, None):
        client: TestClient = await aiohttp_client(build_app(token=token))
        for headers in ({}, {"Authorization": "Bearer wrong-token"}):
            response = await client.get("/api/regions", headers=headers)
            assert response.status == 200
            body = await response.json()
            assert body == escalation_book.as_dict(max_level=1)
            assert {c["level"] for region in body["regions"] for c in region["levels"]} == {1}
        await client.close()


async def test_the_whole_escalation_ladder_needs_the_token(
    aiohttp_client, build_app: AppBuilder, escalation_book: Any
) -> None:
    client: TestClient = await aiohttp_client(build_app(token=TOKEN))
    response = await client.get("/api/regions", headers={"Authorization": f"Bearer {TOKEN}"})
    assert await response.json() == escalation_book.as_dict()
    assert {c["level"] for region in (await response.json())["regions"] for c in region["levels"]} == {1, 2, 3, 4}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/api/incidents", "/api/incidents/INC-2026-000001"])
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"Authorization": "Bearer contraseña-ñ"},
        {"X-Api-Key": TOKEN},
    ],
)
async def test_protected_routes_reject_missing_or_wrong_token(
    aiohttp_client, build_app: AppBuilder, seeded: dict, path: str, headers: dict
) -> None:
    client: TestClient = await aiohttp_client(build_app())

    response = await client.get(path, headers=headers)

    await assert_json_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", ["/api/incidents", "/api/incidents/INC-2026-000001"])
@pytest.mark.parametrize("headers", [{}, AUTH, {"Authorization": "Bearer "}])
async def test_protected_routes_are_closed_when_no_token_is_configured(
    aiohttp_client, build_app: AppBuilder, seeded: dict, path: str, headers: dict
) -> None:
    client: TestClient = await aiohttp_client(build_app(token=None))

    response = await client.get(path, headers=headers)

    await assert_json_error(response, 503)


async def test_bearer_scheme_is_case_insensitive(aiohttp_client, build_app: AppBuilder, seeded: dict) -> None:
    client: TestClient = await aiohttp_client(build_app())

    response = await client.get("/api/incidents", headers={"Authorization": f"bearer {TOKEN}"})

    assert response.status == 200


async def test_get_incident_with_escalation_contact(
    aiohttp_client, build_app: AppBuilder, seeded: dict, escalation_book: Any
) -> None:
    client: TestClient = await aiohttp_client(build_app())

    response = await client.get(f"/api/incidents/{seeded['with_region']}", headers=AUTH)

    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = await response.json()
    assert body["ticket"] == seeded["with_region"]
    assert body["started_at"] == "2026-11-24T15:00:00-05:00"
    assert body["created_at"] == "2026-11-24T20:30:00+00:00"
    assert body["transcript"] == [{"role": "user", "text": "Hola", "at": "2026-11-24T20:30:00+00:00"}]
    assert body["escalation_contact"] == {
        "level": 1,
        "role": "NOC nivel 1",
        "name": "Guardia Andina",
        "phone": "+5716000000",
        "email": "noc-andina@example.com",
        "hours": "24x7",
    }
    assert escalation_book.calls == [("andina", 1)]
    assert "id" not in body and "idempotency_key" not in body


async def test_get_incident_without_contact(aiohttp_client, build_app: AppBuilder, seeded: dict) -> None:
    client: TestClient = await aiohttp_client(build_app())

    response = await client.get(f"/api/incidents/{seeded['without_region'].lower()}", headers=AUTH)

    assert response.status == 200
    body = await response.json()
    assert body["ticket"] == seeded["without_region"]
    assert body["region"] is None
    assert body["escalation_contact"] is None


async def test_unknown_ticket_is_404(aiohttp_client, build_app: AppBuilder, seeded: dict) -> None:
    client: TestClient = await aiohttp_client(build_app())

    response = await client.get("/api/incidents/INC-2026-999999", headers=AUTH)

    await assert_json_error(response, 404)


async def test_list_incidents_shape_and_filters(aiohttp_client, build_app: AppBuilder, seeded: dict) -> None:
    client: TestClient = await aiohttp_client(build_app())

    everything = await (await client.get("/api/incidents", headers=AUTH)).json()
    assert set(everything) == {"incidents"}
    assert [r["ticket"] for r in everything["incidents"]] == [seeded["without_region"], seeded["with_region"]]
    assert all("transcript" not in r and "escalation_contact" not in r for r in everything["incidents"])

    by_sender = await (await client.get("/api/incidents", params={"sender_id": "user-42"}, headers=AUTH)).json()
    assert [r["ticket"] for r in by_sender["incidents"]] == [seeded["with_region"]]

    by_status = await (
        await client.get("/api/incidents", params={"status": "resuelto_primer_contacto"}, headers=AUTH)
    ).json()
    assert [r["ticket"] for r in by_status["incidents"]] == [seeded["without_region"]]

    limited = await (await client.get("/api/incidents", params={"limit": "1"}, headers=AUTH)).json()
    assert len(limited["incidents"]) == 1

    nobody = await (await client.get("/api/incidents", params={"sender_id": "nadie"}, headers=AUTH)).json()
    assert nobody == {"incidents": []}


@pytest.mark.parametrize("path", ["/api", "/api/unknown", "/api/incidents/INC-2026-000001/extra", "/static/x.js"])
@pytest.mark.parametrize("headers", [{}, AUTH])
async def test_unknown_routes_are_json_404(
    aiohttp_client, build_app: AppBuilder, path: str, headers: dict
) -> None:
    client: TestClient = await aiohttp_client(build_app())

    response = await client.get(path, headers=headers)

    await assert_json_error(response, 404)


async def test_wrong_method_is_json_405(aiohttp_client, build_app: AppBuilder) -> None:
    client: TestClient = await aiohttp_client(build_app())

    response = await client.post("/api/incidents", headers=AUTH, json={"x": 1})

    await assert_json_error(response, 405)
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    "ticket",
    [
        "<script>alert(1)</script>",
        "INC-2026-000001' OR '1'='1",
        "'; DROP TABLE incidents; --",
        "X" * 5000,
        "INC-2026-" + "9" * 5000,
        "%00",
        "ñandú 📡",
        "..",
    ],
)
async def test_hostile_tickets_are_404_not_500(
    aiohttp_client, build_app: AppBuilder, seeded: dict, ticket: str
) -> None:
    client: TestClient = await aiohttp_client(build_app())

    response = await client.get(f"/api/incidents/{ticket}", headers=AUTH)

    await assert_json_error(response, 404)


@pytest.mark.parametrize(
    "params",
    [
        {"status": "abierto' OR '1'='1"},
        {"status": "'; DROP TABLE incidents; --"},
        {"status": "<script>alert(1)</script>"},
        {"status": "x" * 5000},
        {"limit": "abc"},
        {"limit": "0"},
        {"limit": "-1"},
        {"limit": "1e3"},
        {"limit": "10000000000000000000000000000"},
        {"limit": "１"},
    ],
)
async def test_bad_list_parameters_are_400(
    aiohttp_client, build_app: AppBuilder, seeded: dict, params: dict
) -> None:
    client: TestClient = await aiohttp_client(build_app())

    response = await client.get("/api/incidents", params=params, headers=AUTH)

    await assert_json_error(response, 400)


@pytest.mark.parametrize(
    "sender_id",
    ["' OR 1=1 --", "<script>alert(1)</script>", "x" * 5000, "user-42\x00", "🙂"],
)
async def test_odd_sender_ids_just_match_nothing(
    aiohttp_client, build_app: AppBuilder, seeded: dict, sender_id: str
) -> None:
    client: TestClient = await aiohttp_client(build_app())

    response = await client.get("/api/incidents", params={"sender_id": sender_id}, headers=AUTH)

    assert response.status == 200
    assert await response.json() == {"incidents": []}


async def test_unexpected_errors_become_json_500_without_details(
    aiohttp_client, build_app: AppBuilder, seeded: dict
) -> None:
    class BrokenBook:
        def contact(self, region_slug: str | None, level: int = 1) -> None:
            raise RuntimeError("secret internal detail")

        def as_dict(self) -> dict:
            return {}

    client: TestClient = await aiohttp_client(build_app(book=BrokenBook()))

    response = await client.get(f"/api/incidents/{seeded['with_region']}", headers=AUTH)

    body = await assert_json_error(response, 500)
    assert "secret" not in body["error"] and "Traceback" not in await response.text()
