"""NOC agents: passwords, console logins, and the ``create`` command.

Passwords are hashed with scrypt (n=2**14, r=8, p=1, random 16-byte salt) and
stored as ``scrypt$n$r$p$salt_b64$hash_b64``. A console session is a random
token kept in the browser's cookie; the database holds only its SHA-256, so a
leaked table gives no usable cookie. Sessions expire after
``idle_minutes`` without use (sliding), and ``max_hours`` after the login
however active they were, checked on every request.

    python -m noc agents create --username ana --display-name "Ana Ruiz" [--admin]
    python -m noc agents ensure-admin    # ADMIN_USERNAME / ADMIN_PASSWORD, only if no agent exists

``create`` reads the password from the terminal (asked twice) or, when stdin
is not a terminal, from its first line.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import hmac
import re
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from noc.db.audit import utc_moment
from noc.db.db import READ_ONLY_OPTIONS
from noc.db.models import Agent, AgentSession

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
HASH_SCHEME = "scrypt"
# Bounds on parameters read back from a stored hash, so a tampered row can't
# make a login allocate gigabytes.
_MAX_N = 2**20
_MAX_RP = 16

MIN_PASSWORD_LENGTH = 10
# Longer input is refused before hashing (scrypt's cost does not depend on it,
# but there is no reason to accept megabytes from a login form).
MAX_PASSWORD_LENGTH = 1024
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
MAX_DISPLAY_NAME_LENGTH = 128

# A session seen again within this interval is not written back: the idle
# expiry then has this resolution, and the console's 2-second polling does
# not turn every request into a database write.
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)
_MAX_TOKEN_LENGTH = 256


@dataclass(frozen=True)
class AgentInfo:
    id: int
    username: str
    display_name: str
    is_admin: bool


@dataclass(frozen=True)
class NewSession:
    """What the browser gets at login: ``token`` goes in the cookie."""

    token: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class ConsoleSession:
    agent: AgentInfo
    csrf_token: str
    expires_at: datetime


# --- passwords ---------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, *, n: int, r: int, p: int, dklen: int) -> bytes:
    # maxmem above scrypt's 128*n*r bytes; OpenSSL's default (32 MiB) is too
    # tight for the larger parameters a future hash may use.
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=256 * n * r + 2**20
    )


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt_b64$hash_b64`` for ``password`` with a fresh random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=HASH_BYTES)
    return f"{HASH_SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (False for a malformed hash)."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != HASH_SCHEME:
        return False
    try:
        n, r, p = (int(value) for value in parts[1:4])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
    except ValueError:
        return False
    if not (1 < n <= _MAX_N and n & (n - 1) == 0 and 1 <= r <= _MAX_RP and 1 <= p <= _MAX_RP and expected):
        return False
    digest = _scrypt(password, salt, n=n, r=r, p=p, dklen=len(expected))
    return hmac.compare_digest(digest, expected)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against for unknown usernames so they cost the same scrypt run
    # as real ones (no timing oracle for which usernames exist).
    return hash_password(secrets.token_urlsafe(16))


def normalize_username(username: str) -> str | None:
    """Lower-case ``username`` if it is a valid one, else None."""
    candidate = username.strip().lower()
    return candidate if USERNAME_PATTERN.fullmatch(candidate) else None


def _new_agent(username: str, display_name: str, password: str, *, is_admin: bool, now: datetime | None) -> Agent:
    """A validated, active agent row with the password hashed. Raises ValueError (Spanish message)."""
    canonical = normalize_username(username)
    if canonical is None:
        raise ValueError(
            "usuario inválido: de 1 a 64 caracteres entre letras sin tilde, números, punto, guion, guion bajo y @"
        )
    name = display_name.strip()
    if not name or len(name) > MAX_DISPLAY_NAME_LENGTH:
        raise ValueError(f"el nombre visible debe tener entre 1 y {MAX_DISPLAY_NAME_LENGTH} caracteres")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValueError(
            f"la contraseña debe tener entre {MIN_PASSWORD_LENGTH} y {MAX_PASSWORD_LENGTH} caracteres"
        )
    return Agent(
        username=canonical,
        display_name=name,
        password_hash=hash_password(password),
        is_admin=is_admin,
        active=True,
        created_at=utc_moment(now),
    )


def _info(row: Agent) -> AgentInfo:
    return AgentInfo(id=row.id, username=row.username, display_name=row.display_name, is_admin=bool(row.is_admin))


# --- agents ------------------------------------------------------------------


def create_agent(
    session_factory: sessionmaker,
    *,
    username: str,
    display_name: str,
    password: str,
    is_admin: bool = False,
    now: datetime | None = None,
) -> AgentInfo:
    """Store a new active agent. Raises ValueError (Spanish message) on bad input or a taken username."""
    row = _new_agent(username, display_name, password, is_admin=is_admin, now=now)  # hashed before the transaction
    try:
        with session_factory() as s, s.begin():
            s.add(row)
            s.flush()
            return _info(row)
    except IntegrityError as exc:
        raise ValueError(f"ya existe un agente con el usuario {row.username!r}") from exc


def ensure_first_admin(session_factory: sessionmaker, *, username: str, password: str) -> bool:
    """Create ``username`` as an administrator if no agent exists yet; True if it was created."""
    row = _new_agent(username, username, password, is_admin=True, now=None)
    with session_factory() as s, s.begin():
        if s.execute(select(func.count()).select_from(Agent)).scalar_one():
            return False
        s.add(row)
    return True


def authenticate(session_factory: sessionmaker, *, username: str, password: str) -> AgentInfo | None:
    """The active agent with these credentials, or None.

    Unknown and malformed usernames run the same scrypt verification as
    known ones, so response time does not reveal which usernames exist.
    """
    canonical = normalize_username(username) if len(username) <= 200 else None
    row = None
    if canonical is not None:
        with session_factory() as s, s.begin():
            s.connection(execution_options=READ_ONLY_OPTIONS)
            row = s.execute(select(Agent).where(Agent.username == canonical)).scalar_one_or_none()
    if len(password) > MAX_PASSWORD_LENGTH:
        verify_password("", _dummy_hash())
        return None
    matches = verify_password(password, row.password_hash if row is not None else _dummy_hash())
    if row is None or not matches or not row.active:
        return None
    return _info(row)


# --- sessions ----------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _session_deadline(*, created_at: datetime, now: datetime, idle_minutes: int, max_hours: int) -> datetime:
    """When a session used at ``now`` expires: ``idle_minutes`` later, but never past its absolute lifetime."""
    if idle_minutes < 1 or max_hours < 1:
        raise ValueError("idle_minutes and max_hours must be >= 1")
    return min(now + timedelta(minutes=idle_minutes), created_at + timedelta(hours=max_hours))


def create_session(
    session_factory: sessionmaker, *, agent_id: int, idle_minutes: int, max_hours: int, now: datetime | None = None
) -> NewSession:
    """Log ``agent_id`` in: a new random cookie token and CSRF token. Also drops expired sessions."""
    now = utc_moment(now)
    expires_at = _session_deadline(created_at=now, now=now, idle_minutes=idle_minutes, max_hours=max_hours)
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    with session_factory() as s, s.begin():
        s.execute(delete(AgentSession).where(AgentSession.expires_at <= now))
        s.add(
            AgentSession(
                token_hash=_token_hash(token),
                agent_id=agent_id,
                csrf_token=csrf_token,
                created_at=now,
                last_seen_at=now,
                expires_at=expires_at,
            )
        )
    return NewSession(token=token, csrf_token=csrf_token, expires_at=expires_at)


def get_session(
    session_factory: sessionmaker, *, token: str, idle_minutes: int, max_hours: int, now: datetime | None = None
) -> ConsoleSession | None:
    """The live session for this cookie token, its idle expiry pushed forward; None if unknown or expired.

    A session expires after ``idle_minutes`` without use and, however active,
    ``max_hours`` after it was created (a stolen cookie kept alive by polling
    stops working then). An expired session, or one whose agent was
    deactivated, is deleted.
    """
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    now = utc_moment(now)
    token_hash = _token_hash(token)
    with session_factory() as s, s.begin():
        s.connection(execution_options=READ_ONLY_OPTIONS)
        found = s.execute(
            select(AgentSession, Agent)
            .join(Agent, Agent.id == AgentSession.agent_id)
            .where(AgentSession.token_hash == token_hash)
        ).one_or_none()
    if found is None:
        return None
    row, agent = found
    # The age is checked on its own, not only through expires_at: sessions
    # created under a longer (or no) absolute lifetime end on time too.
    too_old = now >= row.created_at + timedelta(hours=max_hours)
    if row.expires_at <= now or too_old or not agent.active:
        delete_session(session_factory, token=token)
        return None
    expires_at = row.expires_at
    if now - row.last_seen_at >= SESSION_TOUCH_INTERVAL:
        expires_at = _session_deadline(
            created_at=row.created_at, now=now, idle_minutes=idle_minutes, max_hours=max_hours
        )
        with session_factory() as s, s.begin():
            touched = s.execute(
                update(AgentSession)
                .where(AgentSession.token_hash == token_hash, AgentSession.expires_at > now)
                .values(last_seen_at=now, expires_at=expires_at)
                .execution_options(synchronize_session=False)
            ).rowcount
        if not touched:  # logged out (or expired) meanwhile
            return None
    return ConsoleSession(agent=_info(agent), csrf_token=row.csrf_token, expires_at=expires_at)


def delete_session(session_factory: sessionmaker, *, token: str) -> None:
    """Log out: forget the session of this cookie token (no error if there is none)."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return
    with session_factory() as s, s.begin():
        s.execute(delete(AgentSession).where(AgentSession.token_hash == _token_hash(token)))


# --- command line ------------------------------------------------------------


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Contraseña: ")
    if getpass.getpass("Repita la contraseña: ") != first:
        raise ValueError("las contraseñas no coinciden")
    return first


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m noc agents", description="Agentes de la consola del NOC")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="crear un agente (la contraseña se lee de la entrada estándar)")
    create.add_argument("--username", required=True)
    create.add_argument("--display-name", required=True)
    create.add_argument("--admin", action="store_true", help="administrador")
    commands.add_parser("ensure-admin", help="crear ADMIN_USERNAME con ADMIN_PASSWORD si aún no hay agentes")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from noc.db.db import get_session_factory
    from noc.settings import get_settings

    args = _parser().parse_args(argv)
    try:
        if args.command == "create":
            agent = create_agent(
                get_session_factory(),
                username=args.username,
                display_name=args.display_name,
                password=_read_password(),
                is_admin=args.admin,
            )
            print(f"Agente {agent.username!r} creado" + (" (administrador)." if agent.is_admin else "."))
            return 0
        settings = get_settings()
        if not settings.admin_username or not settings.admin_password:
            raise ValueError("faltan ADMIN_USERNAME o ADMIN_PASSWORD")
        created = ensure_first_admin(
            get_session_factory(), username=settings.admin_username, password=settings.admin_password
        )
        if created:
            print(f"Administrador {settings.admin_username!r} creado para la consola de agentes.")
        return 0
    except ValueError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1

