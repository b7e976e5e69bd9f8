"""How much a customer's message and a request to the Rasa server may weigh.

Rasa 3.6 runs NLU synchronously on the Rasa server's event loop
(``MessageProcessor.parse_message``): while one message is parsed, no other
conversation on that server moves, and Twilio gives up on a webhook after
15 s. NLU time grows with the length of the text (about 0.1 s for 1,600
characters of a report, over 1 s for 16,000 characters of words on a
2-core server), so a client sending long messages in parallel held every
other customer's answers for seconds (issue 11).

* The bot reads at most :data:`MAX_BOT_MESSAGE_CHARS` characters. A longer
  message never reaches Rasa: each customer channel (REST, web chat, Twilio)
  answers it with the domain's :data:`MESSAGE_TOO_LONG` and the conversation
  stays as it was (the text is not taken as an answer to anything).
* Every request body to the Rasa server is capped at :data:`MAX_REQUEST_BYTES`
  (Sanic's own default is 100 MB): :func:`limit_request_sizes` is called by
  each customer channel's blueprint. The web chat also caps Engine.IO's
  polling requests and web socket messages at it (1 MB by default; Sanic's
  own WEBSOCKET_MAX_SIZE, 1 MiB, bounds a frame before that).
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Sanic

# A full report with every contact detail ("Buenos días, les escribe Ana Ruiz
# de Banco Andino S.A.S. El enlace CO-MPLS-00777 de la sede norte en Bogotá
# está caído desde hoy a las 8:15 ... mi correo ana.ruiz@bancoandino.com.co")
# is about 250 characters: this leaves room for six of them, and it is the
# longest body Twilio delivers (1,600 characters), so no SMS is ever refused.
MAX_BOT_MESSAGE_CHARS = 1_600
MESSAGE_TOO_LONG = "utter_message_too_long"

# The largest legitimate body is a REST message of 16,000 characters
# (noc.rasa_plugins.channels.rest.MAX_MESSAGE_CHARS) written with JSON \u escapes:
# 12 bytes for a character outside the BMP, about 196 kB with the sender.
MAX_REQUEST_BYTES = 256 * 1024


def too_long_for_the_bot(text: str) -> bool:
    return len(text) > MAX_BOT_MESSAGE_CHARS


def _cap_request_size(app: Sanic, *_: Any) -> None:
    # min(): a lower SANIC_REQUEST_MAX_SIZE set by ops is kept.
    app.config.REQUEST_MAX_SIZE = min(app.config.REQUEST_MAX_SIZE, MAX_REQUEST_BYTES)


def limit_request_sizes(blueprint: Blueprint) -> None:
    """Caps the Rasa server's request bodies at ``MAX_REQUEST_BYTES`` (413 above).

    REQUEST_MAX_SIZE is an app-wide Sanic setting, so any one channel covers
    every route of the server (the agent bridge too); each customer channel
    sets it, as each may be enabled alone in credentials.yml. Sanic reads it
    at each new connection, after ``before_server_start``.
    """
    blueprint.listener("before_server_start")(_cap_request_size)
