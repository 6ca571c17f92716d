"""Tiny hand-made price series written straight into raw.prices of a scratch warehouse."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from python_ingest.warehouse import ensure_tables

FIXTURE_START = date(2020, 1, 6)  # a Monday
N_PRICES = 45  # 44 daily returns: enough for the 30-day validation rule
BENCHMARK = "BENCH"


def business_days(start: date, count: int) -> list[date]:
    days, current = [], start
    while len(days) < count:
        if current.weekday() < 5:
            days.append(current)
        current += timedelta(days=1)
    return days


def _compound(daily: list[float], start: float = 100.0) -> list[float]:
    prices = [start]
    for r in daily:
        prices.append(prices[-1] * (1 + r))
    return prices


def fixture_prices() -> dict[str, list[float]]:
    """The scenarios the issue names, plus a wave (for SMA crossings) and a benchmark."""
    n = N_PRICES - 1
    crash = [0.005] * 24 + [-0.4] + [0.005] * (n - 25)
    return {
        "FLAT": [100.0] * N_PRICES,
        "RISE": _compound([0.004 + 0.002 * (i % 3) for i in range(n)]),
        "CRASH": _compound(crash),
        "ALT": _compound([0.1 if i % 2 == 0 else -0.1 for i in range(n)]),
        "WAVE": [100.0 + 10.0 * math.sin(2 * math.pi * i / 15) for i in range(N_PRICES)],
        BENCHMARK: _compound([0.003 * ((i * 7) % 5 - 2) for i in range(n)]),
    }


def fixture_vars(tickers: list[str], **overrides: object) -> dict[str, object]:
    """dbt vars for the fixture universe: quality rules that would drop a flat series switched off."""
    return {
        "tickers": tickers,
        "benchmark_ticker": BENCHMARK,
        "start": "2020-01-01",
        "end": "2020-12-31",
        "quality_stale_days": 100000,
        "quality_return_min_history": 100000,
        "sma_short_window": 3,
        "sma_medium_window": 5,
        "enable_llm": False,
        **overrides,
    }


def write_prices(warehouse_dir: Path, prices: dict[str, list[float]], start: date = FIXTURE_START) -> None:
    """Write the series into raw.prices (open = high = low = close = adj_close, volume 1000)."""
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse_dir / "warehouse.duckdb"))
    try:
        ensure_tables(con)
        now = datetime(2024, 1, 1)
        rows = []
        for ticker, series in prices.items():
            for day, price in zip(business_days(start, len(series)), series, strict=False):
                rows.append((ticker, day, price, price, price, price, price, 1000, "csv", now))
        con.executemany("insert into raw.prices values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    finally:
        con.close()


def vars_arg(values: dict[str, object]) -> list[str]:
    return ["--vars", json.dumps(values)]


def query(warehouse_dir: Path, sql: str) -> list[dict[str, object]]:
    con = duckdb.connect(str(warehouse_dir / "warehouse.duckdb"), read_only=True)
    try:
        cursor = con.execute(sql)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=False)) for row in cursor.fetchall()]
    finally:
        con.close()
