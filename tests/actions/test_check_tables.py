"""A bad NOC table stops start-up with a message naming the file."""

from __future__ import annotations

import shutil

from noc.domain.check_tables import main
from noc.domain.tables import TABLES_DIR


def test_real_tables_pass(capsys):
    assert main([]) == 0
    assert "6 regiones" in capsys.readouterr().out


def test_broken_table_stops_start_up(tmp_path, capsys):
    tables = tmp_path / "tables"
    shutil.copytree(TABLES_DIR, tables)
    peru = tables / "peru.yml"
    peru.write_text(peru.read_text(encoding="utf-8").replace('"+5117450100"', '"12"'), encoding="utf-8")
    assert main([str(tables)]) == 1
    assert "peru.yml" in capsys.readouterr().err


def test_missing_severity_table_stops_start_up(tmp_path, capsys):
    tables = tmp_path / "tables"
    shutil.copytree(TABLES_DIR, tables)
    (tables / "severity.yml").unlink()
    assert main([str(tables)]) == 1
    assert "severity.yml" in capsys.readouterr().err
