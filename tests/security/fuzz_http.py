"""Hypothesis strategies for hostile HTTP requests to the web server (``/api/*``, ``/agents/*``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from hypothesis import strategies as st

HOSTILE_TEXT = [
    "",
    "..",
    "../../etc/passwd",
    "%00",
    "\x00",
    "' OR 1=1 --",
    "'; DROP TABLE incidents; --",
    "<script>alert(1)</script>",
    "\u202eabc",
    "🙂" * 20,
    "x" * 5000,
    "{{7*7}}",
    "${jndi:ldap://x}",
    "-1",
    "1e309",
    "NaN",
    "\ud800",
]
printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)
texts = st.one_of(st.text(max_size=60), st.sampled_from(HOSTILE_TEXT))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)
# GET and POST are the methods the routes take: drawn most often, so requests get past routing.
METHODS = ["GET", "POST"] * 4 + ["PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
QUERY_KEYS = [
    "sender_id",
    "status",
    "limit",
    "q",
    "region",
    "severity",
    "channel",
    "offset",
    "estado",
    "aviso",
    "after",
    "next",
    "expirada",
]
FORM_KEYS = ["csrf", "text", "status", "username", "password", "next", "close", "agent", "reason"]
CONTENT_TYPES = [
    None,
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "text/plain",
    "application/json; charset=latin-1",
]
INCIDENT_ACTIONS = ["", "/messages", "/take", "/reply", "/status", "/hand-back", "/close", "/x"]


@dataclass(frozen=True)
class FuzzRequest:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def describe(self) -> str:
        return f"{self.method} {self.path[:300]} {self.headers} {self.body[:200]!r}"


def encoded(segment: str) -> str:
    return quote(segment.encode("utf-8", "surrogatepass"), safe="")


def paths(tickets: list[str]) -> st.SearchStrategy[str]:
    """Paths of the web server's routes with hostile segments; ``tickets`` are ones that exist."""
    segments = st.one_of(texts, st.sampled_from(tickets), st.sampled_from([t.lower() for t in tickets]))
    return st.one_of(
        st.sampled_from(
            [
                "/api/health",
                "/api/regions",
                "/api/incidents",
                "/api/handoffs",
                "/agents",
                "/agents/login",
                "/agents/logout",
                "/agents/handoffs",
                "/agents/notifications",
                "/agents/static/console.css",
                "/",
                "/widget.js",
            ]
        ),
        st.builds(lambda s, a: f"/api/incidents/{encoded(s)}{a}", segments, st.sampled_from(["", "/status", "/x"])),
        st.builds(lambda s, a: f"/agents/incidents/{encoded(s)}{a}", segments, st.sampled_from(INCIDENT_ACTIONS)),
        st.builds(lambda s: f"/agents/notifications/{encoded(s)}/retry", st.one_of(segments, st.sampled_from(["1"]))),
        st.builds(lambda p, s: f"{p}/{encoded(s)}", st.sampled_from(["/api", "/agents", "/agents/static"]), texts),
    )


def with_query(path: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    queries = st.dictionaries(st.sampled_from(QUERY_KEYS), texts, max_size=4)
    return st.builds(
        lambda p, q: f"{p}?{urlencode({k: v.encode('utf-8', 'surrogatepass') for k, v in q.items()})}" if q else p,
        path,
        queries,
    )


def bodies(csrf: list[str]) -> st.SearchStrategy[bytes]:
    form_values = st.one_of(texts, st.sampled_from(csrf)) if csrf else texts
    forms = st.dictionaries(st.sampled_from(FORM_KEYS), form_values, max_size=5)
    return st.one_of(
        st.just(b""),
        st.binary(max_size=300),
        json_values.map(lambda v: json.dumps(v).encode("utf-8", "surrogatepass")),
        forms.map(lambda f: urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in f.items()}).encode()),
    )


def requests(
    *, tickets: list[str], authorization: list[str], csrf: list[str] | None = None
) -> st.SearchStrategy[FuzzRequest]:
    """Requests with random method, path, query, ``Authorization``, cookies, content type and body."""
    auth = st.one_of(
        st.none(),
        printable,
        st.builds(lambda t: f"Bearer {t}", printable),
        *([st.sampled_from(authorization)] if authorization else []),
    )
    cookie = st.one_of(
        st.none(),
        st.builds(lambda t: f"noc_agent_session={t}", printable.filter(lambda t: ";" not in t)),
        st.builds(lambda t: f"noc_agent_login={t}", printable.filter(lambda t: ";" not in t)),
    )

    def build(method: str, path: str, auth: str | None, cookie: str | None, content_type: str | None, body: bytes):
        headers = {
            name: value
            for name, value in (("Authorization", auth), ("Cookie", cookie), ("Content-Type", content_type))
            if value is not None
        }
        return FuzzRequest(method, path, headers, body)

    return st.builds(
        build,
        st.sampled_from(METHODS),
        with_query(paths(tickets)),
        auth,
        cookie,
        st.sampled_from(CONTENT_TYPES),
        bodies(csrf or []),
    )
