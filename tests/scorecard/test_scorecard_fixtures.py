"""mart_strategy_scorecard on hand-made markets, built by real dbt: a strategy that is always right,
always-BUY in a rising market, a strategy that never leaves cash (constant returns), one whose
signals are all on a ticker outside the backtest universe, and a model that never answered. Their
rows are written into llm_signal_generation after a first build, the way the LLM stage would, and
everything from the signals on is rebuilt. Horizon 1 day, so a signal's outcome is the very return
the backtest earns."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from backtest.price_fixtures import (
    BENCHMARK,
    N_PRICES,
    business_days,
    fixture_prices,
    fixture_vars,
    vars_arg,
    write_prices,
)
from reference_scorecard import assert_scorecard_matches, read_tables, scorecard_vars
from warehouse_helpers import run_dbt

pytestmark = pytest.mark.warehouse

TICKERS = ["WAVE", "RISE", "CRASH", "ALT"]
# a 44-day market: outcome blocks of 2 days, decisions that read no history, so random timing can
# move them; minimums sized to the market
OVERRIDES = {
    "validation_horizon_days": 1,
    "scorecard_random_timing_block_days": 2,
    "scorecard_decision_lookback_days": 0,
    "scorecard_min_trades": 1,
    "scorecard_min_invested_days": 5,
}
DATES = business_days(pd.Timestamp("2020-01-06").date(), N_PRICES)


def fixture_signals() -> list[tuple[str, str, object, str, float, str, int | None, int | None]]:
    """(model, ticker, date, action, confidence, status, latency_ms, completion_tokens) rows."""
    prices = fixture_prices()
    wave = prices["WAVE"]
    rows = []
    for day in range(N_PRICES - 1):
        right = "BUY" if wave[day + 1] > wave[day] else "SELL"
        rows.append(("always_right", "WAVE", DATES[day], right, 0.9, "ok", 1000 + 10 * day, 50))
        rows.append(("always_buy", "RISE", DATES[day], "BUY", 0.8, "ok", None, None))
        rows.append(("always_buy", "CRASH", DATES[day], "BUY", 0.8, "ok", None, None))
        rows.append(("cash_only", "ALT", DATES[day], "SELL", 0.9, "ok", None, None))
        rows.append(("bench_only", BENCHMARK, DATES[day], "BUY", 0.7, "ok", None, None))
    rows.append(("always_right", "WAVE", DATES[-1], "BUY", 0.9, "ok", 2000, 40))  # no next day: pending
    rows.append(("always_right", "RISE", DATES[3], None, None, "timeout", 180000, None))
    rows += [("gone", "WAVE", DATES[day], None, None, "llm_unavailable", None, None) for day in range(3)]
    return rows


@pytest.fixture(scope="module")
def scorecard_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse_dir = tmp_path_factory.mktemp("scorecard_fixtures")
    write_prices(warehouse_dir, fixture_prices())
    dbt_vars = vars_arg(fixture_vars(TICKERS, **OVERRIDES))
    run_dbt(["build", *dbt_vars], warehouse_dir)
    con = duckdb.connect(str(warehouse_dir / "warehouse.duckdb"))
    try:
        con.execute("delete from main.llm_signal_generation")
        con.executemany(
            "insert into main.llm_signal_generation by name select ? as model, ? as ticker, ? as decision_date, "
            "? as action, ? as confidence, ? as status, 1 as attempts, ? as latency_ms, ? as completion_tokens",
            fixture_signals(),
        )
    finally:
        con.close()
    run_dbt(["build", "--select", "int_signals_llm+", "int_llm_output_health+", *dbt_vars], warehouse_dir)
    return warehouse_dir


@pytest.fixture(scope="module")
def card(scorecard_warehouse: Path) -> pd.DataFrame:
    return read_tables(scorecard_warehouse)["scorecard"].set_index("strategy")


def test_every_figure_matches_an_independent_computation(scorecard_warehouse: Path) -> None:
    assert_scorecard_matches(read_tables(scorecard_warehouse), scorecard_vars(fixture_vars(TICKERS, **OVERRIDES)))


def test_a_strategy_that_is_always_right_gets_a_tiny_p_value_and_an_edge(card: pd.DataFrame) -> None:
    row = card.loc["llm:always_right"]
    assert (row["signals"], row["hits"], row["pending_signals"]) == (N_PRICES - 1, N_PRICES - 1, 1)
    assert row["hit_rate_p_value"] < 1e-9 and row["matched_hit_rate_p_value"] < 1e-9
    assert row["signal_timing_p_value"] < 0.001 and row["random_timing_hit_rate"] < 0.8
    assert row["verdict"] == "edge", row["verdict_reason"]
    assert (row["decisions"], row["ok_count"], row["timeout_count"]) == (N_PRICES + 1, N_PRICES, 1)


def test_always_buy_in_a_rising_market_is_not_skill(card: pd.DataFrame) -> None:
    row = card.loc["llm:always_buy"]
    assert row["hit_rate"] == row["base_hit_rate"] == row["matched_base_hit_rate"]
    assert row["hit_rate"] > 0.95  # RISE always rises, CRASH rises on all days but one
    assert row["hit_rate_p_value"] >= 0.5 and row["signal_timing_p_value"] > 0.05
    assert row["portfolio_timing_p_value"] == 1.0, "always long: the same portfolio at any timing"
    assert row["verdict"] == "no_edge"


def test_a_constant_return_strategy_gets_a_null_sharpe_not_a_crash(card: pd.DataFrame) -> None:
    row = card.loc["llm:cash_only"]
    assert row[["sharpe_ratio", "daily_sharpe_ratio", "probabilistic_sharpe", "deflated_sharpe"]].isna().all()
    assert row["verdict"] == "insufficient_data" and "0 trades < 1" in row["verdict_reason"]


def test_a_strategy_without_portfolio_rows_has_insufficient_data(card: pd.DataFrame) -> None:
    row = card.loc["llm:bench_only"]
    assert row["signals"] == N_PRICES - 1
    assert row[["trading_days", "sharpe_ratio", "alpha", "alpha_ci_low", "spa_p_value"]].isna().all()
    assert (row["verdict"], row["verdict_reason"]) == (
        "insufficient_data",
        "too little to judge: no backtest portfolio rows",
    )


def test_a_model_that_never_answered_still_gets_its_row(card: pd.DataFrame) -> None:
    row = card.loc["llm:gone"]
    assert (row["model"], row["signals"], row["decisions"], row["llm_unavailable_count"]) == ("gone", 0, 3, 3)
    assert (row["verdict"], row["verdict_reason"]) == (
        "insufficient_data",
        "too little to judge: 0 of 3 LLM decisions ok; no backtest portfolio rows",
    )


def test_only_the_strategy_with_an_edge_has_signals_ready_for_paper_trading(scorecard_warehouse: Path) -> None:
    con = duckdb.connect(str(scorecard_warehouse / "warehouse.duckdb"), read_only=True)
    try:
        ready = con.sql(
            "select strategy, count(*) from mart_signal_tracking where ready_for_paper_trading group by strategy"
        ).fetchall()
    finally:
        con.close()
    # the un-sized twin trades the same signals, so it has the same edge
    assert sorted(ready) == [("llm:always_right", N_PRICES - 1), ("llm:always_right:no_risk", N_PRICES - 1)]
