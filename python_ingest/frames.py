"""Turn a source's price frame into the canonical columns of raw.prices, saying what was dropped.

Every source goes through :func:`normalize_price_frame`: yfinance output, the bundled sample
(reshaped to yfinance's layout first) and user CSV/Parquet files. The frame is checked as a
whole, and every problem names its rows as the user finds them (a CSV's line numbers, the header
being line 1):

* a row whose every price is empty is dropped, counted and named (``rows_dropped``, ``warnings``);
* a value that does not parse (a date that is not YYYY-MM-DD, a price that is not a number, a
  volume that is not a share count raw.prices can hold) refuses the ticker with the file, line,
  column, value and reason;
* two columns that name the same field (``Close`` and ``close``) refuse the ticker: which one is
  meant is not the ingest's guess;
* two rows for the same date refuse the ticker: raw.prices holds one row per (ticker, date) and
  the ingest will not guess which copy is right.

A price that parses but is no market price (0, inf, 1e308) is kept as the source gave it:
``int_price_quality`` flags it and ``int_prices_clean`` drops it. Dates with a time and a UTC offset
count by the date as written, also when the offsets differ (a daylight-saving change in an export).

A big file is normalised chunk by chunk (:func:`normalize_price_chunks`): only the parsed numbers of
every row are kept (a 1 M-row file: ~200 bytes a row at the peak, ``benchmarks/loader_memory.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from warehouse_core import UserError

log = logging.getLogger(__name__)

PRICE_COLUMNS = ["open", "high", "low", "close", "adj_close"]
CANONICAL_COLUMNS = ["date", *PRICE_COLUMNS, "volume"]
NUMBER_COLUMNS = [*PRICE_COLUMNS, "volume"]
MAX_ROWS_NAMED = 10
MAX_VOLUME = 2**63 - 1024
"""The largest share count a BIGINT holds, less the float rounding near 2**63."""


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


def refuse_repeated_columns(names: Sequence[object], origin: RowOrigin) -> None:
    """Raise when two headers name one field (``Close`` and ``close``, or ``close`` twice)."""
    keys = [column_key(name) for name in names]
    repeated = [key for key in dict.fromkeys(keys) if keys.count(key) > 1]
    if repeated:
        spelt = [repr(str(name)) for name, key in zip(names, keys, strict=True) if key == repeated[0]]
        raise UserError(
            f"{origin.name}: the header names column {repeated[0]} more than once ({', '.join(spelt)}); "
            "keep one and ingest again"
        )


def _canonical_columns(frame: pd.DataFrame, ticker: str, origin: RowOrigin, warnings: list[str]) -> pd.DataFrame:
    """The canonical columns, the frame's index (row positions) kept."""
    flat = _flatten_columns(frame, ticker)
    refuse_repeated_columns(list(flat.columns), origin)
    flat = flat.rename(columns=column_key)
    if "date" not in flat.columns:
        flat = flat.rename_axis("date").reset_index().rename(columns=column_key)
    if not pd.api.types.is_integer_dtype(flat.index):  # messages count rows by position
        flat = flat.reset_index(drop=True)
    if "adj_close" not in flat.columns and "close" in flat.columns:
        # said out loud: a split in such data shows up as a crash in every return downstream
        warning = f"{origin.name} has no adj_close column: close used as adjusted close (splits not adjusted)"
        if warning not in warnings:
            warnings.append(warning)
        flat["adj_close"] = flat["close"]
    missing = [c for c in CANONICAL_COLUMNS if c not in flat.columns]
    if missing:
        raise UserError(f"{origin.name} lacks column(s) {', '.join(missing)}; expected {', '.join(CANONICAL_COLUMNS)}")
    return flat[CANONICAL_COLUMNS]


def _drop_empty_rows(frame: pd.DataFrame, dropped: list[int]) -> pd.DataFrame:
    """Blank lines go silently; a row with a date but no price at all is dropped (its position added to ``dropped``)."""
    blank = frame.isna().all(axis=1)
    no_price = frame[PRICE_COLUMNS].isna().all(axis=1) & ~blank
    dropped += [int(position) for position in frame.index[no_price]]
    return frame[~blank & ~no_price]


def _refuse_unparsed(raw: pd.Series, parsed: pd.Series, origin: RowOrigin, reason: str, required: bool) -> None:
    """Raise naming the first value of ``raw`` that did not parse (``parsed`` is NaN/NaT there);
    with ``required`` an empty value counts too (a row with prices needs its date)."""
    _refuse_values(raw, parsed.isna() if required else parsed.isna() & raw.notna(), origin, reason)


def _refuse_values(raw: pd.Series, bad: pd.Series, origin: RowOrigin, reason: str) -> None:
    """Raise naming the first value of ``raw`` where ``bad`` holds, and how many more there are."""
    if not bad.any():
        return
    position = int(bad.idxmax())
    value = raw.loc[position]
    what = "is empty" if pd.isna(value) else f"{str(value)!r} {reason}"
    others = int(bad.sum()) - 1
    more = f" (and {others} more such value(s) in column {raw.name})" if others else ""
    raise UserError(f"{origin.rows([position])}, column {raw.name}: {what}{more}; fix the file and ingest again")


def _parse_dates(raw: pd.Series, origin: RowOrigin) -> pd.Series:
    """Dates as written (a timestamp's own date, whatever its UTC offset), as datetime64 at midnight."""
    try:
        dates = pd.to_datetime(raw, errors="coerce", format="ISO8601")
    except ValueError:  # timestamps at several UTC offsets (pandas refuses to mix them)
        valid = pd.to_datetime(raw, errors="coerce", format="ISO8601", utc=True)
        as_written = pd.to_datetime(raw.astype("string").str.slice(0, 10), errors="coerce", format="%Y-%m-%d")
        dates = as_written.where(valid.notna())
    _refuse_unparsed(raw, dates, origin, "is not a date (use YYYY-MM-DD)", required=True)
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    return dates.dt.normalize()


def _refuse_bad_volume(raw: pd.Series, volume: pd.Series, origin: RowOrigin) -> None:
    """A volume raw.prices cannot hold as a whole share count (negative, inf, 1e30) refuses the ticker."""
    bad = volume.notna() & ~volume.between(0, MAX_VOLUME)
    _refuse_values(raw, bad, origin, f"is not a share count from 0 to {MAX_VOLUME:.3g}")


def _parse_values(frame: pd.DataFrame, origin: RowOrigin) -> pd.DataFrame:
    """Dates and numbers parsed; the first value that does not parse refuses the ticker, naming its row."""
    out = pd.DataFrame({"date": _parse_dates(frame["date"], origin)}, index=frame.index)
    for column in NUMBER_COLUMNS:
        numbers = pd.to_numeric(frame[column], errors="coerce")
        _refuse_unparsed(frame[column], numbers, origin, "is not a number", required=False)
        out[column] = numbers.astype("float64")
    _refuse_bad_volume(frame["volume"], out["volume"], origin)
    out["volume"] = out["volume"].round().astype("Int64")
    return out


def _refuse_duplicate_dates(frame: pd.DataFrame, origin: RowOrigin) -> None:
    repeated = frame["date"].duplicated(keep=False)
    if not repeated.any():
        return
    first = frame.loc[repeated, "date"].iloc[0]
    positions = list(frame.index[frame["date"] == first])
    other_dates = frame.loc[repeated, "date"].nunique() - 1
    more = f" (and {other_dates} more repeated date(s))" if other_dates else ""
    raise UserError(
        f"{origin.rows(positions)} hold the same date (column date, value {first.date().isoformat()!r}){more}; "
        "raw.prices keeps one row per ticker and date: delete the wrong row and ingest again"
    )


def normalize_price_chunks(
    chunks: Iterable[pd.DataFrame], ticker: str, start: date, end: date, origin: RowOrigin
) -> SourcePrices:
    """Canonical rows (date, open, high, low, close, adj_close, volume) within [start, end].

    ``chunks`` are consecutive pieces of one source frame whose index is each row's position in it
    (what ``pd.read_csv(chunksize=...)`` gives). No rows gives no rows; missing or repeated columns,
    a value that does not parse or a repeated date raise :class:`UserError` naming the rows (see the
    module docstring).
    """
    prices = empty_prices()
    dropped: list[int] = []
    parsed = [
        _parse_values(_drop_empty_rows(_canonical_columns(chunk, ticker, origin, prices.warnings), dropped), origin)
        for chunk in chunks
        if chunk is not None and not chunk.empty
    ]
    if not parsed:
        return prices
    if dropped:
        prices.rows_dropped = len(dropped)
        prices.warnings.append(f"{len(dropped)} row(s) with every price empty dropped: {origin.rows(dropped)}")
    frame = pd.concat(parsed) if len(parsed) > 1 else parsed[0]
    _refuse_duplicate_dates(frame, origin)
    frame["date"] = frame["date"].dt.date
    in_range = frame[(frame["date"] >= start) & (frame["date"] <= end)]
    prices.frame = in_range.sort_values("date").reset_index(drop=True)
    for warning in prices.warnings:
        log.warning("%s: %s", ticker, warning)
    return prices


def normalize_price_frame(
    frame: pd.DataFrame | None, ticker: str, start: date, end: date, origin: RowOrigin
) -> SourcePrices:
    """:func:`normalize_price_chunks` for a whole frame (its rows numbered from 0)."""
    if frame is None or frame.empty:
        return empty_prices()
    return normalize_price_chunks([frame], ticker, start, end, origin)
