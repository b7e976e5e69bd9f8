"""What an action server checks before it listens: the NOC tables, holiday calendars included.

rasa_sdk 3.6 calls the ``attach_sanic_app_extensions`` hooks of its plugin
manager (``rasa_sdk/plugin.py``) after it has loaded the actions and before
the server listens; ``noc.action_server.main`` registers this module there. A
bad table then stops every action server itself, also where nothing ran ``python -m noc check-tables`` first (a
Kubernetes Deployment does not wait for the migration Job).
"""

from __future__ import annotations

from typing import Any

import pluggy

from noc.domain.check_tables import main

hookimpl = pluggy.HookimplMarker("rasa_sdk")


@hookimpl
def attach_sanic_app_extensions(app: Any) -> None:
    """Exit with status 1 (the reason on stderr) when a NOC table is bad."""
    status = main([])
    if status:
        raise SystemExit(status)
