"""Leak test: rewriting every price after day t changes nothing the backtest knew at t.

A real sample warehouse is built, every raw price after t is replaced by a different path, the
marts are rebuilt with the default quality rules, and every signal dated <= t, every position and
return / equity up to t, and the position held on the first clean day after t (it is decided at the
close of t) must be identical. The rewritten future jumps 10x on day t+1, which the outlier rule
drops: the first clean day after t is then t+2, so the test also covers a row after the cut that
quality removes (its move is carried by t+2, where the SMAs cross).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from price_fixtures import query, vars_arg
from warehouse_helpers import run_cli, run_dbt

pytestmark = pytest.mark.warehouse

CUTOFF = date(2008, 6, 30)
SELECT = ["--select", "+mart_signal_tracking+"]
VARS = vars_arg({"enable_llm": False})  # every quality rule at its default
FIRST_CLEAN_DAY_AFTER = "(select min(date) from int_prices_clean where date > '{t}')"


def snapshot(warehouse_dir: Path) -> dict[str, list[tuple]]:
    tables = {
        "signals": "select signal_id, confidence from int_signals where signal_date <= '{t}' order by 1",
        "positions": "select strategy, ticker, date, exposure from fct_backtest_daily where date <= '{t}' order by 1, 2, 3",
        # decided at the close of t, whichever date the next clean day is
        "first_position_after": (
            "select strategy, ticker, arg_min(exposure, date) from fct_backtest_daily "
            "where date > '{t}' group by 1, 2 order by 1, 2"
        ),
        "returns": "select strategy, ticker, date, strategy_return, equity, drawdown from fct_backtest_daily where date <= '{t}' order by 1, 2, 3",
        "first_day_after_buys": (
            "select ticker from int_signals where strategy = 'sma_crossover' and action = 'BUY' "
            f"and signal_date = {FIRST_CLEAN_DAY_AFTER} order by 1"
        ),
        "dropped_after": (
            "select ticker, date from int_price_quality where date > '{t}' and not passes_quality order by 1, 2"
        ),
        "after": "select strategy, ticker, date, exposure, equity from fct_backtest_daily where date > '{t}' order by 1, 2, 3",
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
        # the fast SMA jumps over the slow one right after t (a same-day-execution bug would show there)
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


def test_positions_up_to_t_and_on_the_next_clean_day_are_unchanged(before_and_after: tuple[dict, dict]) -> None:
    before, after = before_and_after
    assert len(before["positions"]) > 10000
    assert after["positions"] == before["positions"]
    assert len(before["first_position_after"]) >= 8  # 2 strategies x 4 tickers (+ portfolios)
    assert after["first_position_after"] == before["first_position_after"]


def test_returns_and_equity_up_to_t_are_unchanged(before_and_after: tuple[dict, dict]) -> None:
    """Same rows and days exactly; the numbers to 1e-12 relative. Exact equality is too strict here:
    DuckDB's running product groups the multiplications by the row's offset in its window
    partition, so one dropped row after t can move the last bit of an equity before t. A leak moves
    them by orders of magnitude more (the future is 10x the past)."""
    before, after = before_and_after
    assert len(before["returns"]) > 10000
    assert [r[:3] for r in after["returns"]] == [r[:3] for r in before["returns"]]
    for old, new in zip(before["returns"], after["returns"], strict=True):
        assert new[3:] == pytest.approx(old[3:], rel=1e-12, abs=1e-12), old[:3]


def test_a_row_after_t_was_dropped_by_quality(before_and_after: tuple[dict, dict]) -> None:
    """Guards the test itself: the rewritten jump is an outlier, so quality dropped day t+1."""
    before, after = before_and_after
    assert before["dropped_after"] == []
    dropped_days = {d for _, d in after["dropped_after"]}
    assert len(dropped_days) == 1 and min(dropped_days) > CUTOFF
    assert len(after["dropped_after"]) == 5  # the 4 tickers and the benchmark


def test_the_future_did_change(before_and_after: tuple[dict, dict]) -> None:
    """Guards the test itself: the rewrite must have moved equity (and SMA positions) after t."""
    before, after = before_and_after
    assert after["after"] != before["after"]
    changed_positions = {r[:3] for r in after["after"] if r[3] is not None} ^ {r[:3] for r in before["after"]}
    moved = [a for a, b in zip(after["after"], before["after"], strict=False) if a[:3] == b[:3] and a[3] != b[3]]
    assert moved or changed_positions
    # the jump makes a crossing on the first clean day after t that only the rewritten future has: a
    # position taken on the signal's own day (instead of the next one) would change first_position_after
    assert after["first_day_after_buys"] and after["first_day_after_buys"] != before["first_day_after_buys"]
