"""Price sources. Each ``fetch`` returns :class:`python_ingest.frames.SourcePrices` (no rows
when the source has nothing for that ticker and range) or raises ``UserError``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from python_ingest.frames import SourcePrices
from python_ingest.sources import csv_files, sample, yahoo


def fetch(
    source: str,
    ticker: str,
    start: date,
    end: date,
    csv_dir: Path,
    max_file_mb: int,
) -> SourcePrices:
    """Fetch one ticker's daily prices from the named source (``csv_dir`` and the file size limit, var
    ``ingest_max_file_mb``, are for the csv source)."""
    if source == "sample":
        return sample.fetch(ticker, start, end)
    if source == "yahoo":
        return yahoo.fetch(ticker, start, end)
    if source == "csv":
        return csv_files.fetch(ticker, start, end, csv_dir, max_file_mb)
    raise ValueError(f"unknown source {source!r}")
