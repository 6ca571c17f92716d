"""Opening the DuckDB warehouse and writing to it: the one place that turns DuckDB's lock, damage and
write errors into one-line :class:`~warehouse_core.errors.UserError` messages.

* :func:`connect` opens the file (a lock names its holder, a damaged file is called damaged);
* :func:`open_warehouse` is :func:`connect` for a CLI's whole session: a DuckDB error while the file
  is open becomes one line naming the file, and a write-ahead log DuckDB could not fold back into the
  file (a full disk, an unwritable folder) is named in a warning when it closes;
* :func:`transaction` wraps writes so a failure rolls back and raises the *real* error.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb

from warehouse_core.errors import UserError

logger = logging.getLogger(__name__)

_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")
_DAMAGE = ("corrupt database file", "not a valid duckdb database file", "could not read enough bytes")
_WRITE_FAILURE = re.compile(
    r"no space left on device|file too large|disk quota exceeded|permission denied|read-only file system"
    r"|operation not permitted",
    re.IGNORECASE,
)


def is_lock_conflict(message: str) -> bool:
    """DuckDB's "Could not set lock on file" (not "block", which damage messages say)."""
    return "could not set lock" in message.lower()


def is_damage(message: str) -> bool:
    """DuckDB saying the file's bytes are not a readable database (bad checksum, truncated, not DuckDB)."""
    return any(marker in message.lower() for marker in _DAMAGE)


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]


def locked_error(path: Path, message: str) -> UserError:
    holder = _LOCK_HOLDER.search(message)
    who = f", {holder.group(1)} (PID {holder.group(2)})" if holder else ""
    return UserError(
        f"warehouse {path} is locked by another process{who} (a BI tool, a dbt run or a DuckDB shell "
        "has the file open, even read-only): close it and retry"
    )


def describe_error(path: Path, error: duckdb.Error, doing: str = "use") -> UserError:
    """One line for a DuckDB error on the warehouse ``path``: locked, damaged, not writable, or as DuckDB says."""
    message = _first_line(error)
    if is_lock_conflict(message):
        return locked_error(path, str(error))
    if is_damage(message):
        return UserError(
            f"cannot {doing} warehouse {path}: the file is damaged or not a DuckDB database ({message}); it was left "
            "as it is: restore "
            "it from a backup, or move it aside and rebuild it with `python -m pipeline` (the LLM cache is a "
            "separate file and is kept)"
        )
    failure = _WRITE_FAILURE.search(message)
    if failure:
        return UserError(
            f"cannot write to warehouse {path} ({failure.group(0)}): free space on its disk or make {path.parent} "
            "writable (or choose another WAREHOUSE_DIR), then run again; nothing was changed"
        )
    return UserError(f"cannot {doing} warehouse {path}: {message}")


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file; read-write creates it (and its folder) when missing.

    A missing file (read-only), an unwritable folder, a lock held by another process (named when
    DuckDB says which), a damaged file or a file that is not a DuckDB database raises :class:`UserError`.
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
    except duckdb.Error as exc:
        raise describe_error(path, exc, "open") from None


def wal_path(path: Path) -> Path:
    """DuckDB's write-ahead log beside ``path``."""
    return path.with_name(path.name + ".wal")


def warn_leftover_wal(path: Path) -> None:
    """After the last connection closed: a non-empty WAL means DuckDB could not fold it into the file."""
    wal = wal_path(path)
    try:
        size = wal.stat().st_size
    except OSError:
        return
    if size:
        logger.warning(
            "warning: %s (%.1f MB) was left behind: DuckDB could not write it into %s (disk full or folder not "
            "writable?); keep it beside the file: DuckDB applies its committed changes the next time the warehouse "
            "is opened with room to write",
            wal,
            size / 1e6,
            path.name,
        )


@contextlib.contextmanager
def open_warehouse(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """:func:`connect` for a whole session: DuckDB errors become one-line :class:`UserError` naming the
    file, and a leftover WAL is named in a warning once the connection is closed."""
    con = connect(path, read_only)
    try:
        yield con
    except duckdb.Error as exc:
        raise describe_error(path, exc) from None
    finally:
        with contextlib.suppress(duckdb.Error):
            con.close()
        if not read_only:
            warn_leftover_wal(path)


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """``begin`` ... ``commit``; on any failure roll back and re-raise the failure itself (a write that
    failed on a full disk may already have ended the transaction, so the rollback's own error is dropped)."""
    con.execute("begin transaction")
    try:
        yield
        con.execute("commit")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")
        raise
