"""Turn a yfinance-shaped price frame into the canonical columns of raw.prices.

Every source goes through :func:`normalize_price_frame`: yfinance output, the bundled
sample (which is reshaped to yfinance's layout first) and user CSV/Parquet files.
"""

from __future__ import annotations

import logging
from datetime import date

import pandas as pd

from python_ingest.errors import IngestError

log = logging.getLogger(__name__)

PRICE_COLUMNS = ["open", "high", "low", "close", "adj_close"]
CANONICAL_COLUMNS = ["date", *PRICE_COLUMNS, "volume"]


def _flatten_columns(frame: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """yfinance returns (Price, Ticker) MultiIndex columns even for one ticker."""
    if not isinstance(frame.columns, pd.MultiIndex):
        return frame
    for level in range(frame.columns.nlevels):
        values = frame.columns.get_level_values(level)
        if ticker in set(values):
            return frame.xs(ticker, axis=1, level=level)
    if frame.columns.nlevels == 2 and len(set(frame.columns.get_level_values(1))) == 1:
        return frame.droplevel(1, axis=1)
    raise IngestError(f"{ticker}: download has columns for other tickers only ({list(frame.columns)[:4]}...)")


def _column_key(name: object) -> str:
    return str(name).strip().lower().replace(" ", "_")


def normalize_price_frame(frame: pd.DataFrame | None, ticker: str, start: date, end: date) -> pd.DataFrame:
    """Canonical frame (date, open, high, low, close, adj_close, volume) within [start, end].

    An empty or missing frame gives an empty canonical frame; a frame without the needed
    columns raises :class:`IngestError`.
    """
    if frame is None or frame.empty:
        return pd.DataFrame(columns=CANONICAL_COLUMNS)
    flat = _flatten_columns(frame, ticker)
    flat = flat.rename(columns=_column_key)
    if "date" not in flat.columns:
        flat = flat.rename_axis("date").reset_index()
        flat = flat.rename(columns=_column_key)
    if "adj_close" not in flat.columns and "close" in flat.columns:
        # said out loud: a split in such data shows up as a crash in every return downstream
        log.warning(
            "%s: no adj_close column, using close as adjusted close (splits and dividends not adjusted)", ticker
        )
        flat["adj_close"] = flat["close"]
    missing = [c for c in CANONICAL_COLUMNS if c not in flat.columns]
    if missing:
        raise IngestError(
            f"{ticker}: price data lacks column(s) {', '.join(missing)}; expected {', '.join(CANONICAL_COLUMNS)}"
        )

    out = flat[CANONICAL_COLUMNS].copy()
    try:
        dates = pd.to_datetime(out["date"], errors="raise")
        if getattr(dates.dt, "tz", None) is not None:
            dates = dates.dt.tz_localize(None)
        out["date"] = dates.dt.date
        for column in PRICE_COLUMNS:
            out[column] = pd.to_numeric(out[column], errors="raise").astype("float64")
        out["volume"] = pd.to_numeric(out["volume"], errors="raise").round().astype("Int64")
    except (ValueError, TypeError) as exc:
        raise IngestError(f"{ticker}: malformed price data ({exc}); fix the file or choose another source") from None

    out = out.dropna(subset=PRICE_COLUMNS, how="all")
    out = out[(out["date"] >= start) & (out["date"] <= end)]
    out = out.drop_duplicates(subset="date", keep="last").sort_values("date")
    return out.reset_index(drop=True)
