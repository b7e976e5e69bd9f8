"""A bad change-type or holiday table stops start-up with a message naming the file and the problem."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from noc.domain.change_types import check_holiday_coverage, get_change_table, load_change_table
from noc.domain.check_tables import main
from noc.domain.escalation import get_escalation_book
from noc.domain.tables import TABLES_DIR, TableError

Edit = Callable[[dict[str, Any]], None]


def edited(tmp_path: Path, name: str, edit: Edit) -> Path:
    """Copy of the real tables with ``edit`` applied to ``name``."""
    tables = tmp_path / "tables"
    shutil.copytree(TABLES_DIR, tables)
    path = tables / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return tables


def load(tables: Path) -> None:
    load_change_table(tables / "change_types.yml", tables / "holidays.yml")


def _set(path: tuple, value: Any) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


def _delete(*path: Any) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return edit


def _add_phrase(item: int, phrase: str) -> Edit:
    return lambda data: data["types"]["estandar"]["catalogue"][item]["phrases"].append(phrase)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_delete("types", "urgente"), "faltan los tipos urgente"),
        (_set(("types", "express"), {"name": "Exprés"}), "tipos desconocidos: express"),
        (_set(("types", "normal", "hours"), 240), "business_days o hours (uno solo)"),
        (_delete("types", "urgente", "hours"), "business_days o hours (uno solo)"),
        (_set(("types", "estandar", "business_days"), 0), "business_days debe ser un entero positivo"),
        (_set(("types", "emergencia", "hours"), True), "hours debe ser un entero positivo"),
        (_set(("types", "normal", "name"), " "), "el tipo normal sin name"),
        (_delete("types", "urgente", "description"), "el tipo urgente sin description"),
        (_set(("types", "normal", "catalogue"), []), "solo el tipo estandar tiene catalogue"),
        (_set(("types", "estandar", "catalogue"), []), "necesita un catalogue"),
        (_set(("types", "estandar", "catalogue", 0, "phrases"), []), "no tiene phrases"),
        (_add_phrase(0, "de la"), "no tiene palabras que comparar"),
        (_add_phrase(1, "Abrir LOS puertos"), "'abrir un puerto' de 'Apertura de puerto' repite una de 'Cambio de"),
        (_set(("types",), None), "types debe ser un mapeo"),
    ],
)
def test_broken_change_types(tmp_path: Path, edit: Edit, message: str) -> None:
    tables = edited(tmp_path, "change_types.yml", edit)

    with pytest.raises(TableError, match=r"^tables/change_types\.yml: ") as raised:
        load(tables)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_set(("closures", "Col"), {date(2026, 1, 2): "Cierre"}), "closures: 'Col' no es un código de país"),
        (_set(("closures", "CO"), [date(2026, 1, 2)]), "closures: CO debe ser un mapeo"),
        (_set(("closures", "CO"), {"2026-02-30": "Inventado"}), "closures: CO: '2026-02-30' no es una fecha"),
        (_set(("company_days",), {date(2026, 12, 24): " "}), "company_days: el día 2026-12-24 no tiene nombre"),
        (_set(("company_days",), ["2026-12-24"]), "company_days debe ser un mapeo"),
        (_set(("categories", "UY"), "bank"), "categories: UY debe ser una lista"),
        (_set(("categories", "UY"), ["public", "banco"]), "UY no tiene las categorías banco (tiene bank, public)"),
        (_set(("categories", "AC"), ["public"]), "el paquete holidays no tiene calendario de AC"),
        (_set(("countries",), {"CO": {date(2026, 1, 1): "Año Nuevo"}}), "secciones desconocidas: countries"),
        (_set(("closure",), {}), "secciones desconocidas: closure"),
    ],
)
def test_broken_holidays(tmp_path: Path, edit: Edit, message: str) -> None:
    tables = edited(tmp_path, "holidays.yml", edit)

    with pytest.raises(TableError, match=r"^tables/holidays\.yml: ") as raised:
        load(tables)
    assert message in str(raised.value)


def test_every_region_country_has_its_holidays() -> None:
    countries = [code for region in get_escalation_book().regions.values() for code in region.countries]

    check_holiday_coverage(get_change_table(), countries, today=date(2026, 11, 25))
    with pytest.raises(TableError, match=r"no tiene los feriados de AC \(2026, 2027\)"):
        check_holiday_coverage(get_change_table(), [*countries, "AC"], today=date(2026, 11, 25))


def test_start_up_stops_on_a_bad_change_table(tmp_path: Path, capsys) -> None:
    tables = edited(tmp_path, "change_types.yml", _delete("types", "normal"))

    assert main([str(tables)]) == 1
    assert "change_types.yml: faltan los tipos normal" in capsys.readouterr().err


@pytest.mark.parametrize("today", [date(2026, 11, 25), date(2027, 12, 31), date(2031, 5, 1), date(2099, 1, 1)])
def test_start_up_passes_for_any_year_the_package_covers(capsys, today: date) -> None:
    assert main([], today=today) == 0

    output = capsys.readouterr()
    assert f"feriados de 32 países para {today.year} y {today.year + 1}" in output.out
    assert output.err == ""
