"""`python -m noc check-tables`: load and validate every NOC data file.

`make run` runs it before starting the servers, and every action server runs
it again before it listens (``noc/action_server/checks.py``), so a bad escalation,
severity, change-type or holiday table stops start-up with a message naming
the file and the problem. A region country without a holiday calendar for
this year or the next stops it too: its change requests would otherwise count
its holidays as business days without anyone noticing.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from noc.domain.change_types import check_holiday_coverage, load_change_table
from noc.domain.escalation import load_escalation_book
from noc.domain.places import load_places
from noc.domain.severity import load_severity_table
from noc.domain.tables import TABLES_DIR, TableError


def check_tables(directory: Path = TABLES_DIR, *, today: date) -> str:
    """Load and validate every table: the summary line, or TableError on the first problem."""
    book = load_escalation_book(directory)
    load_severity_table(directory / "severity.yml")
    load_places(directory / "places.yml")
    changes = load_change_table(directory / "change_types.yml", directory / "holidays.yml")
    countries = [code for region in book.regions.values() for code in region.countries]
    check_holiday_coverage(changes, countries, today=today)
    return (
        f"Tablas del NOC válidas: {len(book.regions)} regiones, tabla de severidad, lugares, "
        f"tipos de cambio y feriados de {len(countries)} países para {today.year} y {today.year + 1}."
    )


def main(argv: list[str] | None = None, *, today: date | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0]) if args else TABLES_DIR
    try:
        summary = check_tables(directory, today=today or date.today())
    except TableError as error:
        print(f"Error en las tablas del NOC: {error}", file=sys.stderr)
        return 1
    print(summary)
    return 0

