"""Validate user input before it touches SQL or the network."""

from __future__ import annotations

import re
from datetime import date

from warehouse_core import UserError

TICKER_PATTERN = re.compile(r"^[A-Z0-9.\-^]{1,15}$")
TICKER_RULE = "use letters, digits, '.', '-' or '^', at most 15 characters"


def normalize_ticker(raw: str) -> str | None:
    """``raw`` stripped and upper-cased when it is a ticker (:data:`TICKER_PATTERN`), else None."""
    ticker = raw.strip().upper()
    return ticker if TICKER_PATTERN.match(ticker) else None


def parse_tickers(raw: str | list[str]) -> list[str]:
    """Upper-case, de-duplicated tickers; letters, digits, '.', '-', '^', at most 15 characters."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    tickers: list[str] = []
    for item in items:
        if not item.strip():
            continue
        ticker = normalize_ticker(item)
        if ticker is None:
            raise UserError(f"invalid ticker {item.strip()!r}: {TICKER_RULE}, e.g. --tickers AAPL,BRK-B,^GSPC")
        if ticker not in tickers:
            tickers.append(ticker)
    if not tickers:
        raise UserError("no tickers given: pass --tickers AAPL,MSFT")
    return tickers


def parse_date(raw: str | date, name: str) -> date:
    """An ISO date (YYYY-MM-DD)."""
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise UserError(f"invalid --{name} date {raw!r}: use YYYY-MM-DD, e.g. 2010-01-04") from None


def check_date_range(start: date, end: date, today: date | None = None) -> None:
    """``start <= end`` and no end in the future."""
    today = today or date.today()
    if start > end:
        raise UserError(f"--start {start} is after --end {end}: swap them or fix the range")
    if end > today:
        raise UserError(f"--end {end} is in the future (today is {today}): use a date up to today")


SOURCE_NAMES = ("sample", "yahoo", "csv")


def parse_sources(raw: str | list[str]) -> list[str]:
    """Source names in fallback order."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    sources = [item.strip().lower() for item in items if item.strip()]
    unknown = [s for s in sources if s not in SOURCE_NAMES]
    if unknown or not sources:
        raise UserError(
            f"unknown source {', '.join(unknown) or '(none)'}: choose from {', '.join(SOURCE_NAMES)}, "
            "comma-separated for fallback, e.g. --source yahoo,sample"
        )
    return sources


def parse_max_file_mb(value: object) -> int:
    """Var ``ingest_max_file_mb``: a whole number of megabytes, at least 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserError(f"var ingest_max_file_mb is {value!r}: use a whole number of megabytes, at least 1")
    return value
