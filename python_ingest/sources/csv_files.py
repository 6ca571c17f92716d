"""A user's own price files: ``<csv_dir>/<TICKER>.csv`` or ``<csv_dir>/<TICKER>.parquet``.

Columns (header names are case-insensitive, spaces become underscores):
``date`` (YYYY-MM-DD), ``open``, ``high``, ``low``, ``close``, ``volume`` and optionally
``adj_close`` (or ``Adj Close``; taken equal to ``close`` when absent). A ``ticker`` column,
if present, must match the file name. Missing file = no data from this source.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from python_ingest.errors import IngestError
from python_ingest.frames import normalize_price_frame


def find_file(csv_dir: Path, ticker: str) -> Path | None:
    """The file holding ``ticker``'s prices, if any."""
    for suffix in (".csv", ".parquet"):
        for name in (ticker, ticker.lower()):
            candidate = csv_dir / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def _read(path: Path) -> pd.DataFrame:
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except Exception as exc:  # pandas/pyarrow raise many parser error types
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise IngestError(f"cannot read {path}: {first_line}; fix the file (see README, 'CSV layout')") from None


def fetch(ticker: str, start: date, end: date, csv_dir: Path) -> pd.DataFrame:
    """Prices for ``ticker`` from its file in ``csv_dir``; empty when there is no such file."""
    path = find_file(csv_dir, ticker)
    if path is None:
        return normalize_price_frame(None, ticker, start, end)
    raw = _read(path)
    raw.columns = [str(c).strip().lower().replace(" ", "_") for c in raw.columns]
    if "ticker" in raw.columns:
        others = set(raw["ticker"].astype(str).str.upper()) - {ticker}
        if others:
            raise IngestError(f"{path}: holds rows for {sorted(others)[:3]}, expected only {ticker}")
        raw = raw.drop(columns="ticker")
    try:
        return normalize_price_frame(raw, ticker, start, end)
    except IngestError as exc:
        raise IngestError(f"{path}: {exc}") from None
