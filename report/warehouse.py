"""Read-only access to the marts: the report never touches anything else."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse_core import UserError
from warehouse_core.warehouse import connect

MARTS = ("mart_backtest_summary", "mart_signal_tracking", "fct_backtest_daily")


@contextmanager
def open_marts(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection; a missing file, a lock or a missing mart raises UserError."""
    con = connect(path, read_only=True)
    try:
        present = {row[0] for row in con.execute("select table_name from information_schema.tables").fetchall()}
        missing = [m for m in MARTS if m not in present]
        if missing:
            raise UserError(f"warehouse {path} has no {', '.join(missing)}: run `dbt build` first")
        yield con
    finally:
        con.close()


def fetch(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> list[dict[str, object]]:
    cursor = con.execute(sql, params or [])
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=False)) for row in cursor.fetchall()]
