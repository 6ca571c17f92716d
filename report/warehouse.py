"""Read-only access to the marts: the report never touches anything else."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from python_ingest import warehouse
from python_ingest.errors import IngestError
from python_ingest.settings import warehouse_path

MARTS = ("mart_backtest_summary", "mart_signal_tracking", "fct_backtest_daily")


class ReportError(Exception):
    """A problem the user can fix; shown as one line, exit code 2."""


def default_path() -> Path:
    """The warehouse every CLI and dbt use ($WAREHOUSE_DIR, one rule: python_ingest.settings)."""
    return warehouse_path()


@contextmanager
def open_marts(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection; a missing file, a lock or a missing mart becomes a ReportError."""
    if not path.exists():
        raise ReportError(
            f"warehouse {path} not found: run `python -m python_ingest` and `dbt build` first (or set WAREHOUSE_DIR)"
        )
    try:
        con = warehouse.connect(path, read_only=True)
    except IngestError as exc:
        raise ReportError(str(exc)) from None
    try:
        present = {row[0] for row in con.execute("select table_name from information_schema.tables").fetchall()}
        missing = [m for m in MARTS if m not in present]
        if missing:
            raise ReportError(f"warehouse {path} has no {', '.join(missing)}: run `dbt build` first")
        yield con
    finally:
        con.close()


def fetch(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> list[dict[str, object]]:
    cursor = con.execute(sql, params or [])
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=False)) for row in cursor.fetchall()]
