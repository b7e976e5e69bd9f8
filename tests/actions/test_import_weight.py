"""The action server loads the actions and what they use, not the Rasa server nor the web server.

rasa_sdk imports every module of the ``actions`` package at start. When the
package also held the channels, the stores and the web server, each action
server loaded Rasa, Sanic's channels and aiohttp's server: 570-620 MB of RSS,
and an import error in the console stopped it (issue 12). Likewise the NOC's
rules in ``noc.domain`` stay plain functions: no Rasa, no database. Measured
in a fresh interpreter, as an action server starts.
"""

from __future__ import annotations

import json
import subprocess
import sys

from noc.settings import PROJECT_ROOT

IMPORT_ALL = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for info in pkgutil.walk_packages(package.__path__, sys.argv[1] + "."):
    importlib.import_module(info.name)
print(json.dumps(sorted(sys.modules)))
"""
# What only the Rasa server or the web server needs.
FORBIDDEN = ("rasa", "aiohttp.web", "socketio", "tensorflow", "spacy", "sklearn", "noc.web", "noc.rasa_plugins")


def loaded_with(package: str, forbidden: tuple[str, ...]) -> list[str]:
    """The modules of ``forbidden`` that importing every module of ``package`` loads, in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL, package], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in forbidden))


def test_importing_every_action_module_pulls_in_neither_rasa_nor_the_web_server() -> None:
    assert loaded_with("actions", FORBIDDEN) == []


def test_the_domain_rules_import_no_rasa_and_no_database() -> None:
    assert loaded_with("noc.domain", ("rasa", "rasa_sdk", "sqlalchemy", "aiohttp", "sanic", "noc.db")) == []
