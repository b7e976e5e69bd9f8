"""Fixtures of the web chat widget tests.

``servers`` is the stack of the three servers of `make run` that the
end-to-end tests share (tests/conftest.py); ``browser`` is Debian's chromium
driven by Playwright, never a browser Playwright downloads.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.servers import ROOT

WIDGET_BUNDLE = ROOT / "widget" / "dist" / "widget.js"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
# This machine (and CI) has no internet: keep chromium from calling home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def widget_bundle() -> Path:
    if not WIDGET_BUNDLE.is_file():
        pytest.fail(f"{WIDGET_BUNDLE.relative_to(ROOT)} is missing: run `make widget/dist/widget.js`")
    return WIDGET_BUNDLE


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def browser(widget_bundle: Path) -> Iterator:
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} not found: `make chromium` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextlib.contextmanager
def checked_page(browser, *, width: int = 1280, height: int = 860) -> Iterator:
    """A page in a new Colombian-Spanish context; the test fails if a script on it raised."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="es-CO")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], errors
