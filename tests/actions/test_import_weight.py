"""The action server loads the actions and what they use, not the Rasa server nor the web server.

rasa_sdk imports every module of the ``actions`` package at start. When the
package also held the channels, the stores and the web server, each action
server loaded Rasa, Sanic's channels and aiohttp's server: 570-620 MB of RSS,
and an import error in the console stopped it (issue 12). Measured in a fresh
interpreter, as an action server starts.
"""

from __future__ import annotations

import json
import subprocess
import sys

from noc.settings import PROJECT_ROOT

IMPORT_ALL_ACTIONS = """
import importlib, json, pkgutil, sys
import actions
for info in pkgutil.walk_packages(actions.__path__, "actions."):
    importlib.import_module(info.name)
print(json.dumps(sorted(sys.modules)))
"""
# What only the Rasa server or the web server needs.
FORBIDDEN = ("rasa", "aiohttp.web", "socketio", "tensorflow", "spacy", "sklearn", "noc.web", "noc.rasa_plugins")


def test_importing_every_action_module_pulls_in_neither_rasa_nor_the_web_server() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL_ACTIONS], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    loaded = sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))
    assert loaded == []
