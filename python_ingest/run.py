"""One ingest run: fetch every ticker with per-ticker source fallback, then write once."""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime
from pathlib import Path

from tqdm import tqdm

from python_ingest import sources, warehouse
from python_ingest.warehouse import TickerLoad
from warehouse_core import UserError
from warehouse_core.warehouse import open_warehouse

log = logging.getLogger(__name__)


def fetch_with_fallback(
    ticker: str, start: date, end: date, source_order: list[str], csv_dir: Path, max_file_mb: int
) -> TickerLoad:
    """Try each source in order; the first with rows serves the ticker.

    Status 'error' when a source refused the ticker (and no later one served it), 'empty' when
    every source simply had no rows. Refusals of earlier sources stay visible on an 'ok' row as
    warnings. Whatever one source raises for one ticker (a library's own error included) is that
    ticker's refusal, never the end of the run: the other tickers are still stored.
    """
    started_at = datetime.now()
    refused: list[str] = []
    empty: list[str] = []
    for source in source_order:
        try:
            prices = sources.fetch(source, ticker, start, end, csv_dir, max_file_mb)
        except Exception as exc:  # UserError, or a library's error for this ticker's data
            reason = str(exc) if isinstance(exc, UserError) else str(UserError(f"{type(exc).__name__}: {exc}"))
            log.debug("%s: %s failed", ticker, source, exc_info=True)
            log.warning("%s: %s: %s", ticker, source, reason)
            refused.append(f"{source}: {reason}")
            continue
        if prices.frame.empty:
            log.debug("%s: no rows for %s in %s..%s", source, ticker, start, end)
            empty.append(f"{source}: no rows")
            continue
        log.debug("%s: %d rows for %s", source, len(prices.frame), ticker)
        return TickerLoad(
            ticker,
            source,
            "ok",
            prices.frame,
            None,
            started_at,
            datetime.now(),
            len(prices.frame),
            rows_dropped=prices.rows_dropped,
            warnings=[*refused, *empty, *prices.warnings],
        )
    status = "error" if refused else "empty"
    return TickerLoad(ticker, source_order[-1], status, None, "; ".join(refused + empty), started_at, datetime.now())


def ingest(
    tickers: list[str],
    start: date,
    end: date,
    source_order: list[str],
    warehouse_file: Path,
    *,
    csv_dir: Path,
    max_file_mb: int,
    refresh: bool = False,
) -> list[TickerLoad]:
    """Load ``tickers`` for [start, end] into ``warehouse_file``; returns one TickerLoad per ticker.

    ``csv_dir`` and ``max_file_mb`` (var ``ingest_max_file_mb``) are for the csv source."""
    run_id = uuid.uuid4().hex[:12]
    # Open once up front: a locked file fails before any network traffic.
    with open_warehouse(warehouse_file) as con:
        warehouse.ensure_tables(con)
        done = {t for t in tickers if not refresh and warehouse.already_loaded(con, t, start, end)}

    loads: list[TickerLoad] = []
    for ticker in tqdm(tickers, desc="ingest", unit="ticker", disable=None):
        if ticker in done:
            now = datetime.now()
            log.info("%s: %s..%s already loaded, skipped (use --refresh to fetch again)", ticker, start, end)
            loads.append(TickerLoad(ticker, None, "skipped", None, None, now, now))
            continue
        loads.append(fetch_with_fallback(ticker, start, end, source_order, csv_dir, max_file_mb))

    with open_warehouse(warehouse_file) as con:
        warehouse.write_run(con, run_id, loads, start, end, refresh=refresh)
    log.info("run %s written to %s", run_id, warehouse_file)
    return loads
