"""Leak test: rewriting every price after day t changes nothing the backtest knew at t.

A real sample warehouse is built, every raw price after t is replaced by a different path, the
marts are rebuilt, and every signal dated <= t, every position held up to the first trading day
after t (it is decided at the close of t) and every return / equity up to t must be identical.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from price_fixtures import query, vars_arg
from warehouse_helpers import run_cli, run_dbt

pytestmark = pytest.mark.slow

CUTOFF = date(2008, 6, 30)
SELECT = ["--select", "+mart_signal_tracking+"]
# the rewritten future jumps 10x on day t+1; the outlier rule would drop that row, so it is off here
VARS = vars_arg({"enable_llm": False, "quality_return_min_history": 100000})


def snapshot(warehouse_dir: Path) -> dict[str, list[tuple]]:
    tables = {
        "signals": "select signal_id, confidence from int_signals where signal_date <= '{t}' order by 1",
        "positions": (
            "select strategy, ticker, date, position from fct_backtest_daily "
            "where date <= (select min(date) from int_prices_clean where date > '{t}') order by 1, 2, 3"
        ),
        "returns": "select strategy, ticker, date, strategy_return, equity, drawdown from fct_backtest_daily where date <= '{t}' order by 1, 2, 3",
        "next_day_buys": (
            "select ticker from int_signals where strategy = 'sma_crossover' and action = 'BUY' "
            "and signal_date = (select min(date) from int_prices_clean where date > '{t}') order by 1"
        ),
        "after": "select strategy, ticker, date, position, equity from fct_backtest_daily where date > '{t}' order by 1, 2, 3",
    }
    return {
        name: [tuple(r.values()) for r in query(warehouse_dir, sql.format(t=CUTOFF))] for name, sql in tables.items()
    }


@pytest.fixture(scope="module")
def before_and_after(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    warehouse_dir = tmp_path_factory.mktemp("leak")
    run_cli(["python_ingest"], warehouse_dir)
    run_dbt(["build", *SELECT, *VARS], warehouse_dir)
    before = snapshot(warehouse_dir)
    con = duckdb.connect(str(warehouse_dir / "warehouse.duckdb"))
    try:
        # a different future: every price after the cutoff x10, then a slow wave of +-30 % on top, so
        # the fast SMA jumps over the slow one on day t+1 (a same-day-execution bug would show there)
        con.execute(
            """
            update raw.prices
            set open = open * f, high = high * f, low = low * f, close = close * f, adj_close = adj_close * f
            from (select ticker as t, date as d,
                         10 * (1 + 0.3 * sin(row_number() over (partition by ticker order by date) / 15.0)) as f
                  from raw.prices where date > ?) as future
            where raw.prices.ticker = future.t and raw.prices.date = future.d
            """,
            [CUTOFF],
        )
    finally:
        con.close()
    run_dbt(["build", *SELECT, *VARS], warehouse_dir)
    return before, snapshot(warehouse_dir)


def test_signals_up_to_t_are_unchanged(before_and_after: tuple[dict, dict]) -> None:
    before, after = before_and_after
    assert len(before["signals"]) > 100
    assert after["signals"] == before["signals"]


def test_positions_up_to_the_day_after_t_are_unchanged(before_and_after: tuple[dict, dict]) -> None:
    before, after = before_and_after
    assert len(before["positions"]) > 10000
    assert after["positions"] == before["positions"]


def test_returns_and_equity_up_to_t_are_unchanged(before_and_after: tuple[dict, dict]) -> None:
    before, after = before_and_after
    assert after["returns"] == before["returns"]


def test_the_future_did_change(before_and_after: tuple[dict, dict]) -> None:
    """Guards the test itself: the rewrite must have moved equity (and SMA positions) after t."""
    before, after = before_and_after
    assert after["after"] != before["after"]
    changed_positions = {r[:3] for r in after["after"] if r[3] is not None} ^ {r[:3] for r in before["after"]}
    moved = [a for a, b in zip(after["after"], before["after"], strict=False) if a[:3] == b[:3] and a[3] != b[3]]
    assert moved or changed_positions
    # the jump makes a crossing on t+1 that only the rewritten future has: a position taken on the
    # signal's own day (instead of the next one) would change the compared t+1 positions
    assert after["next_day_buys"] and after["next_day_buys"] != before["next_day_buys"]
