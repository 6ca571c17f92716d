"""Price sources. Each ``fetch`` returns :class:`python_ingest.frames.SourcePrices` (no rows
when the source has nothing for that ticker and range) or raises ``UserError``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from python_ingest.frames import SourcePrices
from python_ingest.sources import csv_files, sample, yahoo


def fetch(source: str, ticker: str, start: date, end: date, csv_dir: Path | None = None) -> SourcePrices:
    """Fetch one ticker's daily prices from the named source."""
    if source == "sample":
        return sample.fetch(ticker, start, end)
    if source == "yahoo":
        return yahoo.fetch(ticker, start, end)
    if source == "csv":
        return csv_files.fetch(ticker, start, end, csv_dir or Path("prices"))
    raise ValueError(f"unknown source {source!r}")
