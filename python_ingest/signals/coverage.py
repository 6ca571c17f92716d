"""Warnings about signals the build cannot backtest: they are kept, never silently dropped.

A signal is backtested only when its ticker is among the build's tickers (var ``tickers``: staging
keeps prices for those and the benchmark only), has prices in raw.prices, and its date falls before
the build window's end (var ``end``). Each case gets one warning naming the tickers and the command
that fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from python_ingest.signals.rows import CheckedSignals


@dataclass(frozen=True)
class BuildScope:
    """What the next build backtests: vars ``tickers``, ``start`` and ``end``."""

    tickers: list[str]
    start: date
    end: date


def _priced_tickers(con: duckdb.DuckDBPyConnection, tickers: list[str]) -> set[str]:
    placeholders = ", ".join("?" for _ in tickers)
    found = con.execute(f"select distinct ticker from raw.prices where ticker in ({placeholders})", tickers).fetchall()
    return {ticker for (ticker,) in found}


def coverage_warnings(
    con: duckdb.DuckDBPyConnection, strategy: str, rows: CheckedSignals, scope: BuildScope
) -> list[str]:
    """One line per problem: tickers without prices, tickers outside the build, signals after its end."""
    per_ticker = rows.ticker_counts()
    tickers = sorted(per_ticker)
    warnings = []
    unpriced = [t for t in tickers if t not in _priced_tickers(con, tickers)]
    if unpriced:
        first = rows.first_date(set(unpriced))
        warnings.append(
            f"{strategy}: no prices in the warehouse for {', '.join(unpriced)} "
            f"({sum(per_ticker[t] for t in unpriced)} signal(s) kept, not backtested until prices exist): "
            f"python -m python_ingest --tickers {','.join(unpriced)} --start {first} --end {date.today()}"
        )
    outside = [t for t in tickers if t not in scope.tickers]
    if outside:
        wanted = ",".join([*scope.tickers, *outside])
        warnings.append(
            f"{strategy}: {', '.join(outside)} not among the build's tickers ({', '.join(scope.tickers)}): "
            f"their {sum(per_ticker[t] for t in outside)} signal(s) are kept in raw and staging but not backtested; "
            f"build with them: python -m pipeline --tickers {wanted} (or dbt build --vars '{{tickers: [{wanted}]}}')"
        )
    late, latest = rows.dates_after(scope.end)
    if late:
        warnings.append(
            f"{strategy}: {late} signal(s) dated after the build window's end {scope.end} (var end; "
            f"latest {latest}) act after the data ends and stay pending: "
            "build with a later --end (and prices up to it)"
        )
    return warnings
