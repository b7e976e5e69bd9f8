"""Shared plumbing for the NOC-editable YAML tables in escalation_tables/.

The tables are edited by hand by NOC staff, so every loader validates them and
fails with a message that names the file and the problem instead of a traceback
deep inside an action.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

TABLES_DIR = Path(__file__).resolve().parents[2] / "escalation_tables"


class TableError(ValueError):
    """A table file is missing or breaks one of its rules."""


def table_label(path: Path) -> str:
    """Short name for messages: 'escalation_tables/peru.yml' rather than an absolute path."""
    return f"{path.parent.name}/{path.name}"


def load_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML file whose top level must be a mapping."""
    label = table_label(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise TableError(f"{label}: el archivo no existe") from exc
    except OSError as exc:
        raise TableError(f"{label}: no se pudo leer ({exc})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TableError(f"{label}: YAML inválido ({exc})") from exc
    if not isinstance(data, dict):
        raise TableError(f"{label}: el contenido debe ser un mapeo clave: valor")
    return data
