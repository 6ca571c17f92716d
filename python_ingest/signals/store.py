"""Write one load of a signals file: replace the name's signals and log the load, in one transaction.

raw.signals holds the current signals of every name; raw.signal_loads logs every load (file name,
SHA-256, rows, time). Loading a file whose content is identical to the name's current signals
rewrites nothing: the load is still logged, with status 'unchanged', and raw.signals keeps the rows
(and the load_id) of the load that wrote them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import duckdb

from python_ingest.signals.reader import SignalsFile
from python_ingest.signals.rows import CheckedSignals
from warehouse_core.warehouse import transaction

SIGNAL_COLUMNS = [
    "load_id",
    "name",
    "source_row",
    "source_location",
    "ticker",
    "signal_date",
    "date_as_written",
    "action",
    "confidence",
    "model",
    "rationale",
]


@dataclass(frozen=True)
class LoadOutcome:
    load_id: str
    status: str
    """'loaded' (the name's signals were replaced) or 'unchanged' (identical file, nothing rewritten)."""
    replaced_rows: int
    """Signals of the name before this load."""


def current_sha256(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """SHA-256 of the file the name's current signals came from (None when the name has none)."""
    row = con.execute(
        """
        select loads.file_sha256
        from raw.signals as signals
        inner join raw.signal_loads as loads on signals.load_id = loads.load_id
        where signals.name = ?
        limit 1
        """,
        [name],
    ).fetchone()
    return row[0] if row else None


def insert_signals(con: duckdb.DuckDBPyConnection, load_id: str, name: str, rows: CheckedSignals) -> None:
    """Append ``rows`` to raw.signals as one Arrow table (columns, not row objects)."""
    con.register("incoming_signals", rows.to_arrow())
    try:
        con.execute(
            f"""
            insert into raw.signals ({", ".join(SIGNAL_COLUMNS)})
            select
                $load_id, $name, source_row, coalesce(source_location, 'line ' || source_row), ticker, signal_date,
                coalesce(date_as_written, strftime(signal_date, '%Y-%m-%d')), action, confidence, model, rationale
            from incoming_signals
            """,
            {"load_id": load_id, "name": name},
        )
    finally:
        con.unregister("incoming_signals")


def write_load(
    con: duckdb.DuckDBPyConnection, name: str, signals_file: SignalsFile, file_name: str, rows: CheckedSignals
) -> LoadOutcome:
    """Replace ``name``'s signals with ``rows`` (unless identical) and log the load, atomically."""
    load_id = uuid.uuid4().hex[:12]
    with transaction(con):
        replaced = con.execute("select count(*) from raw.signals where name = ?", [name]).fetchone()[0]
        status = "unchanged" if current_sha256(con, name) == signals_file.sha256 else "loaded"
        if status == "loaded":
            con.execute("delete from raw.signals where name = ?", [name])
            insert_signals(con, load_id, name, rows)
        con.execute(
            "insert into raw.signal_loads (load_id, name, file_name, file_sha256, file_format, row_count, status, "
            "loaded_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                load_id,
                name,
                file_name,
                signals_file.sha256,
                signals_file.file_format,
                len(rows),
                status,
                datetime.now(),
            ],
        )
    return LoadOutcome(load_id, status, int(replaced))
