"""rasa_sdk's plugin package: `rasa run actions` imports it from the project root (see actions/startup.py)."""

from __future__ import annotations

import pluggy


def init_hooks(manager: pluggy.PluginManager) -> None:
    """Called by rasa_sdk.plugin.plugin_manager() when an action server starts."""
    from actions import startup

    manager.register(startup)
