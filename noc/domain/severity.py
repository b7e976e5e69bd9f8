"""Incident severity: the NOC's table and the rules that pick a severity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from noc.domain.tables import TABLES_DIR, TableError, load_yaml, table_label

SYMPTOM_KINDS = (
    "sin_servicio",
    "intermitente",
    "lentitud",
    "perdida_paquetes",
    "parcial",
    "falla_menor",
    "consulta",
)
POWER_PROBLEM = "power_problem"
RESOLVED_ON_REBOOT = "resolved_on_reboot"
UNKNOWN = "unknown"
SPECIAL_RULES = (POWER_PROBLEM, RESOLVED_ON_REBOOT, UNKNOWN)
SEVERITIES = (1, 2, 3, 4)


@dataclass(frozen=True)
class SeverityLevel:
    severity: int
    name: str
    when: str
    response_minutes: int
    restoration_minutes: int


@dataclass(frozen=True)
class Classification:
    severity: int
    name: str
    reason: str
    response_minutes: int
    restoration_minutes: int
    rule: str  # the rules: key that decided, kept in the record for audits


@dataclass(frozen=True)
class SeverityTable:
    levels: Mapping[int, SeverityLevel]
    rules: Mapping[str, tuple[int, str]]  # rule key -> (severity, reason)

    def level(self, severity: int) -> SeverityLevel:
        try:
            return self.levels[severity]
        except KeyError:
            raise KeyError(f"severidad desconocida: {severity!r}") from None


def classify(
    table: SeverityTable,
    *,
    symptom_kind: str | None,
    power_ok: bool | None,
    problem_persists: bool | None,
) -> Classification:
    """Severity for an incident from what the form learned.

    Order matters: a problem that went away on reboot is a record, not an
    outage, whatever the symptom was; a dead power supply on the customer's
    side is theirs to fix before the symptom says anything about our network.
    None means "not asked / unknown" and never triggers a special rule.
    """
    if problem_persists is False:
        rule = RESOLVED_ON_REBOOT
    elif power_ok is False:
        rule = POWER_PROBLEM
    elif symptom_kind in SYMPTOM_KINDS:
        rule = symptom_kind
    else:
        rule = UNKNOWN
    severity, reason = table.rules[rule]
    level = table.level(severity)
    return Classification(
        severity=severity,
        name=level.name,
        reason=reason,
        response_minutes=level.response_minutes,
        restoration_minutes=level.restoration_minutes,
        rule=rule,
    )


def format_duration(minutes: int) -> str:
    """Spanish duration for customer messages: 90 -> "1 hora 30 minutos".

    Stays in hours past a day ("72 horas") because that is how SLAs are quoted.
    """
    hours, rest = divmod(int(minutes), 60)
    parts = []
    if hours:
        parts.append(f"{hours} hora" + ("" if hours == 1 else "s"))
    if rest or not hours:
        parts.append(f"{rest} minuto" + ("" if rest == 1 else "s"))
    return " ".join(parts)


def _positive_int(label: str, where: str, entry: Mapping[str, Any], field: str) -> int:
    value = entry.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise TableError(f"{label}: {where}: {field} debe ser un entero positivo, no {value!r}")
    return value


def _text(label: str, where: str, entry: Mapping[str, Any], field: str) -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value.strip():
        raise TableError(f"{label}: {where} sin {field}")
    return " ".join(value.split())


def _load_levels(label: str, raw: Any) -> dict[int, SeverityLevel]:
    if not isinstance(raw, list):
        raise TableError(f"{label}: levels debe ser una lista")
    levels: dict[int, SeverityLevel] = {}
    for entry in raw:
        if not isinstance(entry, dict):
            raise TableError(f"{label}: cada elemento de levels debe ser un mapeo")
        severity = entry.get("severity")
        if severity not in SEVERITIES or isinstance(severity, bool):
            raise TableError(f"{label}: severidad {severity!r} fuera de 1..4")
        if severity in levels:
            raise TableError(f"{label}: severidad {severity} repetida")
        where = f"severidad {severity}"
        response = _positive_int(label, where, entry, "response_minutes")
        restoration = _positive_int(label, where, entry, "restoration_minutes")
        if response >= restoration:
            raise TableError(
                f"{label}: {where}: response_minutes ({response}) debe ser menor "
                f"que restoration_minutes ({restoration})"
            )
        levels[severity] = SeverityLevel(
            severity=severity,
            name=_text(label, where, entry, "name"),
            when=_text(label, where, entry, "when"),
            response_minutes=response,
            restoration_minutes=restoration,
        )
    missing = [s for s in SEVERITIES if s not in levels]
    if missing:
        raise TableError(f"{label}: faltan las severidades {', '.join(map(str, missing))}")
    return levels


def _load_rules(label: str, raw: Any, levels: Mapping[int, SeverityLevel]) -> dict:
    if not isinstance(raw, dict):
        raise TableError(f"{label}: rules debe ser un mapeo tipo: {{severity, reason}}")
    expected = SYMPTOM_KINDS + SPECIAL_RULES
    unknown = [key for key in raw if key not in expected]
    if unknown:
        raise TableError(f"{label}: reglas desconocidas: {', '.join(map(str, unknown))}")
    missing = [key for key in expected if key not in raw]
    if missing:
        raise TableError(f"{label}: faltan las reglas {', '.join(missing)}")
    rules: dict[str, tuple[int, str]] = {}
    for key in expected:
        entry = raw[key]
        if not isinstance(entry, dict):
            raise TableError(f"{label}: la regla {key} debe tener severity y reason")
        severity = entry.get("severity")
        if isinstance(severity, bool) or severity not in levels:
            raise TableError(f"{label}: la regla {key} apunta a una severidad inexistente {severity!r}")
        rules[key] = (severity, _text(label, f"la regla {key}", entry, "reason"))
    return rules


def load_severity_table(path: Path = TABLES_DIR / "severity.yml") -> SeverityTable:
    """Read and validate the severity table; TableError on the first problem."""
    label = table_label(path)
    data = load_yaml(path)
    levels = _load_levels(label, data.get("levels"))
    rules = _load_rules(label, data.get("rules"), levels)
    return SeverityTable(levels=MappingProxyType(levels), rules=MappingProxyType(rules))


@lru_cache(maxsize=1)
def get_severity_table() -> SeverityTable:
    """The table from escalation_tables/severity.yml, loaded once per process."""
    return load_severity_table()


def pick_symptom_kind(table: SeverityTable, kinds: list[str]) -> str | None:
    """One kind for a message that names several ("la mitad de las sedes no tiene servicio").

    The scope wins: a failure limited to some sites or users is `parcial`
    whatever the failure is. Otherwise the most severe kind named.
    """
    known = [kind for kind in kinds if kind in SYMPTOM_KINDS]
    if not known:
        return None
    if "parcial" in known:
        return "parcial"
    return min(known, key=lambda kind: table.rules[kind][0])
