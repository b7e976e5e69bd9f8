"""The one place that reads the environment.

Values come from real environment variables first, then from `.env` at the
project root (python-dotenv never overrides a variable that is already set).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"La variable {name} debe ser un número entero, no {raw!r}") from exc
    if minimum is not None and value < minimum:
        raise ValueError(f"La variable {name} debe ser al menos {minimum}, no {raw!r}")
    return value


def _positive_int(name: str, default: int) -> int:
    # A limit of 0 here would lock every ticket on its first failure, or never
    # unlock: refuse it rather than guess.
    value = _int(name, default)
    if value < 1:
        raise ValueError(f"La variable {name} debe ser mayor que cero, no {value}")
    return value


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"La variable {name} debe ser un número, no {raw!r}") from exc
    if not value > 0:
        raise ValueError(f"La variable {name} debe ser mayor que cero, no {raw!r}")
    return value


def _is_https(url: str | None) -> bool:
    return url is not None and urlsplit(url).scheme.lower() == "https"


def _optional(name: str) -> str | None:
    return os.environ.get(name, "").strip() or None


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "si", "sí", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"La variable {name} debe ser true o false, no {raw!r}")


@dataclass(frozen=True)
class Settings:
    database_url: str
    agent_api_token: str | None
    # Shared secret the Rasa server sends to the action server
    # (endpoints.yml: "Authorization: Bearer ..."); the action server refuses
    # to start without one (noc/action_server/__init__.py).
    action_server_token: str | None
    rasa_port: int
    action_port: int
    # Interface the action server listens on: loopback unless the Rasa servers
    # are on other hosts (containers: 0.0.0.0, with the token).
    action_host: str
    web_port: int
    web_host: str
    rasa_url: str
    # Time zone used for "since when" while the customer's country is still unknown.
    default_timezone: str
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_sms_number: str | None
    twilio_whatsapp_number: str | None
    # Public URL the Rasa server is reached at (behind a proxy): Twilio signs
    # requests with the URL it called, so signatures are checked against it.
    public_base_url: str | None
    # Only for local development: never turn off in production.
    twilio_validate_signature: bool
    # URL the browser reaches the Rasa server at (the web chat widget's
    # data-rasa-url on the demo page); the Rasa server's own port by default.
    public_rasa_url: str
    # Twilio REST API base (outgoing messages from agents); tests point it at a local fake.
    twilio_api_base_url: str
    # Handoff notifications: a JSON webhook signed with HMAC-SHA256 of the secret,
    # and e-mail to the region's level-1 address when an SMTP host is set.
    handoff_webhook_url: str | None
    handoff_webhook_secret: str | None
    smtp_host: str | None
    smtp_port: int
    smtp_username: str | None
    smtp_password: str | None
    smtp_from: str
    smtp_starttls: bool
    # A notification failing this many times in a row is given up (a dead
    # letter the console lists and can queue again).
    notification_max_attempts: int
    # Agent console: session lifetime (idle, and absolute since the login),
    # first admin created by `make run`.
    console_session_minutes: int
    console_session_max_hours: int
    # Secure flag of the console's cookies; by default on when PUBLIC_BASE_URL is https.
    console_cookie_secure: bool
    admin_username: str | None
    admin_password: str | None
    # Production mode: Rasa's lock store (and shared rate-limit counters) on
    # Redis when set; in memory otherwise (one server only).
    redis_url: str | None
    # Rate limits on the public webhooks and the console login.
    rate_limit_sender_per_minute: int
    rate_limit_ip_per_minute: int
    login_attempts_per_15_minutes: int
    # Transcripts and conversation logs older than this are deleted by
    # `python -m noc retention` (run by a scheduler).
    retention_days: int
    # Conversation locks on Redis (noc/rasa_plugins/lock_store.py): a lock expires this
    # long after its holder stops renewing it (a killed server), and a message
    # waits at most lock_wait_seconds for it before it fails.
    lock_ttl_seconds: float
    lock_wait_seconds: float
    # A custom action that has not answered after this long fails the message's
    # turn (noc/rasa_plugins/remote_actions.py): the customer hears of the problem
    # and the conversation stays as it was, instead of Rasa's five-minute wait.
    # The clock runs on the Rasa server's event loop, which a burst of messages
    # keeps busy: well above a loaded server's p99 (about 10 s at 50 concurrent
    # conversations on 2 cores), so only a hung action server trips it.
    action_timeout_seconds: float
    # Reverse proxies in front of the servers: the client's IP for rate limits is
    # the entry this far from the right of X-Forwarded-For (0: the socket's peer).
    trusted_proxy_hops: int
    # Chat verification of a ticket (service ID + e-mail, actions/ticket_forms.py):
    # after this many failures within the window, from any conversations, the
    # ticket's verification is locked for verify_lock_minutes and agents are told.
    verify_failures_per_ticket: int
    verify_failure_window_minutes: int
    verify_lock_minutes: int


def default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'noc.db'}"


def load_settings() -> Settings:
    """Read settings now (call again after changing os.environ in tests)."""
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    rasa_port = _int("RASA_PORT", 5005)
    public_base_url = (_optional("PUBLIC_BASE_URL") or "").rstrip("/") or None
    return Settings(
        database_url=os.environ.get("DATABASE_URL", "").strip() or default_database_url(),
        agent_api_token=os.environ.get("AGENT_API_TOKEN", "").strip() or None,
        action_server_token=_optional("ACTION_SERVER_TOKEN"),
        rasa_port=rasa_port,
        action_port=_int("ACTION_PORT", 5055),
        action_host=_optional("ACTION_HOST") or "127.0.0.1",
        web_port=_int("WEB_PORT", 8080),
        web_host=os.environ.get("WEB_HOST", "127.0.0.1").strip() or "127.0.0.1",
        rasa_url=os.environ.get("RASA_URL", "").strip() or f"http://127.0.0.1:{rasa_port}",
        default_timezone=os.environ.get("DEFAULT_TIMEZONE", "").strip() or "America/Bogota",
        twilio_account_sid=_optional("TWILIO_ACCOUNT_SID"),
        twilio_auth_token=_optional("TWILIO_AUTH_TOKEN"),
        twilio_sms_number=_optional("TWILIO_SMS_NUMBER"),
        twilio_whatsapp_number=_optional("TWILIO_WHATSAPP_NUMBER"),
        public_base_url=public_base_url,
        twilio_validate_signature=_bool("TWILIO_VALIDATE_SIGNATURE", True),
        public_rasa_url=(_optional("PUBLIC_RASA_URL") or "").rstrip("/") or f"http://127.0.0.1:{rasa_port}",
        twilio_api_base_url=(_optional("TWILIO_API_BASE_URL") or "https://api.twilio.com").rstrip("/"),
        handoff_webhook_url=_optional("HANDOFF_WEBHOOK_URL"),
        handoff_webhook_secret=_optional("HANDOFF_WEBHOOK_SECRET"),
        smtp_host=_optional("SMTP_HOST"),
        smtp_port=_int("SMTP_PORT", 587),
        smtp_username=_optional("SMTP_USERNAME"),
        smtp_password=_optional("SMTP_PASSWORD"),
        smtp_from=_optional("SMTP_FROM") or "noc-asistente@example.com",
        smtp_starttls=_bool("SMTP_STARTTLS", True),
        notification_max_attempts=_int("NOTIFICATION_MAX_ATTEMPTS", 10, minimum=1),
        console_session_minutes=_int("CONSOLE_SESSION_MINUTES", 480, minimum=1),
        console_session_max_hours=_int("CONSOLE_SESSION_MAX_HOURS", 12, minimum=1),
        # Served over HTTPS (the public URL says so): the cookies must not travel
        # over plain HTTP, unless the setting says otherwise.
        console_cookie_secure=_bool("CONSOLE_COOKIE_SECURE", _is_https(public_base_url)),
        admin_username=_optional("ADMIN_USERNAME"),
        admin_password=_optional("ADMIN_PASSWORD"),
        redis_url=_optional("REDIS_URL"),
        rate_limit_sender_per_minute=_int("RATE_LIMIT_SENDER_PER_MINUTE", 30),
        rate_limit_ip_per_minute=_int("RATE_LIMIT_IP_PER_MINUTE", 120),
        login_attempts_per_15_minutes=_int("LOGIN_ATTEMPTS_PER_15_MINUTES", 10),
        retention_days=_int("RETENTION_DAYS", 365),
        lock_ttl_seconds=_float("LOCK_TTL_SECONDS", 10.0),
        lock_wait_seconds=_float("LOCK_WAIT_SECONDS", 20.0),
        action_timeout_seconds=_float("ACTION_TIMEOUT_SECONDS", 20.0),
        trusted_proxy_hops=_int("TRUSTED_PROXY_HOPS", 0),
        verify_failures_per_ticket=_positive_int("VERIFY_FAILURES_PER_TICKET", 5),
        verify_failure_window_minutes=_positive_int("VERIFY_FAILURE_WINDOW_MINUTES", 1440),
        verify_lock_minutes=_positive_int("VERIFY_LOCK_MINUTES", 1440),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process, read once on first use."""
    return load_settings()
