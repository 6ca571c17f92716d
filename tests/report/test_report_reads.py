"""The signal_report exposure (models/exposures.yml) names every relation the report's queries read:
the list is derived from the SQL the report runs (every format, on the marts alone), not written twice."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
import yaml
from warehouse_helpers import PROJECT_DIR

import report.warehouse
from report import cli

pytestmark = [pytest.mark.warehouse, pytest.mark.model]


class RecordingConnection:
    """A DuckDB connection that keeps the text of every statement it runs."""

    def __init__(self, con: duckdb.DuckDBPyConnection, statements: list[str]) -> None:
        self._con, self._statements = con, statements

    def execute(self, sql: str, *args: object) -> duckdb.DuckDBPyConnection:
        self._statements.append(sql)
        return self._con.execute(sql, *args)

    def sql(self, sql: str, *args: object) -> duckdb.DuckDBPyRelation:
        self._statements.append(sql)
        return self._con.sql(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self._con, name)


def exposure_models(name: str) -> set[str]:
    exposures = yaml.safe_load((PROJECT_DIR / "models" / "exposures.yml").read_text())["exposures"]
    entries = next(e for e in exposures if e["name"] == name)["depends_on"]
    # a plain ref('x'), or the DuckDB branch of a "{{ ... if target.type == 'spark' else \"ref('x')\" }}"
    return {entry.rsplit("ref('", 1)[1].split("'", 1)[0] for entry in entries}


def test_the_report_reads_exactly_the_marts_its_exposure_lists(
    with_scorecard: tuple[Path, list[dict[str, object]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, _ = with_scorecard
    statements: list[str] = []
    connect = report.warehouse.connect
    monkeypatch.setattr(report.warehouse, "connect", lambda *a, **k: RecordingConnection(connect(*a, **k), statements))
    for fmt in ("text", "json", "html"):
        assert (
            cli.main(
                ["--warehouse", str(folder / "warehouse.duckdb"), "--format", fmt, "--output", str(tmp_path / fmt)]
            )
            == 0
        )
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
        relations = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    named = {name for sql in statements for name in re.findall(r"\b(?:from|join)\s+([a-z_][a-z0-9_]*)", sql, re.I)}
    read = named & relations  # CTE names are not relations
    assert read >= {"mart_backtest_summary", "mart_signal_tracking"}, statements  # the recording works
    assert read == exposure_models("signal_report")
