"""A user's own price files: ``<csv_dir>/<TICKER>.csv`` or ``<csv_dir>/<TICKER>.parquet``.

Columns (header names are case-insensitive, spaces become underscores):
``date`` (YYYY-MM-DD), ``open``, ``high``, ``low``, ``close``, ``volume`` and optionally
``adj_close`` (or ``Adj Close``; taken equal to ``close`` when absent). A ``ticker`` column,
if present, must match the file name. Missing file = no data from this source.

Problems are named by file and line as a user counts them (the header is line 1); see
:mod:`python_ingest.frames` for what is dropped and what refuses the ticker.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from python_ingest.frames import RowOrigin, SourcePrices, column_key, empty_prices, normalize_price_frame
from warehouse_core import UserError


def find_file(csv_dir: Path, ticker: str) -> Path | None:
    """The file holding ``ticker``'s prices, if any."""
    for suffix in (".csv", ".parquet"):
        for name in (ticker, ticker.lower()):
            candidate = csv_dir / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def _read(path: Path) -> tuple[pd.DataFrame, RowOrigin]:
    """The file's rows (CSV values as the text written, blank lines kept so line numbers hold)."""
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path), RowOrigin(str(path))
        return pd.read_csv(path, dtype=str, skip_blank_lines=False), RowOrigin(str(path), unit="line", first=2)
    except Exception as exc:  # pandas/pyarrow raise many parser error types
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"cannot read {path}: {first_line}; fix the file (see README, 'CSV layout')") from None


def fetch(ticker: str, start: date, end: date, csv_dir: Path) -> SourcePrices:
    """Prices for ``ticker`` from its file in ``csv_dir``; no rows when there is no such file."""
    path = find_file(csv_dir, ticker)
    if path is None:
        return empty_prices()
    raw, origin = _read(path)
    raw.columns = [column_key(c) for c in raw.columns]
    if "ticker" in raw.columns:
        others = set(raw["ticker"].dropna().astype(str).str.strip().str.upper()) - {ticker}
        if others:
            raise UserError(f"{path}: holds rows for {sorted(others)[:3]}, expected only {ticker}")
        raw = raw.drop(columns="ticker")
    return normalize_price_frame(raw, ticker, start, end, origin)
