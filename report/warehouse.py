"""Read-only access to the marts: the report never touches anything else."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse_core import UserError
from warehouse_core.warehouse import connect

MARTS = ("mart_backtest_summary", "mart_signal_tracking", "fct_backtest_daily")
SCORECARD = "mart_strategy_scorecard"  # optional: warehouses built before it have none


@contextmanager
def open_marts(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection; a missing file, a lock or a missing mart raises UserError."""
    con = connect(path, read_only=True)
    try:
        missing = [m for m in MARTS if not has_relation(con, m)]
        if missing:
            raise UserError(f"warehouse {path} has no {', '.join(missing)}: run `dbt build` first")
        yield con
    finally:
        con.close()


def fetch(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> list[dict[str, object]]:
    cursor = con.execute(sql, params or [])
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=False)) for row in cursor.fetchall()]


def has_relation(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """A table or view of that name in the warehouse's main schema."""
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'main' and table_name = ?", [name]
    ).fetchone()
    return bool(found and found[0])
