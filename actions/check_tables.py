"""`python -m actions.check_tables`: load and validate every NOC data file.

`make run` runs it before starting the servers, so a bad escalation or
severity table stops start-up with a message naming the file and the problem.
"""

from __future__ import annotations

import sys
from pathlib import Path

from actions.escalation import load_escalation_book
from actions.places import load_places
from actions.severity import load_severity_table
from actions.tables import TABLES_DIR, TableError


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0]) if args else TABLES_DIR
    try:
        book = load_escalation_book(directory)
        load_severity_table(directory / "severity.yml")
        load_places(directory / "places.yml")
    except TableError as error:
        print(f"Error en las tablas del NOC: {error}", file=sys.stderr)
        return 1
    print(f"Tablas del NOC válidas: {len(book.regions)} regiones, tabla de severidad y lugares.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
