"""`python -m actions.check_tables`: load and validate every NOC data file.

`make run` runs it before starting the servers, so a bad escalation, severity,
change-type or holiday table stops start-up with a message naming the file and
the problem. Missing holidays for this year or the next only warn: business
days then skip weekends alone, which should not stop the assistant.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from actions.change_types import check_holiday_coverage, load_change_table
from actions.escalation import load_escalation_book
from actions.places import load_places
from actions.severity import load_severity_table
from actions.tables import TABLES_DIR, TableError


def main(argv: list[str] | None = None, *, today: date | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0]) if args else TABLES_DIR
    try:
        book = load_escalation_book(directory)
        load_severity_table(directory / "severity.yml")
        load_places(directory / "places.yml")
        changes = load_change_table(directory / "change_types.yml", directory / "holidays.yml")
        countries = [code for region in book.regions.values() for code in region.countries]
        warnings = check_holiday_coverage(
            changes, countries, today=today or date.today(), holidays_path=directory / "holidays.yml"
        )
    except TableError as error:
        print(f"Error en las tablas del NOC: {error}", file=sys.stderr)
        return 1
    for warning in warnings:
        print(f"Aviso en las tablas del NOC: {warning}", file=sys.stderr)
    print(
        f"Tablas del NOC válidas: {len(book.regions)} regiones, tabla de severidad, lugares, "
        "tipos de cambio y feriados."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
