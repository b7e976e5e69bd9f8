"""Holiday calendars: official holidays for any year, the NOC's overrides, and start-up without a calendar."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sanic import Sanic

from noc import action_server
from noc.domain import check_tables
from noc.domain.change_types import earliest_start, get_change_table, is_business_day, load_change_table
from noc.domain.tables import TABLES_DIR


@pytest.mark.parametrize(
    ("country", "day"),
    [
        pytest.param("CO", date(2028, 1, 10), id="CO 2028 Reyes moved to Monday"),
        pytest.param("CO", date(2035, 3, 22), id="CO 2035 Maundy Thursday (Easter 25 Mar)"),
        pytest.param("PE", date(2028, 7, 28), id="PE 2028 Fiestas Patrias"),
        pytest.param("PE", date(2035, 3, 23), id="PE 2035 Good Friday"),
        pytest.param("AR", date(2028, 2, 29), id="AR 2028 carnival Tuesday"),
        pytest.param("CL", date(2028, 9, 18), id="CL 2028 independence"),
        pytest.param("UY", date(2028, 7, 18), id="UY 2028 Jura de la Constitución"),
        pytest.param("PY", date(2028, 5, 15), id="PY 2028 independence"),
        pytest.param("BO", date(2028, 8, 7), id="BO 2028 independence observed on Monday"),
        pytest.param("MX", date(2028, 2, 7), id="MX 2028 first Monday of February"),
        pytest.param("VE", date(2028, 7, 5), id="VE 2028 independence"),
        pytest.param("GT", date(2028, 4, 13), id="GT 2028 Maundy Thursday"),
        pytest.param("CR", date(2028, 9, 15), id="CR 2028 independence"),
        pytest.param("DO", date(2028, 1, 24), id="DO 2028 Duarte moved to Monday"),
        pytest.param("PR", date(2028, 11, 23), id="PR 2028 Thanksgiving"),
        pytest.param("CW", date(2028, 4, 17), id="CW 2028 Easter Monday"),
    ],
)
def test_a_holiday_after_2027_is_not_a_business_day(country: str, day: date) -> None:
    assert day.weekday() < 5  # a weekday: only the holiday can make it a day off
    assert not is_business_day(get_change_table(), day, country)
    assert get_change_table().calendars.closure(country, day)


@pytest.mark.parametrize(
    ("requested", "country", "zone", "expected"),
    [
        # Fri 7 Jan 2028, 5 business days: Mon 10 (Reyes) is skipped -> Tue 11 ... Mon 17.
        pytest.param((2028, 1, 7, 10), "CO", "America/Bogota", (2028, 1, 17), id="CO Reyes 2028"),
        # Tue 11 Apr 2028: Thu 13 and Fri 14 (Holy Week) skipped -> 12, 17, 18, 19, 20.
        pytest.param((2028, 4, 11, 9), "PE", "America/Lima", (2028, 4, 20), id="PE Holy Week 2028"),
        pytest.param((2028, 4, 11, 9), "EC", "America/Guayaquil", (2028, 4, 19), id="EC Good Friday 2028"),
    ],
)
def test_lead_times_after_2027_skip_the_holidays(
    requested: tuple[int, ...], country: str, zone: str, expected: tuple[int, int, int]
) -> None:
    start = earliest_start(
        change_type="estandar", requested_at=datetime(*requested, tzinfo=ZoneInfo(zone)), country=country, tz=zone
    )

    assert start == datetime(*expected, tzinfo=ZoneInfo(zone))


def tables_with(tmp_path: Path, name: str, data: dict) -> Path:
    """Copy of the real tables with ``name`` merged with ``data`` (top-level keys replaced)."""
    tables = tmp_path / "tables"
    shutil.copytree(TABLES_DIR, tables)
    path = tables / name
    merged = {**yaml.safe_load(path.read_text(encoding="utf-8")), **data}
    path.write_text(yaml.safe_dump(merged, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return tables


OVERRIDES = {
    "company_days": {date(2028, 3, 1): "Aniversario de la empresa"},
    "closures": {"PE": {date(2028, 3, 2): "Feriado decretado"}},
    "categories": {"UY": ["public", "bank"]},
}


@pytest.mark.parametrize(
    ("country", "day", "closed"),
    [
        pytest.param("CO", date(2028, 3, 1), "Aniversario de la empresa", id="company day in CO"),
        pytest.param("CW", date(2028, 3, 1), "Aniversario de la empresa", id="company day in CW"),
        pytest.param(None, date(2028, 3, 1), "Aniversario de la empresa", id="company day, unknown country"),
        pytest.param("PE", date(2028, 3, 2), "Feriado decretado", id="closure in its country"),
        pytest.param("CO", date(2028, 3, 2), None, id="closure not in another country"),
        pytest.param("UY", date(2028, 2, 28), "Carnaval", id="category bank adds UY carnival"),
        pytest.param("AR", date(2028, 2, 28), "Lunes de Carnaval", id="official holidays still count"),
    ],
)
def test_an_override_from_the_yaml_still_applies(
    tmp_path: Path, country: str | None, day: date, closed: str | None
) -> None:
    tables = tables_with(tmp_path, "holidays.yml", OVERRIDES)
    table = load_change_table(tables / "change_types.yml", tables / "holidays.yml")

    assert table.calendars.closure(country, day) == closed
    assert is_business_day(table, day, country) is (closed is None)


def test_without_the_category_uy_carnival_is_a_business_day() -> None:
    assert is_business_day(get_change_table(), date(2028, 2, 28), "UY")


def test_a_company_day_moves_the_lead_time(tmp_path: Path) -> None:
    tables = tables_with(tmp_path, "holidays.yml", OVERRIDES)
    table = load_change_table(tables / "change_types.yml", tables / "holidays.yml")
    requested = datetime(2028, 2, 25, 10, tzinfo=ZoneInfo("America/Bogota"))  # Friday

    # 5 business days: Mon 28, Tue 29, (Wed 1 Mar closed), Thu 2, Fri 3, Mon 6.
    start = earliest_start(
        change_type="estandar", requested_at=requested, country="CO", tz="America/Bogota", table=table
    )
    assert start.date() == date(2028, 3, 6)


def region_with_ascension(tmp_path: Path) -> Path:
    """The real tables plus AC (Ascension Island), a real country the holidays package has no calendar for."""
    tables = tmp_path / "tables"
    shutil.copytree(TABLES_DIR, tables)
    path = tables / "centroamerica_caribe.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["countries"]["AC"] = {"name": "Isla Ascensión", "timezone": "Atlantic/St_Helena"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return tables


@pytest.mark.parametrize(
    ("tables", "today", "named"),
    [
        pytest.param(region_with_ascension, date(2026, 11, 25), "AC (2026, 2027)", id="country unknown to the package"),
        pytest.param(None, date(2100, 6, 1), "CO (2101)", id="next year past the package's range"),
    ],
)
def test_a_country_without_calendar_stops_the_table_check(tmp_path: Path, capsys, tables, today, named) -> None:
    argv = [str(tables(tmp_path))] if tables else []

    assert check_tables.main(argv, today=today) == 1

    error = capsys.readouterr().err
    assert error.startswith("Error en las tablas del NOC: calendarios de feriados: ")
    assert named in error
    assert "Actualice holidays en requirements.in y requirements.lock o saque el país de la región" in error


@pytest.mark.parametrize(
    ("broken", "starts"),
    [pytest.param(False, True, id="real tables: it listens"), pytest.param(True, False, id="AC: it exits")],
)
def test_the_action_server_checks_the_calendars_before_it_listens(
    tmp_path: Path, monkeypatch, capsys, broken: bool, starts: bool
) -> None:
    """``python -m noc.action_server`` (its ``main``), with Sanic's listening replaced."""
    if broken:
        monkeypatch.setattr(check_tables, "TABLES_DIR", region_with_ascension(tmp_path))
    monkeypatch.setattr(Sanic, "test_mode", True)  # one "rasa_sdk" app per parameter, in one process
    listened = []
    monkeypatch.setattr(Sanic, "run", lambda self, *args, **kwargs: listened.append(self))

    if starts:
        assert action_server.main(["--port", "5999"]) == 0
    else:
        with pytest.raises(SystemExit) as exited:
            action_server.main(["--port", "5999"])
        assert exited.value.code == 1
        assert "no tiene los feriados de AC (" in capsys.readouterr().err

    assert len(listened) == int(starts)
