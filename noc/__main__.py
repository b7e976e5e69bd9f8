"""``python -m noc <command>``: the project's tasks, as `make run` and the deployments call them.

    python -m noc check-tables [DIR]   validate the NOC's YAML tables (escalation_tables/)
    python -m noc migrate              create or upgrade the database schema
    python -m noc agents ...           console accounts (ensure-admin, create, ...)
    python -m noc retention [--days N] [--dry-run]
                                       delete old transcripts, logs and idle conversations

Each command is the ``main`` of its module, imported only when asked for, so
no module is both imported and run as ``__main__``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

COMMANDS = {
    "check-tables": "noc.domain.check_tables",
    "migrate": "noc.db.migrate",
    "agents": "noc.db.agents",
    "retention": "noc.db.retention",
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in COMMANDS:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    status = importlib.import_module(COMMANDS[args[0]]).main(args[1:])
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
