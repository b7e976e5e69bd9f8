"""Public pages of the web server: the demo NOC page and the chat widget bundle.

``GET /`` serves noc/web/demo/index.html with the Rasa server's public URL
(``PUBLIC_RASA_URL``) filled into the widget's ``data-rasa-url``;
``GET /widget.js`` serves the bundle `make` builds into widget/dist/.
Both are ``@public``: the NOC site embeds the widget for anyone.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from noc.settings import PROJECT_ROOT, Settings
from noc.web.shared import public

DEMO_PAGE = Path(__file__).resolve().parent / "demo" / "index.html"
WIDGET_BUNDLE = PROJECT_ROOT / "widget" / "dist" / "widget.js"
# Stands in noc/web/demo/index.html for the Rasa URL the browser connects to.
RASA_URL_PLACEHOLDER = "__PUBLIC_RASA_URL__"


@dataclass(frozen=True)
class WebPages:
    demo_page: Path
    widget_bundle: Path
    public_rasa_url: str


WEB_PAGES_KEY = web.AppKey("web_pages", WebPages)


def add_web_pages(
    app: web.Application,
    settings: Settings,
    *,
    demo_page: Path = DEMO_PAGE,
    widget_bundle: Path = WIDGET_BUNDLE,
) -> None:
    """Register ``GET /`` and ``GET /widget.js`` on the app built by ``create_app``."""
    app[WEB_PAGES_KEY] = WebPages(
        demo_page=demo_page, widget_bundle=widget_bundle, public_rasa_url=settings.public_rasa_url
    )
    app.router.add_get("/", public(demo_page_handler), name="demo_page")
    app.router.add_get("/widget.js", public(widget_bundle_handler), name="widget_bundle")


async def demo_page_handler(request: web.Request) -> web.Response:
    pages = request.app[WEB_PAGES_KEY]
    page = pages.demo_page.read_text(encoding="utf-8")
    rasa_url = html.escape(pages.public_rasa_url, quote=True)
    return web.Response(
        text=page.replace(RASA_URL_PLACEHOLDER, rasa_url),
        content_type="text/html",
        charset="utf-8",
        headers={"Cache-Control": "no-cache", "Referrer-Policy": "same-origin"},
    )


async def widget_bundle_handler(request: web.Request) -> web.StreamResponse:
    bundle = request.app[WEB_PAGES_KEY].widget_bundle
    if not bundle.is_file():
        return web.json_response(
            {"error": "widget sin compilar: ejecute `make widget/dist/widget.js`"},
            status=503,
            dumps=lambda data: json.dumps(data, ensure_ascii=False),
        )
    return web.FileResponse(
        bundle,
        headers={
            "Content-Type": "text/javascript; charset=utf-8",
            # Revalidated on every load (ETag/Last-Modified): a rebuilt widget
            # reaches the pages at once.
            "Cache-Control": "no-cache",
            # Loaded by <script> tags on other origins (the NOC site).
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
    )
