"""A user's own price files: ``<csv_dir>/<TICKER>.csv`` or ``<csv_dir>/<TICKER>.parquet``.

Columns (header names are case-insensitive, spaces become underscores):
``date`` (YYYY-MM-DD), ``open``, ``high``, ``low``, ``close``, ``volume`` and optionally
``adj_close`` (or ``Adj Close``; taken equal to ``close`` when absent). A ``ticker`` column,
if present, must match the file name. Missing file = no data from this source.

Problems are named by file and line as a user counts them (the header is line 1); see
:mod:`python_ingest.frames` for what is dropped and what refuses the ticker. A file above var
``ingest_max_file_mb`` is refused before it is read; a CSV file is read in chunks of
:data:`CHUNK_ROWS` rows, so memory stays bounded by what is kept (the parsed numbers).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd

from python_ingest.frames import (
    RowOrigin,
    SourcePrices,
    column_key,
    empty_prices,
    normalize_price_chunks,
    refuse_repeated_columns,
)
from warehouse_core import UserError

CHUNK_ROWS = 100_000


def find_file(csv_dir: Path, ticker: str) -> Path | None:
    """The file holding ``ticker``'s prices, if any."""
    for suffix in (".csv", ".parquet"):
        for name in (ticker, ticker.lower()):
            candidate = csv_dir / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def _cannot_read(path: Path, error: Exception) -> UserError:
    first_line = (str(error).splitlines() or [type(error).__name__])[0]
    return UserError(f"cannot read {path}: {first_line}; fix the file (see docs/ingest.md, 'CSV layout')")


def _csv_header(path: Path) -> list[str]:
    """The header row as written (pandas would rename a repeated ``close`` to ``close.1``)."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        return next(csv.reader(handle), [])


def _chunks(path: Path, ticker: str, origin: RowOrigin) -> Iterator[pd.DataFrame]:
    """The file's rows in chunks (CSV values as the text written, blank lines kept so line numbers
    hold), each indexed by its row's position in the file; a ``ticker`` column is checked and dropped."""
    if path.suffix == ".parquet":
        chunks: Iterator[pd.DataFrame] = iter([pd.read_parquet(path)])
    else:
        refuse_repeated_columns(_csv_header(path), origin)
        chunks = pd.read_csv(path, dtype=str, skip_blank_lines=False, chunksize=CHUNK_ROWS)
    for chunk in chunks:
        chunk.columns = [column_key(c) for c in chunk.columns]
        if "ticker" in chunk.columns:
            others = set(chunk["ticker"].dropna().astype(str).str.strip().str.upper()) - {ticker}
            if others:
                raise UserError(f"{path}: holds rows for {sorted(others)[:3]}, expected only {ticker}")
            chunk = chunk.drop(columns="ticker")
        yield chunk


def fetch(ticker: str, start: date, end: date, csv_dir: Path, max_file_mb: int) -> SourcePrices:
    """Prices for ``ticker`` from its file in ``csv_dir``; no rows when there is no such file.

    Anything wrong with the file (too big, unreadable, malformed) raises :class:`UserError` naming it,
    so the ticker is refused and the other tickers go on.
    """
    path = find_file(csv_dir, ticker)
    if path is None:
        return empty_prices()
    size = path.stat().st_size
    if size > max_file_mb * 2**20:
        raise UserError(
            f"{path} holds {size / 2**20:.0f} MB, more than the {max_file_mb} MB a price file may hold "
            "(var ingest_max_file_mb): a daily price file is a few MB; split it, or raise the var in dbt_project.yml"
        )
    # a CSV file's rows are counted as the user's editor counts its lines (the header is line 1)
    origin = RowOrigin(str(path)) if path.suffix == ".parquet" else RowOrigin(str(path), unit="line", first=2)
    try:
        return normalize_price_chunks(_chunks(path, ticker, origin), ticker, start, end, origin)
    except UserError:
        raise
    except Exception as exc:  # pandas, pyarrow and the codecs raise many error types for a bad file
        raise _cannot_read(path, exc) from None
