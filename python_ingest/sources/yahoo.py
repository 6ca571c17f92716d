"""Yahoo Finance through yfinance, with its real behaviour handled:

* ``auto_adjust`` defaults to True in recent yfinance: we ask for ``auto_adjust=False`` so both
  raw ``Close`` and ``Adj Close`` arrive;
* columns are a (Price, Ticker) MultiIndex even for one ticker (normalised in frames.py);
* a bad ticker or no network gives an *empty frame and no exception*: we return it empty and
  the caller records status 'empty' (and tries the next source);
* ``YFRateLimitError`` is retried with exponential backoff, a bounded number of times.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, timedelta

import pandas as pd

from python_ingest.frames import RowOrigin, SourcePrices, normalize_price_frame
from warehouse_core import UserError

log = logging.getLogger(__name__)


def _download(ticker: str, start: date, end: date) -> pd.DataFrame | None:
    import yfinance as yf

    return yf.download(
        ticker,
        start=start.isoformat(),
        end=(end + timedelta(days=1)).isoformat(),  # yfinance's end is exclusive
        auto_adjust=False,
        actions=False,
        progress=False,
        threads=False,
        multi_level_index=True,
    )


def fetch(
    ticker: str,
    start: date,
    end: date,
    *,
    download: Callable[[str, date, date], pd.DataFrame | None] = _download,
    max_attempts: int = 4,
    base_delay_s: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> SourcePrices:
    """Daily prices for one ticker from Yahoo; no rows when Yahoo has none (or is unreachable)."""
    from yfinance.exceptions import YFRateLimitError

    for attempt in range(1, max_attempts + 1):
        try:
            raw = download(ticker, start, end)
            break
        except YFRateLimitError:
            if attempt == max_attempts:
                raise UserError(
                    f"{ticker}: Yahoo rate limit hit {max_attempts} times; wait a few minutes and retry "
                    "or add a fallback source (--source yahoo,sample)"
                ) from None
            delay = base_delay_s * 2 ** (attempt - 1)
            log.warning("%s: Yahoo rate limit, retry %d/%d in %.0fs", ticker, attempt, max_attempts - 1, delay)
            sleep(delay)
    return normalize_price_frame(raw, ticker, start, end, RowOrigin(f"Yahoo's download for {ticker}"))
