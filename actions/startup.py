"""What an action server checks before it listens: the NOC tables, holiday calendars included.

rasa_sdk 3.6 calls the ``attach_sanic_app_extensions`` hooks of the top-level
package ``rasa_sdk_plugins`` (``rasa_sdk/plugin.py``) after it has loaded the
actions and before the server listens; ``rasa_sdk_plugins/__init__.py`` at the
project root registers this module. A bad table then stops every action server
itself, also where nothing ran ``python -m actions.check_tables`` first (a
Kubernetes Deployment does not wait for the migration Job).
"""

from __future__ import annotations

from typing import Any

import pluggy

hookimpl = pluggy.HookimplMarker("rasa_sdk")


@hookimpl
def attach_sanic_app_extensions(app: Any) -> None:
    """Exit with status 1 (the reason on stderr) when a NOC table is bad."""
    # Imported here: rasa_sdk imports every module of `actions`, and none may do work at import.
    from actions.check_tables import main

    status = main([])
    if status:
        raise SystemExit(status)
