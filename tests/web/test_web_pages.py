"""The demo page and the widget bundle are served publicly by the web server (no Rasa needed)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.orm import sessionmaker

from noc.settings import PROJECT_ROOT, load_settings
from noc.web.server import create_app
from noc.web.web_pages import DEMO_PAGE, RASA_URL_PLACEHOLDER, WEB_PAGES_KEY, WebPages

WEB_PORT = 18283
BUNDLE_TEXT = "/*! test bundle */(()=>{window.__nocTest=1})();\n"


class NoEscalationBook:
    def contact(self, region_slug: str | None, level: int = 1) -> None:
        return None

    def as_dict(self) -> dict:
        return {"regions": []}


def build_app(tmp_path: Path, *, public_rasa_url: str = "https://rasa.noc.example:5005") -> web.Application:
    settings = replace(load_settings(), agent_api_token="secret-token", public_rasa_url=public_rasa_url)
    app = create_app(settings=settings, session_factory=sessionmaker(), escalation_book=NoEscalationBook())
    bundle = tmp_path / "widget.js"
    bundle.write_text(BUNDLE_TEXT, encoding="utf-8")
    app[WEB_PAGES_KEY] = WebPages(demo_page=DEMO_PAGE, widget_bundle=bundle, public_rasa_url=public_rasa_url)
    return app


async def test_demo_page_is_public_html_with_the_widget_tag(aiohttp_client, tmp_path: Path) -> None:
    client: TestClient = await aiohttp_client(build_app(tmp_path))

    response = await client.get("/")

    assert response.status == 200
    assert response.content_type == "text/html"
    assert response.charset == "utf-8"
    page = await response.text()
    assert '<html lang="es">' in page
    assert '<script src="/widget.js" data-rasa-url="https://rasa.noc.example:5005"' in page
    assert RASA_URL_PLACEHOLDER not in page
    assert page.count("<script") == 1, "the demo page embeds the widget with one tag and nothing else"


async def test_rasa_url_is_escaped_into_the_attribute(aiohttp_client, tmp_path: Path) -> None:
    client: TestClient = await aiohttp_client(
        build_app(tmp_path, public_rasa_url='http://x"><script>alert(1)</script>')
    )

    page = await (await client.get("/")).text()

    assert "<script>alert(1)" not in page
    assert 'data-rasa-url="http://x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page


async def test_widget_bundle_is_public_javascript(aiohttp_client, tmp_path: Path) -> None:
    client: TestClient = await aiohttp_client(build_app(tmp_path))

    response = await client.get("/widget.js")

    assert response.status == 200
    assert response.content_type == "text/javascript"
    assert response.charset == "utf-8"
    assert await response.text() == BUNDLE_TEXT
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert "no-cache" in response.headers["Cache-Control"]
    assert "ETag" in response.headers or "Last-Modified" in response.headers


async def test_missing_bundle_says_how_to_build_it(aiohttp_client, tmp_path: Path) -> None:
    app = build_app(tmp_path)
    app[WEB_PAGES_KEY] = replace(app[WEB_PAGES_KEY], widget_bundle=tmp_path / "missing.js")
    client: TestClient = await aiohttp_client(app)

    response = await client.get("/widget.js")

    assert response.status == 503
    assert "make widget/dist/widget.js" in (await response.json())["error"]


@pytest.mark.parametrize("path", ["/api/incidents", "/api/incidents/INC-2026-000001"])
async def test_the_agent_api_stays_protected(aiohttp_client, tmp_path: Path, path: str) -> None:
    client: TestClient = await aiohttp_client(build_app(tmp_path))

    response = await client.get(path)

    assert response.status == 401


def test_public_rasa_url_defaults_to_the_rasa_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_PORT", "5123")
    monkeypatch.setenv("PUBLIC_RASA_URL", "")
    assert load_settings().public_rasa_url == "http://127.0.0.1:5123"

    monkeypatch.setenv("PUBLIC_RASA_URL", "https://chat.noc.example/")
    assert load_settings().public_rasa_url == "https://chat.noc.example"


@pytest.mark.stack
def test_the_real_server_process_serves_both(tmp_path: Path) -> None:
    """``python -m noc.web`` runs as ``__main__``: the routes must work there too."""
    env = {
        **os.environ,
        "WEB_PORT": str(WEB_PORT),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'web.db'}",
        "AGENT_API_TOKEN": "secret-token",
        "PUBLIC_RASA_URL": "http://rasa.example:5005",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "noc.web"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{WEB_PORT}"
        deadline = time.monotonic() + 30
        while True:
            try:
                page = requests.get(f"{base}/", timeout=2)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert page.status_code == 200, page.text
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        assert 'data-rasa-url="http://rasa.example:5005"' in page.text
        bundle = requests.get(f"{base}/widget.js", timeout=5)
        assert bundle.status_code in (200, 503), bundle.text
        assert bundle.headers["Content-Type"] == (
            "text/javascript; charset=utf-8" if bundle.status_code == 200 else "application/json; charset=utf-8"
        )
        assert requests.get(f"{base}/api/incidents", timeout=5).status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)
