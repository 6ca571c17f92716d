"""Opening the DuckDB warehouse: the one place that turns DuckDB's lock and file errors into
one-line :class:`~warehouse_core.errors.UserError` messages."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from warehouse_core.errors import UserError

_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file; read-write creates it (and its folder) when missing.

    A missing file (read-only), an unwritable folder, a lock held by another process (named when
    DuckDB says which) or a file that is not a DuckDB database raises :class:`UserError`.
    """
    if read_only and not path.exists():
        raise UserError(
            f"warehouse {path} not found: run `python -m pipeline` (or the ingest and `dbt build`) first, "
            "or set WAREHOUSE_DIR to the folder holding warehouse.duckdb"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(str(path), read_only=read_only)
    except OSError as exc:
        raise UserError(
            f"cannot create warehouse folder {path.parent} ({exc.strerror or exc}): "
            "choose another --warehouse or WAREHOUSE_DIR"
        ) from None
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            holder = _LOCK_HOLDER.search(str(exc))
            who = f", {holder.group(1)} (PID {holder.group(2)})" if holder else ""
            raise UserError(
                f"warehouse {path} is locked by another process{who} (a BI tool, a dbt run or a DuckDB shell "
                "has the file open, even read-only): close it and retry"
            ) from None
        raise UserError(f"cannot open warehouse {path}: {str(exc).splitlines()[0]}") from None
