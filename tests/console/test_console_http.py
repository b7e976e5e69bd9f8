"""The console and the new API routes over HTTP (aiohttp test client, SQLite, fake bridge)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from noc.db.agents import create_agent, create_session
from noc.db.audit import list_events
from noc.db.conversation_log import LoggedMessage, append_messages
from noc.db.incident_admin import incident_work
from noc.db.models import AgentSession, Handoff, Incident
from noc.db.repository import TranscriptEntry, open_incident
from noc.web.console.access import ANONYMOUS, JSON, PAGE, handler_access
from noc.web.console.context import CONSOLE_KEY
from noc.web.server import create_app
from tests.api.conftest import NOW as TRANSCRIPT_AT
from tests.api.conftest import FakeEscalationBook, make_incident
from tests.console.conftest import PASSWORD, TOKEN, Console, hidden
from tests.console.seed import add_handoff

NOW = datetime.now(timezone.utc).replace(microsecond=0)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
XSS_COMPANY = '<script>window.__pwned=1</script>"Empresa"'
XSS_TEXT = '<img src=x onerror="window.__pwned=2">hola & <b>adiós</b>'


def seed(console: Console, key: str = "k1", **overrides: object) -> str:
    incident = make_incident(key, **overrides)
    return open_incident(console.session_factory, incident=incident, now=NOW).ticket


def audit_actions(console: Console, ticket: str) -> list[tuple[str, str]]:
    work = incident_work(console.session_factory, ticket=ticket)
    assert work is not None
    return [(e["actor"], e["action"]) for e in list_events(console.session_factory, incident_id=work.incident_id)]


def handoff_status(console: Console, handoff_id: int) -> str:
    with console.session_factory() as s:
        return s.get(Handoff, handoff_id).status


def incident_status(console: Console, ticket: str) -> str:
    with console.session_factory() as s:
        return s.execute(select(Incident.status).where(Incident.ticket == ticket)).scalar_one()


PAGES = ["/agents", "/agents/handoffs", "/agents/incidents/INC-2026-000001"]
FORMS = [
    "/agents/logout",
    *(f"/agents/incidents/INC-2026-000001/{action}" for action in ("take", "reply", "status", "hand-back", "close")),
]


# --- access -------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("headers", [{}, AUTH])
async def test_pages_redirect_to_login_without_a_session(console: Console, path: str, headers: dict) -> None:
    seed(console)

    response = await console.client.get(path, headers=headers, allow_redirects=False)

    assert response.status == 303
    assert response.headers["Location"] == "/agents/login?next=" + path.replace("/", "%2F")


@pytest.mark.parametrize("path", FORMS)
async def test_forms_redirect_to_login_without_a_session(console: Console, path: str) -> None:
    ticket = seed(console)

    response = await console.client.post(path, data={"csrf": "x", "text": "hola"}, allow_redirects=False)

    assert response.status == 303 and response.headers["Location"].startswith("/agents/login?next=")
    assert console.bridge.calls == [] and audit_actions(console, ticket) == []


@pytest.mark.parametrize("headers", [{}, AUTH])
async def test_live_messages_answer_401_without_a_session(console: Console, headers: dict) -> None:
    ticket = seed(console)

    response = await console.client.get(f"/agents/incidents/{ticket}/messages?after=0", headers=headers)

    assert response.status == 401
    assert "sesión" in (await response.json())["error"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/incidents"),
        ("GET", "/api/incidents/INC-2026-000001"),
        ("GET", "/api/handoffs"),
        ("POST", "/api/incidents/INC-2026-000001/status"),
    ],
)
@pytest.mark.parametrize("with_console_session", [False, True])
async def test_api_routes_need_the_token_even_with_a_console_session(
    console: Console, method: str, path: str, with_console_session: bool
) -> None:
    ticket = seed(console)
    if with_console_session:
        await console.login()

    response = await console.client.request(method, path, json={"status": "cerrado"})

    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert incident_status(console, ticket) == "abierto"


async def test_every_console_route_is_guarded(console: Console) -> None:
    """A console route registered without an access mark would fall back to the bearer token."""
    marks = {
        route.resource.canonical: handler_access(route.handler)
        for route in console.client.app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith("/agents")
        and not route.resource.canonical.startswith("/agents/static")
    }
    assert marks and set(marks.values()) <= {PAGE, JSON, ANONYMOUS}
    assert marks["/agents/login"] == ANONYMOUS
    assert marks["/agents/incidents/{ticket}/messages"] == JSON


# --- login and logout -----------------------------------------------------------


async def test_login_with_a_wrong_password_says_so_in_spanish(console: Console) -> None:
    page = await (await console.client.get("/agents/login")).text()

    response = await console.client.post(
        "/agents/login",
        data={"username": "ana<b>", "password": "equivocada", "csrf": hidden(page, "csrf")},
        allow_redirects=False,
    )

    assert response.status == 401
    body = await response.text()
    assert "Usuario o contraseña incorrectos." in body
    assert 'value="ana&lt;b&gt;"' in body
    assert "noc_agent_session" not in response.headers.getall("Set-Cookie", [""])[0]


@pytest.mark.parametrize("csrf", [None, "", "otro-token"])
async def test_login_without_its_csrf_token_is_refused(console: Console, csrf: str | None) -> None:
    await console.client.get("/agents/login")  # sets the login cookie
    data = {"username": console.agent.username, "password": PASSWORD}
    if csrf is not None:
        data["csrf"] = csrf

    response = await console.client.post("/agents/login", data=data, allow_redirects=False)

    assert response.status == 403
    assert "Formulario vencido" in await response.text()


async def test_login_sets_a_strict_http_only_cookie_and_follows_next(console: Console) -> None:
    page = await (await console.client.get("/agents/login?next=%2Fagents%2Fhandoffs")).text()
    assert 'name="next" value="/agents/handoffs"' in page

    response = await console.client.post(
        "/agents/login",
        data={"username": "ANA", "password": PASSWORD, "csrf": hidden(page, "csrf"), "next": "/agents/handoffs"},
        allow_redirects=False,
    )

    assert response.status == 303 and response.headers["Location"] == "/agents/handoffs"
    cookie = next(c for c in response.headers.getall("Set-Cookie") if c.startswith("noc_agent_session="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/agents" in cookie
    assert "Secure" not in cookie
    with console.session_factory() as s:
        stored = s.execute(select(AgentSession.token_hash)).scalar_one()
    assert stored not in cookie


async def test_login_never_redirects_off_site(console: Console) -> None:
    page = await (await console.client.get("/agents/login")).text()

    response = await console.client.post(
        "/agents/login",
        data={"username": "ana", "password": PASSWORD, "csrf": hidden(page, "csrf"), "next": "//evil.example/"},
        allow_redirects=False,
    )

    assert response.headers["Location"] == "/agents"


def _secure(cookie: str) -> bool:
    return re.search(r";\s*Secure\b", cookie, re.IGNORECASE) is not None


@pytest.mark.parametrize(
    ("public_base_url", "cookie_secure", "secure"),
    [
        pytest.param("https://chat.noc.example.com", "", True, id="https public URL"),
        pytest.param("HTTPS://chat.noc.example.com/", "", True, id="any letter case"),
        pytest.param("http://chat.noc.example.com", "", False, id="http public URL"),
        pytest.param("", "", False, id="no public URL"),
        pytest.param("https://chat.noc.example.com", "false", False, id="explicit false wins"),
        pytest.param("", "true", True, id="explicit true wins"),
    ],
)
async def test_secure_cookies_follow_an_https_public_url_unless_set(
    aiohttp_client, sqlite_factory, monkeypatch: pytest.MonkeyPatch, public_base_url: str, cookie_secure: str,
    secure: bool,
) -> None:
    from noc.settings import load_settings

    # Set even when empty: a developer's .env (read without overriding) must not decide.
    monkeypatch.setenv("PUBLIC_BASE_URL", public_base_url)
    monkeypatch.setenv("CONSOLE_COOKIE_SECURE", cookie_secure)
    settings = replace(load_settings(), agent_api_token=TOKEN)
    app = create_app(settings=settings, session_factory=sqlite_factory, escalation_book=FakeEscalationBook())
    create_agent(sqlite_factory, username="ana", display_name="Ana", password=PASSWORD)
    client = await aiohttp_client(app)
    login = await client.get("/agents/login")
    page = await login.text()
    assert _secure(login.headers["Set-Cookie"]) is secure

    # The client's jar keeps Secure cookies off plain HTTP: send the form's cookie by hand.
    token = hidden(page, "csrf")
    response = await client.post(
        "/agents/login",
        data={"username": "ana", "password": PASSWORD, "csrf": token},
        cookies={"noc_agent_login": token},
        allow_redirects=False,
    )

    cookie = next(c for c in response.headers.getall("Set-Cookie") if c.startswith("noc_agent_session="))
    assert _secure(cookie) is secure and "HttpOnly" in cookie


async def test_logout_ends_the_session(console: Console) -> None:
    csrf = await console.login()

    response = await console.client.post("/agents/logout", data={"csrf": csrf}, allow_redirects=False)

    assert response.status == 303 and response.headers["Location"] == "/agents/login"
    with console.session_factory() as s:
        assert s.execute(select(AgentSession)).first() is None
    after = await console.client.get("/agents", allow_redirects=False)
    assert after.status == 303


async def test_an_expired_session_goes_back_to_login_with_a_notice(console: Console) -> None:
    await console.login()
    with console.session_factory() as s, s.begin():
        s.execute(update(AgentSession).values(expires_at=NOW - timedelta(minutes=1)))

    response = await console.client.get("/agents")

    assert response.url.path == "/agents/login"
    assert "Su sesión expiró" in await response.text()
    poll = await console.client.get("/agents/incidents/INC-2026-000001/messages")
    assert poll.status == 401


async def test_an_active_session_ends_at_its_absolute_lifetime(console: Console) -> None:
    """However recently used, a session older than CONSOLE_SESSION_MAX_HOURS needs a new login."""
    lifetime = timedelta(hours=console.client.app[CONSOLE_KEY].settings.console_session_max_hours)
    await console.login()
    now = datetime.now(timezone.utc)
    with console.session_factory() as s, s.begin():
        s.execute(
            update(AgentSession).values(
                created_at=now - lifetime + timedelta(minutes=1), last_seen_at=now, expires_at=now + timedelta(hours=8)
            )
        )
    assert (await console.client.get("/agents", allow_redirects=False)).status == 200

    with console.session_factory() as s, s.begin():
        s.execute(update(AgentSession).values(created_at=now - lifetime - timedelta(minutes=1)))

    response = await console.client.get("/agents")
    assert response.url.path == "/agents/login"
    assert "Su sesión expiró" in await response.text()
    with console.session_factory() as s:
        assert s.execute(select(AgentSession)).first() is None
    await console.login()
    assert (await console.client.get("/agents", allow_redirects=False)).status == 200


async def test_logging_in_again_replaces_the_old_session(console: Console) -> None:
    await console.login()
    await console.login()

    with console.session_factory() as s:
        assert len(s.execute(select(AgentSession)).all()) == 1


# --- CSRF -----------------------------------------------------------------------


@pytest.mark.parametrize("path", FORMS)
@pytest.mark.parametrize("csrf", [None, "", "falso", "other-session"])
async def test_posts_without_the_sessions_csrf_token_are_refused(
    console: Console, path: str, csrf: str | None
) -> None:
    ticket = seed(console)
    add_handoff(console.session_factory, ticket=ticket, at=NOW)
    await console.login()
    data = {"text": "hola", "status": "cerrado"}
    if csrf == "other-session":
        # A real token, but of another live session.
        other = create_session(console.session_factory, agent_id=console.agent.id, idle_minutes=30, max_hours=12)
        data["csrf"] = other.csrf_token
    elif csrf is not None:
        data["csrf"] = csrf

    response = await console.client.post(path.replace("INC-2026-000001", ticket), data=data, allow_redirects=False)

    assert response.status == 403
    assert console.bridge.calls == [] and audit_actions(console, ticket) == []
    assert incident_status(console, ticket) == "abierto"


# --- pages ----------------------------------------------------------------------


async def test_console_pages_carry_the_security_headers(console: Console) -> None:
    ticket = seed(console)
    await console.login()

    for path in ("/agents/login", "/agents", "/agents/handoffs", f"/agents/incidents/{ticket}"):
        response = await console.client.get(path)
        assert response.status == 200, path
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Frame-Options"] == "DENY"
        page = await response.text()
        assert page.count("<script") == page.count('<script src="/agents/static/console.js" defer></script>')
        assert not re.search(r"\son[a-z]+=", page) and "style=" not in page


async def test_customer_values_are_escaped_everywhere(console: Console) -> None:
    ticket = seed(
        console,
        company=XSS_COMPANY,
        symptom=XSS_TEXT,
        transcript=(TranscriptEntry(role="user", text=XSS_TEXT, at=NOW - timedelta(minutes=1)),),
    )
    await console.login()

    listing = await (await console.client.get("/agents")).text()
    detail = await (await console.client.get(f"/agents/incidents/{ticket}")).text()

    for page in (listing, detail):
        assert "<script>window.__pwned" not in page and "<img src=x" not in page
        assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;&#34;Empresa&#34;" in page
    assert detail.count("&lt;img src=x onerror=&#34;window.__pwned=2&#34;&gt;hola &amp; &lt;b&gt;adiós&lt;/b&gt;") == 2
    assert "Ana &lt;Operadora&gt;" in detail


async def test_list_search_filters_and_handoff_marks(console: Console) -> None:
    bank = seed(console, "k1", company="Banco Andino", service_id="CO-MPLS-00123")
    shop = seed(console, "k2", company="Tiendas 100%", severity=1, channel="whatsapp")
    add_handoff(console.session_factory, ticket=bank, at=NOW, reason="severity_1")
    await console.login()

    everything = await (await console.client.get("/agents")).text()
    assert everything.index(bank) < everything.index(shop), "waiting for an agent comes first"
    assert "Esperando agente" in everything and "severidad 1" in everything

    searched = await (await console.client.get("/agents", params={"q": "mpls-00123"})).text()
    assert bank in searched and shop not in searched
    literal = await (await console.client.get("/agents", params={"q": "100%"})).text()
    assert shop in literal and bank not in literal
    filtered = await (await console.client.get("/agents", params={"severity": "1", "channel": "whatsapp"})).text()
    assert shop in filtered and bank not in filtered
    assert '<option value="whatsapp" selected>' in filtered
    nothing = await (await console.client.get("/agents", params={"status": "cerrado"})).text()
    assert "Ningún incidente coincide" in nothing

    handoffs = await (await console.client.get("/agents/handoffs")).text()
    assert bank in handoffs and shop not in handoffs


async def test_incident_page_shows_fields_contact_transcript_and_audit(console: Console) -> None:
    ticket = seed(console, severity_reason="sede completa sin servicio", escalation_level=2)
    await console.login()

    page = await (await console.client.get(f"/agents/incidents/{ticket.lower()}")).text()

    for expected in (
        ticket,
        "Transportes Andinos S.A.S.",
        "SRV-10442",
        "maria@example.com",
        "2 (Alta)",
        "sede completa sin servicio",
        "NOC nivel 1: Guardia Andina, tel. +5716000000",
        "Transcripción registrada al abrir el incidente",
        "Hola",
        "Sin cambios registrados.",
        "(UTC-05:00)",
    ):
        assert expected in page, expected
    assert console.book.calls == [("andina", 2)]
    missing = await console.client.get("/agents/incidents/INC-2026-999999")
    assert missing.status == 404 and "Incidente no encontrado" in await missing.text()


async def test_live_messages_endpoint(console: Console) -> None:
    ticket = seed(console)
    append_messages(
        console.session_factory,
        messages=[
            LoggedMessage(sender_id="user-42", role="user", text="<b>sigo sin servicio</b>", at=NOW),
            LoggedMessage(sender_id="user-42", role="bot", text="Un agente le atenderá", at=NOW),
            LoggedMessage(sender_id="otro", role="user", text="no es de este incidente", at=NOW),
            # Before the incident's conversation began (its transcript's first message),
            # whatever today's date: it belongs to an older conversation of the sender.
            LoggedMessage(sender_id="user-42", role="user", text="muy viejo", at=TRANSCRIPT_AT - timedelta(days=2)),
        ],
    )
    await console.login()

    everything = await (await console.client.get(f"/agents/incidents/{ticket}/messages?after=0")).json()
    texts = [m["text"] for m in everything["messages"]]
    assert texts == ["<b>sigo sin servicio</b>", "Un agente le atenderá"]
    first = everything["messages"][0]
    assert first["role"] == "user" and first["role_label"] == "Cliente" and "(UTC-05:00)" in first["at_display"]

    newer = await (await console.client.get(f"/agents/incidents/{ticket}/messages?after={first['id']}")).json()
    assert [m["text"] for m in newer["messages"]] == ["Un agente le atenderá"]
    for bad in ("-1", "x", "1.5", "9" * 30):
        response = await console.client.get(f"/agents/incidents/{ticket}/messages", params={"after": bad})
        assert response.status == 400, bad
    unknown = await console.client.get("/agents/incidents/INC-2026-999999/messages")
    assert unknown.status == 404

    page = await (await console.client.get(f"/agents/incidents/{ticket}")).text()
    assert f'data-last-id="{everything["messages"][-1]["id"]}"' in page
    assert "&lt;b&gt;sigo sin servicio&lt;/b&gt;" in page


# --- working an incident ----------------------------------------------------------


async def test_take_reply_status_and_close(console: Console) -> None:
    ticket = seed(console)
    handoff = add_handoff(console.session_factory, ticket=ticket, at=NOW)
    console.bridge.on_message = lambda body: append_messages(
        console.session_factory,
        messages=[LoggedMessage(sender_id=body["sender_id"], role="agent", text=body["text"], at=NOW)],
    )
    csrf = await console.login()
    base = f"/agents/incidents/{ticket}"

    taken = await console.client.post(f"{base}/take", data={"csrf": csrf})
    assert taken.url.query["aviso"] == "tomado" and "Tomó el incidente." in await taken.text()
    assert handoff_status(console, handoff) == "tomado"

    replied = await console.client.post(f"{base}/reply", data={"csrf": csrf, "text": "  Ya revisamos su enlace.  "})
    assert "Mensaje enviado al cliente." in await replied.text()
    assert console.bridge.received("message") == [
        {"sender_id": "user-42", "text": "Ya revisamos su enlace.", "agent": "Ana <Operadora>"}
    ]
    assert "Ya revisamos su enlace." in await replied.text(), "the broker's copy shows in the chat"
    assert "Respondió al cliente (entregado por Chat web)" in await replied.text(), "socketio is the web chat"

    changed = await console.client.post(f"{base}/status", data={"csrf": csrf, "status": "en_progreso"})
    assert "Cambió el estado de «Abierto» a «En progreso»" in await changed.text()

    closed = await console.client.post(f"{base}/close", data={"csrf": csrf})
    assert "Incidente cerrado" in await closed.text()
    assert console.bridge.received("resume") == [{"sender_id": "user-42", "agent": "Ana <Operadora>", "close": True}]
    assert incident_status(console, ticket) == "cerrado" and handoff_status(console, handoff) == "cerrado"
    assert audit_actions(console, ticket) == [
        ("agent:ana", "assigned"),
        ("agent:ana", "handoff_status"),
        ("agent:ana", "agent_reply"),
        ("agent:ana", "status_changed"),
        ("agent:ana", "status_changed"),
        ("agent:ana", "handoff_status"),
    ]


async def test_hand_back_to_the_bot(console: Console) -> None:
    ticket = seed(console)
    csrf = await console.login()
    base = f"/agents/incidents/{ticket}"

    refused = await console.client.post(f"{base}/hand-back", data={"csrf": csrf})
    assert refused.status == 409 and "no está en manos de los agentes" in await refused.text()
    assert console.bridge.calls == []

    handoff = add_handoff(console.session_factory, ticket=ticket, at=NOW, status="tomado")
    page = await (await console.client.get(base)).text()
    assert "Devolver la conversación al asistente" in page
    returned = await console.client.post(f"{base}/hand-back", data={"csrf": csrf})

    assert "La conversación volvió al asistente." in await returned.text()
    assert console.bridge.received("resume") == [{"sender_id": "user-42", "agent": "Ana <Operadora>", "close": False}]
    assert handoff_status(console, handoff) == "devuelto"
    assert incident_status(console, ticket) == "abierto"


async def test_bridge_failure_keeps_the_typed_reply_and_changes_nothing(console: Console) -> None:
    ticket = seed(console)
    handoff = add_handoff(console.session_factory, ticket=ticket, at=NOW)
    csrf = await console.login()
    console.bridge.status = 503
    base = f"/agents/incidents/{ticket}"
    typed = "Le escribo <de nuevo> & pronto"

    reply = await console.client.post(f"{base}/reply", data={"csrf": csrf, "text": typed})
    assert reply.status == 502
    page = await reply.text()
    assert "No se pudo enviar el mensaje (el servidor Rasa respondió 503)" in page
    assert ">Le escribo &lt;de nuevo&gt; &amp; pronto</textarea>" in page

    close = await console.client.post(f"{base}/close", data={"csrf": csrf})
    assert close.status == 502 and "No se pudo devolver la conversación" in await close.text()
    assert incident_status(console, ticket) == "abierto" and handoff_status(console, handoff) == "pendiente"
    assert audit_actions(console, ticket) == []


async def test_undelivered_reply_is_reported(console: Console) -> None:
    ticket = seed(console)
    csrf = await console.login()
    console.bridge.delivered = False

    response = await console.client.post(f"/agents/incidents/{ticket}/reply", data={"csrf": csrf, "text": "hola"})

    assert "el canal del cliente no lo entregó" in await response.text()


@pytest.mark.parametrize(
    ("action", "data", "status", "message"),
    [
        ("reply", {"text": "   "}, 400, "Escriba el mensaje"),
        ("reply", {"text": "x" * 2001}, 400, "supera los 2000"),
        ("status", {"status": "resuelto_primer_contacto"}, 400, "Elija un estado"),
        ("status", {"status": "borrado"}, 400, "Elija un estado"),
        ("status", {}, 400, "Elija un estado"),
    ],
)
async def test_bad_form_input_is_refused_in_spanish(
    console: Console, action: str, data: dict, status: int, message: str
) -> None:
    ticket = seed(console)
    csrf = await console.login()

    response = await console.client.post(f"/agents/incidents/{ticket}/{action}", data={"csrf": csrf, **data})

    assert response.status == status
    assert message in await response.text()
    assert console.bridge.calls == [] and audit_actions(console, ticket) == []


async def test_no_conversation_no_reply(console: Console) -> None:
    ticket = seed(console, sender_id=None)
    csrf = await console.login()

    page = await (await console.client.get(f"/agents/incidents/{ticket}")).text()
    response = await console.client.post(f"/agents/incidents/{ticket}/reply", data={"csrf": csrf, "text": "hola"})

    assert "Responder al cliente" not in page
    assert response.status == 409 and "no tiene una conversación" in await response.text()


async def test_forms_on_an_unknown_ticket_answer_404(console: Console) -> None:
    csrf = await console.login()

    for action in ("take", "reply", "status", "hand-back", "close"):
        response = await console.client.post(
            f"/agents/incidents/INC-2026-999999/{action}", data={"csrf": csrf, "text": "x", "status": "cerrado"}
        )
        assert response.status == 404, action


# --- JSON API -------------------------------------------------------------------


async def test_api_lists_handoffs(console: Console) -> None:
    ticket = seed(console)
    add_handoff(console.session_factory, ticket=ticket, at=NOW, reason="low_confidence")

    everything = await (await console.client.get("/api/handoffs", headers=AUTH)).json()
    pending = await (await console.client.get("/api/handoffs?status=pendiente", headers=AUTH)).json()
    returned = await (await console.client.get("/api/handoffs?status=devuelto", headers=AUTH)).json()
    bad = await console.client.get("/api/handoffs?status=abierto", headers=AUTH)

    assert [h["ticket"] for h in everything["handoffs"]] == [ticket]
    assert pending["handoffs"][0]["reason"] == "low_confidence"
    assert returned == {"handoffs": []}
    assert bad.status == 400 and "error" in await bad.json()


@pytest.mark.parametrize(("actor", "audited"), [(None, "api:integracion"), ("  crm-salesforce ", "api:crm-salesforce")])
async def test_api_changes_status_with_an_audited_actor(console: Console, actor: str | None, audited: str) -> None:
    ticket = seed(console)
    body = {"status": "en_progreso"} if actor is None else {"status": "en_progreso", "actor": actor}

    response = await console.client.post(f"/api/incidents/{ticket.lower()}/status", json=body, headers=AUTH)

    assert response.status == 200
    assert await response.json() == {"ticket": ticket, "status": "en_progreso", "previous_status": "abierto"}
    assert audit_actions(console, ticket) == [(audited, "status_changed")]


@pytest.mark.parametrize(
    "body",
    [
        b"no es json",
        b"[]",
        b'"cerrado"',
        b"{}",
        b'{"status": "borrado"}',
        b'{"status": null}',
        b'{"status": ["cerrado"]}',
        b'{"status": "cerrado", "actor": 5}',
        b'{"status": "cerrado", "actor": "   "}',
        b'{"status": "cerrado", "actor": "' + b"x" * 101 + b'"}',
    ],
)
async def test_api_status_refuses_bad_bodies(console: Console, body: bytes) -> None:
    ticket = seed(console)

    response = await console.client.post(
        f"/api/incidents/{ticket}/status", data=body, headers={**AUTH, "Content-Type": "application/json"}
    )

    assert response.status == 400
    assert (await response.json())["error"]
    assert incident_status(console, ticket) == "abierto"


async def test_api_status_of_an_unknown_ticket_is_404(console: Console) -> None:
    for ticket in ("INC-2026-999999", "nada"):
        response = await console.client.post(
            f"/api/incidents/{ticket}/status", json={"status": "cerrado"}, headers=AUTH
        )
        assert response.status == 404
        assert (await response.json()) == {"error": "ticket no encontrado"}
