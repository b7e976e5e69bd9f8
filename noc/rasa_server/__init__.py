"""The Rasa server as this project runs it: ``python -m noc.rasa_server run ...``.

The same command line as ``rasa`` (``run``, ``shell``, ...), after putting in
place the project's changes to Rasa 3.6's processor, which it has no setting
or hook for:

* a custom action that cannot be reached or does not answer in time fails the
  turn (``noc.rasa_plugins.remote_actions``);
* a message id already in the conversation is not processed again
  (``noc.rasa_plugins.message_ids``);
* NLU runs beside the event loop, the quickest message first
  (``noc.rasa_plugins.nlu_queue``).

Everything else the server loads is named in ``credentials.yml`` (channels),
``endpoints.yml`` (tracker and lock stores, live log) and ``config.yml``
(the NLU component), all under ``noc.rasa_plugins``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from noc.rasa_plugins import message_ids, nlu_queue, remote_actions
from noc.settings import get_settings


def install() -> None:
    """Put the processor changes in place (again: nothing is changed twice)."""
    remote_actions.install(get_settings().action_timeout_seconds)
    message_ids.install()
    nlu_queue.install()


def installed() -> bool:
    return remote_actions.installed() and message_ids.installed() and nlu_queue.installed()


def main(argv: Sequence[str] | None = None) -> None:
    """Rasa's command line (``rasa.__main__.main``) with the changes installed."""
    from rasa.__main__ import main as rasa_main

    install()
    sys.argv = ["rasa", *(sys.argv[1:] if argv is None else argv)]
    rasa_main()
