"""The raw layer of the DuckDB warehouse: raw.prices and raw.ingest_runs (written here), and
raw.signal_loads and raw.signals (written by :mod:`python_ingest.signals`).

Every raw table is created here, by any ingest, so ``dbt build`` finds each source even before
the first signals file is loaded. All writes of one ingest run happen in one transaction, so a
crash or kill mid-way leaves the previous contents untouched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb
import pandas as pd

from warehouse_core.warehouse import transaction

DDL = """
create schema if not exists raw;
create table if not exists raw.prices (
    ticker      varchar   not null,
    date        date      not null,
    open        double,
    high        double,
    low         double,
    close       double,
    adj_close   double,
    volume      bigint,
    source      varchar   not null,
    ingested_at timestamp not null
);
create table if not exists raw.ingest_runs (
    run_id          varchar   not null,
    ticker          varchar   not null,
    source          varchar,
    status          varchar   not null,
    rows            integer   not null,
    error           varchar,
    started_at      timestamp not null,
    finished_at     timestamp not null,
    requested_start date      not null,
    requested_end   date      not null,
    rows_dropped    integer,
    warnings        varchar
);
-- warehouses written before these columns existed get them (null for their old rows)
alter table raw.ingest_runs add column if not exists rows_dropped integer;
alter table raw.ingest_runs add column if not exists warnings varchar;
-- signals files loaded with python -m python_ingest.signals: one row per load (the log) ...
create table if not exists raw.signal_loads (
    load_id     varchar   not null,
    name        varchar   not null,
    file_name   varchar   not null,
    file_sha256 varchar   not null,
    file_format varchar   not null,
    row_count   integer   not null,
    status      varchar   not null,
    loaded_at   timestamp not null
);
-- ... and the signals of the current load of each name
create table if not exists raw.signals (
    load_id         varchar not null,
    name            varchar not null,
    source_row      integer not null,
    source_location varchar not null,
    ticker          varchar not null,
    signal_date     date    not null,
    date_as_written varchar not null,
    action          varchar not null,
    confidence      double  not null,
    model           varchar,
    rationale       varchar
);
"""

RUN_COLUMNS = (
    "run_id",
    "ticker",
    "source",
    "status",
    "rows",
    "error",
    "started_at",
    "finished_at",
    "requested_start",
    "requested_end",
    "rows_dropped",
    "warnings",
)


@dataclass
class TickerLoad:
    """What one ticker's fetch produced, ready to be written."""

    ticker: str
    source: str | None
    status: str  # ok | empty | error | skipped
    frame: pd.DataFrame | None
    error: str | None
    started_at: datetime
    finished_at: datetime
    rows: int = 0
    rows_dropped: int | None = None
    """Source rows left out because every price was empty (None when nothing was fetched)."""
    warnings: list[str] = field(default_factory=list)
    """What the ingest dropped or assumed, and where (file and line); also logged."""


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema and tables if they do not exist."""
    con.execute(DDL)


def already_loaded(con: duckdb.DuckDBPyConnection, ticker: str, start: date, end: date) -> bool:
    """True when an earlier successful run covered [start, end] for this ticker."""
    row = con.execute(
        """
        select count(*) from raw.ingest_runs
        where ticker = ? and status = 'ok' and requested_start <= ? and requested_end >= ?
        """,
        [ticker, start, end],
    ).fetchone()
    return bool(row and row[0])


def _write_prices(
    con: duckdb.DuckDBPyConnection, load: TickerLoad, start: date, end: date, ingested_at: datetime, refresh: bool
) -> int:
    frame = load.frame.assign(ticker=load.ticker, source=load.source, ingested_at=ingested_at)
    con.register("incoming_prices", frame)
    try:
        if refresh:
            con.execute("delete from raw.prices where ticker = ? and date between ? and ?", [load.ticker, start, end])
        before = con.execute("select count(*) from raw.prices where ticker = ?", [load.ticker]).fetchone()[0]
        con.execute(
            """
            insert into raw.prices
            select i.ticker, i.date, i.open, i.high, i.low, i.close, i.adj_close, i.volume, i.source, i.ingested_at
            from incoming_prices as i
            anti join raw.prices as p on p.ticker = i.ticker and p.date = i.date
            order by i.date
            """
        )
        after = con.execute("select count(*) from raw.prices where ticker = ?", [load.ticker]).fetchone()[0]
    finally:
        con.unregister("incoming_prices")
    return int(after - before)


def write_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    loads: Iterable[TickerLoad],
    start: date,
    end: date,
    refresh: bool = False,
) -> None:
    """Write every ticker's prices and its ingest_runs row in a single transaction."""
    ingested_at = datetime.now()
    with transaction(con):
        for load in loads:
            if load.status == "ok" and load.frame is not None:
                load.rows = _write_prices(con, load, start, end, ingested_at, refresh)
            con.execute(
                f"insert into raw.ingest_runs ({', '.join(RUN_COLUMNS)}) values ({', '.join('?' * len(RUN_COLUMNS))})",
                [
                    run_id,
                    load.ticker,
                    load.source,
                    load.status,
                    load.rows,
                    load.error,
                    load.started_at,
                    load.finished_at,
                    start,
                    end,
                    load.rows_dropped,
                    "; ".join(load.warnings) or None,
                ],
            )
