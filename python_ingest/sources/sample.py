"""Real, public-domain daily prices that ship inside PyPI packages (no network needed).

* ``bokeh-sampledata``: AAPL, MSFT, IBM (2000-03-01..2013-03-01), GOOG (2004-08-19..2013-03-01)
  and FB. Raw OHLC is *not* split-adjusted (AAPL halves on 2005-02-28); ``adj_close`` is.
* ``arch``: the S&P 500 index (``^GSPC``), 1999..2018, used as the benchmark.

Both are reshaped to yfinance's layout and go through the same normalisation as yahoo.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from python_ingest.frames import RowOrigin, SourcePrices, normalize_price_frame

BOKEH_TICKERS = ("AAPL", "MSFT", "IBM", "GOOG", "FB")
SP500_TICKER = "^GSPC"


def _bokeh_frame(ticker: str) -> pd.DataFrame:
    from bokeh_sampledata import stocks

    series = getattr(stocks, ticker)
    return pd.DataFrame(
        {
            "Open": series["open"],
            "High": series["high"],
            "Low": series["low"],
            "Close": series["close"],
            "Adj Close": series["adj_close"],
            "Volume": series["volume"],
        },
        index=pd.DatetimeIndex(pd.to_datetime(series["date"]), name="Date"),
    )


def _sp500_frame() -> pd.DataFrame:
    from arch.data import sp500

    return sp500.load()


def fetch(ticker: str, start: date, end: date) -> SourcePrices:
    """The bundled sample for ``ticker``; no rows if the sample does not have it."""
    if ticker in BOKEH_TICKERS:
        raw, package = _bokeh_frame(ticker), "bokeh-sampledata"
    elif ticker == SP500_TICKER:
        raw, package = _sp500_frame(), "arch"
    else:
        raw, package = None, "sample"
    return normalize_price_frame(raw, ticker, start, end, RowOrigin(f"the {package} prices of {ticker}"))
