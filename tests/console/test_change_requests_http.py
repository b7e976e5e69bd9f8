"""Change requests in the console and the JSON API over HTTP (aiohttp test client, SQLite, the real escalation book)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest

from noc.db.change_requests import open_change_request
from noc.domain.escalation import EscalationBook, get_escalation_book
from noc.web.console.access import PAGE, handler_access
from tests.change_requests.test_store import NOW, make_request
from tests.console.conftest import TOKEN, Console

AUTH = {"Authorization": f"Bearer {TOKEN}"}
XSS_DESCRIPTION = '<script>window.__pwned=1</script> abrir "puerto" & <b>443</b>'
ESCAPED_DESCRIPTION = (
    "&lt;script&gt;window.__pwned=1&lt;/script&gt; abrir &#34;puerto&#34; &amp; &lt;b&gt;443&lt;/b&gt;"
)
PAGES = ["/agents/changes", "/agents/changes/CHG-2026-000001"]
API = ["/api/change-requests", "/api/change-requests/CHG-2026-000001"]


@pytest.fixture
def book() -> EscalationBook:
    # The NOC's own tables: the pages show each customer's country time zone and region name.
    return get_escalation_book()


def seed(console: Console, key: str = "k1", *, minutes: int = 0, **overrides: object) -> str:
    request = make_request(key, **overrides)
    return open_change_request(console.session_factory, request=request, now=NOW + timedelta(minutes=minutes)).number


async def page(console: Console, path: str, **params: str) -> str:
    response = await console.client.get(path, params=params)
    assert response.status == 200, path
    return await response.text()


# --- access -------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES + API)
@pytest.mark.parametrize("credentials", ["none", "token", "wrong token", "session", "session and token"])
async def test_pages_take_only_a_session_and_the_api_only_the_token(
    console: Console, path: str, credentials: str
) -> None:
    seed(console)
    if credentials.startswith("session"):
        await console.login()
    headers = {"token": AUTH, "session and token": AUTH, "wrong token": {"Authorization": "Bearer otro"}}

    response = await console.client.get(path, headers=headers.get(credentials, {}), allow_redirects=False)

    if path.startswith("/api/"):
        if credentials in ("token", "session and token"):
            assert response.status == 200
        else:
            assert response.status == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
            assert await response.json() == {"error": "no autorizado"}
    elif credentials.startswith("session"):
        assert response.status == 200 and response.content_type == "text/html"
    else:
        assert (response.status, response.headers["Location"]) == (303, "/agents/login?next=" + quote(path, safe=""))


def test_change_pages_are_console_pages(console: Console) -> None:
    marks = {
        route.resource.canonical: handler_access(route.handler)
        for route in console.client.app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith(("/agents/changes", "/api/change"))
    }

    assert marks == {
        "/agents/changes": PAGE,
        "/agents/changes/{number}": PAGE,
        "/api/change-requests": None,
        "/api/change-requests/{number}": None,
    }


# --- console pages --------------------------------------------------------------


async def test_navigation_links_to_the_changes(console: Console) -> None:
    await console.login()

    for path in ("/agents", "/agents/handoffs", "/agents/changes"):
        assert '<a href="/agents/changes">Cambios</a>' in await page(console, path)


async def test_list_newest_first_with_spanish_types_and_local_dates(console: Console) -> None:
    bank = seed(console, "k1")
    mexico = seed(console, "k2", minutes=1, company="Tiendas MX", country="MX", region="mexico", change_type="urgente")
    await console.login()

    listing = await page(console, "/agents/changes")

    assert listing.index(mexico) < listing.index(bank)
    assert f'<a href="/agents/changes/{bank}">{bank}</a>' in listing
    for expected in ("Estándar", "Urgente", "Banco Andino", "CO-MPLS-00123", "WhatsApp", "Registrada"):
        assert expected in listing, expected
    # Each row in its customer's zone: Bogotá is UTC-5, Mexico City UTC-6.
    assert "27/11/2026 10:00 (UTC-05:00)" in listing and "27/11/2026 09:01 (UTC-06:00)" in listing
    assert "10/12/2026 00:00 (UTC-05:00)" in listing and "10/12/2026 00:00 (UTC-06:00)" in listing


async def test_list_filters_by_type_and_searches(console: Console) -> None:
    bank = seed(console, "k1", company="Banco Andino", service_id="CO-MPLS-00123")
    shop = seed(console, "k2", minutes=1, company="Tiendas 100%", service_id="SRV-9", change_type="emergencia")
    await console.login()

    urgent = await page(console, "/agents/changes", tipo="emergencia")
    assert shop in urgent and bank not in urgent
    assert '<option value="emergencia" selected>Emergencia</option>' in urgent
    for query, found, missing in (("mpls-00123", bank, shop), ("100%", shop, bank), (shop.lower(), shop, bank)):
        searched = await page(console, "/agents/changes", q=query)
        assert found in searched and missing not in searched, query
    assert 'value="100%"' in await page(console, "/agents/changes", q="100%")
    combined = await page(console, "/agents/changes", q="banco", tipo="emergencia")
    assert "Ninguna solicitud de cambio coincide" in combined
    stale = await page(console, "/agents/changes", tipo="express")
    assert bank in stale and shop in stale


async def test_list_pages_of_fifty(console: Console) -> None:
    numbers = [seed(console, f"k{i}", minutes=i, change_type="normal") for i in range(51)]
    await console.login()

    first = await page(console, "/agents/changes", tipo="normal")
    second = await page(console, "/agents/changes", tipo="normal", offset="50")

    assert numbers[50] in first and numbers[1] in first and numbers[0] not in first
    assert '<a href="/agents/changes?tipo=normal&amp;offset=50">Siguientes →</a>' in first
    assert numbers[0] in second and numbers[1] not in second
    assert '<a href="/agents/changes?tipo=normal">← Anteriores</a>' in second and "Siguientes" not in second


async def test_detail_shows_every_field_in_the_customers_zone_and_the_audit_trail(console: Console) -> None:
    number = seed(console)
    await console.login()

    detail = await page(console, f"/agents/changes/{number.lower()}")

    for expected in (
        f"<h1>\n  {number}",
        "Banco Andino",
        "CO-MPLS-00123",
        "Ana Ruiz",
        "+573001234567",
        "ana.ruiz@bancoandino.com.co",
        "<dd>CO</dd>",
        "<dd>Colombia</dd>",
        "<dd>America/Bogota</dd>",
        "Abrir el puerto 443 hacia el servidor web",
        "<dd>Estándar — plazo mínimo de 5 días hábiles</dd>",
        "<dt>Fecha deseada</dt><dd>10/12/2026 00:00 (UTC-05:00)</dd>",
        "<dt>Inicio más temprano</dt><dd>04/12/2026 00:00 (UTC-05:00)</dd>",
        "<dt>Inicio previsto</dt><dd>10/12/2026 00:00 (UTC-05:00)</dd>",
        "<dt>Registrada</dt><dd>27/11/2026 10:00 (UTC-05:00)</dd>",
        "whatsapp:+573001234567",
        "Historial de cambios",
        "<td>Asistente</td>",
        "Registró la solicitud de cambio. Es un cambio de catálogo (apertura de puerto)",
    ):
        assert expected in detail, expected


async def test_detail_without_a_wanted_date_plans_for_the_earliest_start(console: Console) -> None:
    number = seed(console, desired_date=None, contact_email=None, country="MX", region="mexico")
    await console.login()

    detail = await page(console, f"/agents/changes/{number}")

    assert "<dt>Fecha deseada</dt><dd>—</dd>" in detail and "<dt>Correo</dt><dd>—</dd>" in detail
    # Midnight in Bogotá is 23:00 the day before in Mexico City.
    assert "<dt>Inicio previsto</dt><dd>03/12/2026 23:00 (UTC-06:00)</dd>" in detail
    assert "<dd>México</dd>" in detail


@pytest.mark.parametrize("number", ["CHG-2026-999999", "nada", "INC-2026-000001", "CHG-2026-" + "1" * 200])
async def test_unknown_or_malformed_numbers_are_404(console: Console, number: str) -> None:
    seed(console)
    await console.login()

    response = await console.client.get(f"/agents/changes/{number}")

    assert response.status == 404
    body = await response.text()
    assert "Solicitud de cambio no encontrada" in body and 'href="/agents/changes"' in body


async def test_customer_text_is_escaped_on_both_pages(console: Console) -> None:
    number = seed(console, description=XSS_DESCRIPTION, company='<img src=x onerror="alert(1)">')
    await console.login()

    for path in ("/agents/changes", f"/agents/changes/{number}"):
        response = await console.client.get(path)
        body = await response.text()
        assert "<script" not in body and "<img" not in body, path
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in body, path
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert response.headers["Cache-Control"] == "no-store" and response.headers["X-Frame-Options"] == "DENY"
    assert ESCAPED_DESCRIPTION in await page(console, f"/agents/changes/{number}")


# --- JSON API -------------------------------------------------------------------


async def test_api_lists_newest_first_by_conversation(console: Console) -> None:
    first = seed(console, "k1", sender_id="ana")
    second = seed(console, "k2", minutes=1, sender_id="luis")
    third = seed(console, "k3", minutes=2, sender_id="ana")

    async def listed(query: str) -> list[str]:
        response = await console.client.get(f"/api/change-requests{query}", headers=AUTH)
        assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
        return [change["number"] for change in (await response.json())["change_requests"]]

    assert await listed("") == [third, second, first]
    assert await listed("?sender_id=ana") == [third, first]
    assert await listed("?sender_id=ana&limit=1") == [third]
    assert await listed("?sender_id=nadie") == []


@pytest.mark.parametrize("limit", ["0", "501", "-1", "x", "1.5", "٣"])
async def test_api_list_refuses_a_bad_limit(console: Console, limit: str) -> None:
    response = await console.client.get("/api/change-requests", params={"limit": limit}, headers=AUTH)

    assert response.status == 400
    assert "limit" in (await response.json())["error"]


async def test_api_detail_has_the_record_and_its_audit_events(console: Console) -> None:
    number = seed(console, description=XSS_DESCRIPTION)

    response = await console.client.get(f"/api/change-requests/{number.lower()}", headers=AUTH)

    assert response.status == 200
    record = await response.json()
    assert record["number"] == number and record["description"] == XSS_DESCRIPTION
    assert (record["created_at"], record["earliest_at"], record["desired_date"]) == (
        "2026-11-27T15:00:00+00:00",
        "2026-12-04T05:00:00+00:00",
        "2026-12-10",
    )
    [event] = record["events"]
    assert (event["actor"], event["action"], event["at"]) == ("bot", "change_request_opened", record["created_at"])
    assert event["detail"]["number"] == number
    listed = (await (await console.client.get("/api/change-requests", headers=AUTH)).json())["change_requests"]
    assert listed == [{key: value for key, value in record.items() if key != "events"}]


@pytest.mark.parametrize("number", ["CHG-2026-999999", "nada", "INC-2026-000001", "CHG-2026-" + "1" * 200])
async def test_api_detail_of_an_unknown_or_malformed_number_is_404(console: Console, number: str) -> None:
    seed(console)

    response = await console.client.get(f"/api/change-requests/{number}", headers=AUTH)

    assert response.status == 404
    assert await response.json() == {"error": "solicitud de cambio no encontrada"}

