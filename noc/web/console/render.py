"""HTML of the console: Jinja2 templates in templates/, every value autoescaped."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from noc.web.console import display
from noc.web.console.access import CSRF_FIELD, SESSION_REQUEST_KEY

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"


@lru_cache(maxsize=1)
def severity_names() -> dict[int, str]:
    """Severity names from the NOC's table (escalation_tables/severity.yml)."""
    from noc.domain.severity import get_severity_table

    return {number: level.name for number, level in get_severity_table().levels.items()}


def change_type_names() -> dict[str, str]:
    """Spanish names of the change types from the NOC's table (escalation_tables/change_types.yml)."""
    from noc.domain.change_types import get_change_table  # loaded once per process there

    return {key: kind.name for key, kind in get_change_table().types.items()}


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        # Everything shown comes from customers or agents: escape it all.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        label=display.label,
        yes_no=display.yes_no,
        format_time=display.format_time,
        day_start=display.day_start,
        actor_label=display.actor_label,
        audit_text=display.audit_text,
        STATUS_LABELS=display.STATUS_LABELS,
        HANDOFF_STATUS_LABELS=display.HANDOFF_STATUS_LABELS,
        HANDOFF_REASON_LABELS=display.HANDOFF_REASON_LABELS,
        CHANNEL_LABELS=display.CHANNEL_LABELS,
        CHANGE_STATUS_LABELS=display.CHANGE_STATUS_LABELS,
        NOTIFICATION_KIND_LABELS=display.NOTIFICATION_KIND_LABELS,
        csrf_field=CSRF_FIELD,
    )
    env.filters["severity"] = lambda value: display.severity_label(value, severity_names())
    env.filters["change_type"] = lambda value: display.label(change_type_names(), value)
    return env


def render(request: web.Request, template: str, *, status: int = 200, **values: Any) -> web.Response:
    """The template as a UTF-8 HTML response; ``agent`` and ``csrf`` come from the session, if any."""
    session = request.get(SESSION_REQUEST_KEY)
    page = environment().get_template(template).render(
        agent=session.agent if session else None,
        csrf=session.csrf_token if session else "",
        **values,
    )
    return web.Response(text=page, status=status, content_type="text/html", charset="utf-8")
