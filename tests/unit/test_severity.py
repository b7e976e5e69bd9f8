from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from noc.domain.severity import (
    SPECIAL_RULES,
    SYMPTOM_KINDS,
    Classification,
    SeverityTable,
    classify,
    format_duration,
    get_severity_table,
    load_severity_table,
    pick_symptom_kind,
)
from noc.domain.tables import TABLES_DIR, TableError


@pytest.fixture(scope="module")
def table() -> SeverityTable:
    return load_severity_table()


# --- the real table ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "name", "response", "restoration"),
    [
        (1, "Crítica", 15, 240),
        (2, "Alta", 30, 480),
        (3, "Media", 240, 1440),
        (4, "Baja", 480, 4320),
    ],
)
def test_product_table(table: SeverityTable, severity: int, name: str, response: int, restoration: int) -> None:
    level = table.level(severity)
    assert (level.name, level.response_minutes, level.restoration_minutes) == (
        name,
        response,
        restoration,
    )
    assert level.when


@pytest.mark.parametrize(
    ("rule", "severity"),
    [
        ("sin_servicio", 1),
        ("intermitente", 2),
        ("lentitud", 2),
        ("perdida_paquetes", 2),
        ("parcial", 2),
        ("falla_menor", 3),
        ("consulta", 4),
        ("power_problem", 3),
        ("resolved_on_reboot", 4),
        ("unknown", 2),
    ],
)
def test_product_rules(table: SeverityTable, rule: str, severity: int) -> None:
    assert table.rules[rule][0] == severity
    assert table.rules[rule][1].endswith(".")


def test_cached_getter() -> None:
    assert get_severity_table() is get_severity_table()


@pytest.mark.parametrize("severity", [0, 5, -1, None, "1"])
def test_unknown_severity_level(table: SeverityTable, severity: Any) -> None:
    with pytest.raises(KeyError):
        table.level(severity)


# --- classify --------------------------------------------------------------------------

KINDS = (*SYMPTOM_KINDS, None, "", "otro", "SIN_SERVICIO")
FLAGS = (None, True, False)


def _expected_rule(kind: str | None, power_ok: bool | None, persists: bool | None) -> str:
    if persists is False:
        return "resolved_on_reboot"
    if power_ok is False:
        return "power_problem"
    return kind if kind in SYMPTOM_KINDS else "unknown"


@pytest.mark.parametrize(("kind", "power_ok", "persists"), list(itertools.product(KINDS, FLAGS, FLAGS)))
def test_classify_precedence(
    table: SeverityTable, kind: str | None, power_ok: bool | None, persists: bool | None
) -> None:
    result = classify(table, symptom_kind=kind, power_ok=power_ok, problem_persists=persists)
    rule = _expected_rule(kind, power_ok, persists)
    severity, reason = table.rules[rule]
    level = table.level(severity)
    assert result == Classification(
        severity=severity,
        name=level.name,
        reason=reason,
        response_minutes=level.response_minutes,
        restoration_minutes=level.restoration_minutes,
        rule=rule,
    )


@pytest.mark.parametrize(
    ("kind", "power_ok", "persists", "severity", "name", "rule"),
    [
        ("sin_servicio", True, True, 1, "Crítica", "sin_servicio"),
        ("sin_servicio", None, None, 1, "Crítica", "sin_servicio"),
        ("intermitente", True, True, 2, "Alta", "intermitente"),
        ("lentitud", None, True, 2, "Alta", "lentitud"),
        ("perdida_paquetes", True, True, 2, "Alta", "perdida_paquetes"),
        ("parcial", True, None, 2, "Alta", "parcial"),
        ("falla_menor", True, True, 3, "Media", "falla_menor"),
        ("consulta", None, None, 4, "Baja", "consulta"),
        ("sin_servicio", False, True, 3, "Media", "power_problem"),
        ("sin_servicio", True, False, 4, "Baja", "resolved_on_reboot"),
        ("sin_servicio", False, False, 4, "Baja", "resolved_on_reboot"),
        (None, None, None, 2, "Alta", "unknown"),
        ("no_se", True, True, 2, "Alta", "unknown"),
    ],
)
def test_classify_examples(
    table: SeverityTable,
    kind: str | None,
    power_ok: bool | None,
    persists: bool | None,
    severity: int,
    name: str,
    rule: str,
) -> None:
    result = classify(table, symptom_kind=kind, power_ok=power_ok, problem_persists=persists)
    assert (result.severity, result.name, result.rule) == (severity, name, rule)


def test_classify_copies_the_sla_of_its_level(table: SeverityTable) -> None:
    result = classify(table, symptom_kind="sin_servicio", power_ok=True, problem_persists=True)
    assert (result.response_minutes, result.restoration_minutes) == (15, 240)


# --- format_duration -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (0, "0 minutos"),
        (1, "1 minuto"),
        (15, "15 minutos"),
        (30, "30 minutos"),
        (60, "1 hora"),
        (61, "1 hora 1 minuto"),
        (90, "1 hora 30 minutos"),
        (120, "2 horas"),
        (240, "4 horas"),
        (480, "8 horas"),
        (1440, "24 horas"),
        (4320, "72 horas"),
        (4335, "72 horas 15 minutos"),
    ],
)
def test_format_duration(minutes: int, text: str) -> None:
    assert format_duration(minutes) == text


# --- validation ------------------------------------------------------------------------


def _source() -> dict[str, Any]:
    return yaml.safe_load((TABLES_DIR / "severity.yml").read_text(encoding="utf-8"))


def _level(severity: int, **values: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        entry = next(e for e in data["levels"] if e["severity"] == severity)
        entry.update(values)
        for key in [k for k, v in values.items() if v is _DROP]:
            entry.pop(key)

    return change


_DROP = object()


def _rule(name: str, **values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["rules"][name].update(values)


MUTATIONS = [
    ("drop_severity_4", lambda d: d["levels"].pop(), "faltan las severidades 4"),
    (
        "severity_5",
        lambda d: d["levels"].append({**d["levels"][0], "severity": 5}),
        "fuera de 1..4",
    ),
    ("duplicate", lambda d: d["levels"][1].update(severity=1), "repetida"),
    ("zero_response", _level(1, response_minutes=0), "entero positivo"),
    ("negative_restoration", _level(2, restoration_minutes=-5), "entero positivo"),
    ("text_minutes", _level(3, response_minutes="4 horas"), "entero positivo"),
    ("bool_minutes", _level(3, response_minutes=True), "entero positivo"),
    ("float_minutes", _level(3, response_minutes=2.5), "entero positivo"),
    ("response_not_below_restoration", _level(4, response_minutes=4320), "menor"),
    ("empty_name", _level(2, name=""), "severidad 2 sin name"),
    ("missing_when", _level(2, when=_DROP), "severidad 2 sin when"),
    ("levels_not_list", lambda d: d.update(levels={"1": "x"}), "levels debe ser una lista"),
    *[
        (f"missing_rule_{kind}", lambda d, k=kind: d["rules"].pop(k), f"faltan las reglas {kind}")
        for kind in (*SYMPTOM_KINDS, *SPECIAL_RULES)
    ],
    ("unknown_rule", lambda d: d["rules"].update(sin_luz={"severity": 3, "reason": "x"}), "desconocidas"),
    ("rule_to_missing_severity", _rule("consulta", severity=7), "severidad inexistente"),
    ("rule_severity_text", _rule("consulta", severity="4"), "severidad inexistente"),
    ("empty_reason", _rule("unknown", reason="  "), "la regla unknown sin reason"),
    ("rule_not_mapping", lambda d: d["rules"].update(parcial=2), "la regla parcial"),
    ("rules_not_mapping", lambda d: d.update(rules=["sin_servicio"]), "rules debe ser un mapeo"),
]


@pytest.mark.parametrize(("mutate", "problem"), [pytest.param(m, p, id=name) for name, m, p in MUTATIONS])
def test_broken_tables_are_rejected(tmp_path: Path, mutate: Callable[[dict[str, Any]], None], problem: str) -> None:
    data = _source()
    mutate(data)
    path = tmp_path / "escalation_tables" / "severity.yml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(TableError) as excinfo:
        load_severity_table(path)
    assert "escalation_tables/severity.yml" in str(excinfo.value)
    assert problem in str(excinfo.value)


@pytest.mark.parametrize(
    ("text", "problem"),
    [("levels: [\n", "YAML inválido"), ("- 1\n- 2\n", "mapeo"), ("{}\n", "levels")],
)
def test_unreadable_files(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "severity.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TableError, match=problem):
        load_severity_table(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="no existe"):
        load_severity_table(tmp_path / "severity.yml")


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        (["parcial", "sin_servicio"], "parcial"),
        (["sin_servicio", "parcial"], "parcial"),
        (["falla_menor", "lentitud"], "lentitud"),
        (["intermitente", "sin_servicio"], "sin_servicio"),
        (["consulta"], "consulta"),
        (["desconocido"], None),
        ([], None),
    ],
)
def test_pick_symptom_kind(kinds: list[str], expected: str | None) -> None:
    assert pick_symptom_kind(get_severity_table(), kinds) == expected
