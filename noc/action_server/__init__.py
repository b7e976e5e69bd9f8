"""The action server: rasa_sdk's, reachable only by the Rasa server.

``rasa run actions`` (rasa_sdk 3.6) listens on every interface and runs any
action for whoever posts a made-up conversation to ``/webhook``: opening
incidents and handoffs, reading and escalating tickets. This starts the same
server with two changes:

* it listens on ``ACTION_HOST`` (127.0.0.1 unless set: containers set
  0.0.0.0, the Rasa servers being on other hosts);
* every route but ``GET /health`` (the probes') needs
  ``Authorization: Bearer <ACTION_SERVER_TOKEN>``, and without a token
  configured it does not start at all.

The Rasa server sends the header from ``endpoints.yml``
(``action_endpoint.headers``). Rasa's ``token:`` option would put the secret in
the query string instead, which nginx's access log and Sanic's request log
record.

Run it with the options of ``rasa run actions`` (``--actions`` defaults to
this package)::

    python -m noc.action_server --port 5055 --logging-config-file logging.yml

Before it listens, the NOC tables are checked (``checks``), registered here
with rasa_sdk's plugin manager rather than through a ``rasa_sdk_plugins``
package that rasa_sdk would import from the working directory.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from rasa_sdk import endpoint, utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from noc.action_server import checks
from noc.bearer import token_matches
from noc.settings import get_settings

logger = logging.getLogger(__name__)

ACTIONS_PACKAGE = "actions"
# Liveness and readiness probes (compose, k8s, the start scripts) carry no token;
# the answer says only that the server is up.
OPEN_ROUTES = frozenset({("GET", "/health"), ("HEAD", "/health")})
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="noc-actions"'}


class MissingToken(RuntimeError):
    """ACTION_SERVER_TOKEN is not set: the server would be open to anyone who reaches it."""


def required(token: str | None) -> str:
    """``token``, or MissingToken when it is empty."""
    if not token:
        raise MissingToken("ACTION_SERVER_TOKEN no está configurado: el servidor de acciones no arranca sin él")
    return token


def require_token(app: Sanic, token: str | None) -> None:
    """Refuse (401) every request to ``app`` but the health check without ``Bearer <token>``."""
    expected = required(token)

    async def check_token(request: Request) -> HTTPResponse | None:
        if (request.method, request.path) in OPEN_ROUTES:
            return None
        if token_matches(request.headers.get("Authorization") or "", expected):
            return None
        logger.warning("Refused %s %s from %s: no valid action server token", request.method, request.path, request.ip)
        return response.json({"error": "no autorizado"}, status=401, headers=CHALLENGE)

    app.register_middleware(check_token, "request")


def create_app(
    *,
    token: str | None,
    actions: str = ACTIONS_PACKAGE,
    cors_origins: str | list[str] | None = None,
    auto_reload: bool = False,
) -> Sanic:
    """rasa_sdk's application for ``actions``, guarded by ``token`` (MissingToken when there is none)."""
    # Checked first: a server without a token must not even load the actions.
    expected = required(token)
    app = endpoint.create_app(actions, cors_origins=cors_origins, auto_reload=auto_reload)
    require_token(app, expected)
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """``rasa run actions`` with the changes of this module."""
    parser = endpoint.create_argument_parser()
    # The spelling of `rasa run actions` (rasa_sdk's own parser says --logging-config_file).
    parser.add_argument("--logging-config-file", dest="logging_config_file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    # What rasa_sdk.__main__.main_from_args does before it runs the server.
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel, args.logging_config_file
    )
    utils.update_sanic_log_level()

    settings = get_settings()
    try:
        app = create_app(
            token=settings.action_server_token,
            actions=args.actions or ACTIONS_PACKAGE,
            cors_origins=args.cors,
            auto_reload=args.auto_reload,
        )
    except MissingToken as exc:
        print(f"noc.action_server: {exc}", file=sys.stderr)
        return 2
    plugins = plugin_manager()  # one per process (cached by rasa_sdk)
    if not plugins.is_registered(checks):
        plugins.register(checks)
    plugins.hook.attach_sanic_app_extensions(app=app)
    ssl_context = endpoint.create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    scheme = "https" if ssl_context else "http"
    logger.info("Action server listening on %s://%s:%s", scheme, settings.action_host, args.port)
    app.run(settings.action_host, args.port, ssl=ssl_context, workers=utils.number_of_sanic_workers())
    return 0
