"""Turn a source's price frame into the canonical columns of raw.prices, saying what was dropped.

Every source goes through :func:`normalize_price_frame`: yfinance output, the bundled sample
(reshaped to yfinance's layout first) and user CSV/Parquet files. The frame is checked as a
whole, and every problem names its rows as the user finds them (a CSV's line numbers, the header
being line 1):

* a row whose every price is empty is dropped, counted and named (``rows_dropped``, ``warnings``);
* a value that does not parse (a date that is not YYYY-MM-DD, a price that is not a number)
  refuses the ticker with the file, line, column, value and reason;
* two rows for the same date refuse the ticker: raw.prices holds one row per (ticker, date) and
  the ingest will not guess which copy is right.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from warehouse_core import UserError

log = logging.getLogger(__name__)

PRICE_COLUMNS = ["open", "high", "low", "close", "adj_close"]
CANONICAL_COLUMNS = ["date", *PRICE_COLUMNS, "volume"]
NUMBER_COLUMNS = [*PRICE_COLUMNS, "volume"]
MAX_ROWS_NAMED = 10


@dataclass(frozen=True)
class RowOrigin:
    """Where a frame's rows come from, so a message can point at them."""

    name: str
    """E.g. ``prices/ACME.csv`` or ``Yahoo's download for ACME``."""
    unit: str = "row"
    """What the user counts: ``line`` in a CSV file, ``row`` elsewhere."""
    first: int = 1
    """The number of the first data row (2 in a CSV file: the header is line 1)."""

    def rows(self, positions: Sequence[int]) -> str:
        """``prices/ACME.csv lines 4, 9`` for 0-based row positions."""
        numbers = [str(position + self.first) for position in positions]
        shown = ", ".join(numbers[:MAX_ROWS_NAMED])
        if len(numbers) > MAX_ROWS_NAMED:
            shown += f" and {len(numbers) - MAX_ROWS_NAMED} more"
        return f"{self.name} {self.unit}{'s' if len(numbers) > 1 else ''} {shown}"


@dataclass
class SourcePrices:
    """A source's canonical frame plus what the ingest dropped or assumed on the way."""

    frame: pd.DataFrame
    rows_dropped: int = 0
    warnings: list[str] = field(default_factory=list)


def empty_prices() -> SourcePrices:
    """No rows (the source has nothing for this ticker and range)."""
    return SourcePrices(pd.DataFrame(columns=CANONICAL_COLUMNS))


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
    raise UserError(f"{ticker}: download has columns for other tickers only ({list(frame.columns)[:4]}...)")


def column_key(name: object) -> str:
    """A header as the ingest names it: ``Adj Close`` -> ``adj_close``."""
    return str(name).strip().lower().replace(" ", "_")


def _canonical_columns(frame: pd.DataFrame, ticker: str, origin: RowOrigin, warnings: list[str]) -> pd.DataFrame:
    flat = _flatten_columns(frame, ticker).rename(columns=column_key)
    if "date" not in flat.columns:
        flat = flat.rename_axis("date").reset_index().rename(columns=column_key)
    if "adj_close" not in flat.columns and "close" in flat.columns:
        # said out loud: a split in such data shows up as a crash in every return downstream
        warnings.append(f"{origin.name} has no adj_close column: close used as adjusted close (splits not adjusted)")
        flat["adj_close"] = flat["close"]
    missing = [c for c in CANONICAL_COLUMNS if c not in flat.columns]
    if missing:
        raise UserError(f"{origin.name} lacks column(s) {', '.join(missing)}; expected {', '.join(CANONICAL_COLUMNS)}")
    return flat[CANONICAL_COLUMNS].reset_index(drop=True)


def _drop_empty_rows(frame: pd.DataFrame, origin: RowOrigin, prices: SourcePrices) -> pd.DataFrame:
    """Blank lines go silently; a row with a date but no price at all is dropped and named."""
    blank = frame.isna().all(axis=1)
    no_price = frame[PRICE_COLUMNS].isna().all(axis=1) & ~blank
    if no_price.any():
        positions = list(frame.index[no_price])
        prices.rows_dropped = len(positions)
        prices.warnings.append(f"{len(positions)} row(s) with every price empty dropped: {origin.rows(positions)}")
    return frame[~blank & ~no_price]


def _refuse_unparsed(raw: pd.Series, parsed: pd.Series, origin: RowOrigin, reason: str, required: bool) -> None:
    """Raise naming the first value of ``raw`` that did not parse (``parsed`` is NaN/NaT there);
    with ``required`` an empty value counts too (a row with prices needs its date)."""
    bad = parsed.isna() if required else parsed.isna() & raw.notna()
    if not bad.any():
        return
    position = int(bad.idxmax())
    value = raw.loc[position]
    what = "is empty" if pd.isna(value) else f"{str(value)!r} {reason}"
    others = int(bad.sum()) - 1
    more = f" (and {others} more such value(s) in column {raw.name})" if others else ""
    raise UserError(f"{origin.rows([position])}, column {raw.name}: {what}{more}; fix the file and ingest again")


def _parse_values(frame: pd.DataFrame, origin: RowOrigin) -> pd.DataFrame:
    out = frame.copy()
    dates = pd.to_datetime(frame["date"], errors="coerce", format="ISO8601")
    _refuse_unparsed(frame["date"], dates, origin, "is not a date (use YYYY-MM-DD)", required=True)
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    out["date"] = dates.dt.date
    for column in NUMBER_COLUMNS:
        numbers = pd.to_numeric(frame[column], errors="coerce")
        _refuse_unparsed(frame[column], numbers, origin, "is not a number", required=False)
        out[column] = numbers.astype("float64")
    out["volume"] = out["volume"].round().astype("Int64")
    return out


def _refuse_duplicate_dates(frame: pd.DataFrame, origin: RowOrigin, raw_dates: pd.Series) -> None:
    repeated = frame["date"].duplicated(keep=False)
    if not repeated.any():
        return
    first = frame.loc[repeated, "date"].iloc[0]
    positions = list(frame.index[frame["date"] == first])
    other_dates = frame.loc[repeated, "date"].nunique() - 1
    more = f" (and {other_dates} more repeated date(s))" if other_dates else ""
    raise UserError(
        f"{origin.rows(positions)} hold the same date (column date, value {str(raw_dates.loc[positions[0]])!r}){more}; "
        "raw.prices keeps one row per ticker and date: delete the wrong row and ingest again"
    )


def normalize_price_frame(
    frame: pd.DataFrame | None, ticker: str, start: date, end: date, origin: RowOrigin
) -> SourcePrices:
    """Canonical rows (date, open, high, low, close, adj_close, volume) within [start, end].

    An empty or missing frame gives no rows; missing columns, a value that does not parse or a
    repeated date raise :class:`UserError` naming the rows (see the module docstring).
    """
    if frame is None or frame.empty:
        return empty_prices()
    prices = empty_prices()
    canonical = _canonical_columns(frame, ticker, origin, prices.warnings)
    kept = _drop_empty_rows(canonical, origin, prices)
    parsed = _parse_values(kept, origin)
    _refuse_duplicate_dates(parsed, origin, kept["date"])
    in_range = parsed[(parsed["date"] >= start) & (parsed["date"] <= end)]
    prices.frame = in_range.sort_values("date").reset_index(drop=True)
    for warning in prices.warnings:
        log.warning("%s: %s", ticker, warning)
    return prices
