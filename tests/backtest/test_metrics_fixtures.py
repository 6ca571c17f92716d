"""Every mart_backtest_summary metric on hand-made markets: flat, monotone rise, one crash, alternating.

The marts are built once by real dbt on a scratch warehouse; each row is compared with the plain
Python loops of reference_backtest, and a few numbers are pinned to values worked out by hand.
Besides the two baselines, a third strategy, llm:fixture, carries what the baselines never emit:
HOLD signals, signals below the confidence threshold, two conflicting signals on one day and a
signal dated on a Saturday. Its rows are written into llm_signal_generation (status ok) after a
first build, the way the LLM stage would, and everything from int_signals_llm on is rebuilt.
"""

from __future__ import annotations

import itertools
import math
from datetime import date
from pathlib import Path

import duckdb
import pytest
from price_fixtures import BENCHMARK, business_days, fixture_prices, fixture_vars, query, vars_arg, write_prices
from reference_backtest import (
    Settings,
    buy_and_hold_signals,
    metrics,
    run_portfolio,
    run_ticker,
    simple_returns,
    sma_crossover_signals,
)
from warehouse_helpers import run_dbt

pytestmark = pytest.mark.warehouse

TICKERS = ["FLAT", "RISE", "CRASH", "ALT", "WAVE"]
SETTINGS = Settings(sma_short_window=3, sma_medium_window=5)
FIXTURE_DATES = business_days(date(2020, 1, 6), 45)
FIXTURE_STRATEGY = "llm:fixture"
# (ticker, signal date, action, confidence): what each line tests is on its right
FIXTURE_SIGNALS = [
    ("WAVE", FIXTURE_DATES[2], "BUY", 0.9),
    ("WAVE", FIXTURE_DATES[5], "HOLD", 0.9),  # keeps the long position
    ("WAVE", FIXTURE_DATES[8], "SELL", 0.3),  # below the threshold: ignored
    ("WAVE", FIXTURE_DATES[10], "SELL", 0.6),
    ("WAVE", FIXTURE_DATES[12], "BUY", 0.8),
    ("WAVE", FIXTURE_DATES[14], "HOLD", 0.2),  # keeps the position whatever its confidence
    ("WAVE", FIXTURE_DATES[16], "BUY", 0.5),  # a tie at exactly the threshold: SELL wins
    ("WAVE", FIXTURE_DATES[16], "SELL", 0.5),
    ("WAVE", FIXTURE_DATES[20], "BUY", 0.95),  # conflicting: the higher confidence (BUY) wins
    ("WAVE", FIXTURE_DATES[20], "SELL", 0.7),
    ("WAVE", FIXTURE_DATES[30], "HOLD", 0.99),
    ("WAVE", FIXTURE_DATES[33], "SELL", 0.8),
    ("CRASH", FIXTURE_DATES[0], "BUY", 1.0),
    ("CRASH", FIXTURE_DATES[20], "HOLD", 0.9),
    ("CRASH", FIXTURE_DATES[22], "SELL", 0.49),  # just below the threshold: still long
    ("CRASH", FIXTURE_DATES[23], "SELL", 0.8),  # out the day before the crash
    ("ALT", FIXTURE_DATES[1], "HOLD", 0.9),  # opens the window, flat throughout
    ("ALT", FIXTURE_DATES[3], "BUY", 0.49),
    ("RISE", date(2020, 1, 11), "BUY", 0.7),  # a Saturday: acts from Monday
    ("RISE", FIXTURE_DATES[40], "SELL", 0.6),
]


def build_fixture_warehouse(warehouse_dir: Path, select: str, **overrides: object) -> None:
    """Fixture prices, a dbt build, the llm:fixture signals, and a rebuild from int_signals_llm on."""
    write_prices(warehouse_dir, fixture_prices())
    dbt_vars = vars_arg(fixture_vars(TICKERS, **overrides))
    run_dbt(["build", "--select", select, *dbt_vars], warehouse_dir)
    con = duckdb.connect(str(warehouse_dir / "warehouse.duckdb"))
    try:
        con.executemany(
            "insert into main.llm_signal_generation by name "
            "select ? as ticker, ? as decision_date, ? as action, ? as confidence, ? as model, 'ok' as status",
            [(t, d, a, c, FIXTURE_STRATEGY.removeprefix("llm:")) for t, d, a, c in FIXTURE_SIGNALS],
        )
    finally:
        con.close()
    run_dbt(["build", "--select", "int_signals_llm+", "int_llm_output_health", *dbt_vars], warehouse_dir)


METRICS = [
    "trading_days",
    "final_equity",
    "total_return",
    "annual_return",
    "annual_volatility",
    "sharpe_ratio",
    "sortino_ratio",
    "max_drawdown",
    "calmar_ratio",
    "buy_hold_return",
    "buy_hold_annual_return",
    "alpha_vs_buy_hold",
    "beta",
    "capm_alpha",
    "win_rate",
    "trades",
    "exposure",
    "turnover",
    "passes_min_return",
    "beats_buy_hold",
    "passes_min_days",
    "passes_sharpe",
    "passes_capital",
]


@pytest.fixture(scope="module")
def fixture_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse_dir = tmp_path_factory.mktemp("backtest_fixtures")
    build_fixture_warehouse(warehouse_dir, "+mart_signal_tracking+")
    return warehouse_dir


@pytest.fixture(scope="module")
def summary(fixture_warehouse: Path) -> dict[tuple[str, str], dict[str, object]]:
    rows = query(fixture_warehouse, "select * from mart_backtest_summary")
    return {(r["strategy"], r["ticker"]): r for r in rows}


def reference_rows(settings: Settings = SETTINGS) -> dict[tuple[str, str], dict[str, object]]:
    prices = fixture_prices()
    dates = business_days(date(2020, 1, 6), len(prices["FLAT"]))
    benchmark = dict(zip(dates[1:], simple_returns(prices[BENCHMARK]), strict=False))
    expected = {}
    # the un-sized twin holds the same signals; with no risk assessment both portfolios are the same
    for strategy in ("buy_and_hold", "sma_crossover", FIXTURE_STRATEGY, f"{FIXTURE_STRATEGY}:no_risk"):
        per_ticker = {}
        for ticker in TICKERS:
            if strategy == "buy_and_hold":
                signals = buy_and_hold_signals(dates)
            elif strategy == "sma_crossover":
                signals = sma_crossover_signals(
                    dates, prices[ticker], settings.sma_short_window, settings.sma_medium_window
                )
            else:
                signals = [(d, a, c) for t, d, a, c in FIXTURE_SIGNALS if t == ticker]
            series = run_ticker(dates, prices[ticker], signals, settings)
            if series.dates:
                per_ticker[ticker] = series
                expected[(strategy, ticker)] = metrics(series, settings, benchmark)
        expected[(strategy, "PORTFOLIO")] = metrics(run_portfolio(per_ticker, settings), settings, benchmark)
    return expected


def assert_same(actual: object, wanted: object, label: str) -> None:
    if wanted is None or actual is None:
        assert actual is None and wanted is None, f"{label}: mart {actual!r}, reference {wanted!r}"
    elif isinstance(wanted, bool):
        assert actual == wanted, f"{label}: mart {actual!r}, reference {wanted!r}"
    else:
        assert actual == pytest.approx(wanted, rel=1e-9, abs=1e-12), f"{label}: mart {actual!r}, reference {wanted!r}"


def test_every_row_and_metric_matches_the_reference_loops(summary: dict) -> None:
    expected = reference_rows()
    assert set(summary) == set(expected)
    for key, wanted in expected.items():
        for name in METRICS:
            assert_same(summary[key][name], wanted[name], f"{key} {name}")


def test_flat_market_costs_exactly_the_entry_fee(summary: dict) -> None:
    row = summary[("buy_and_hold", "FLAT")]
    assert row["trading_days"] == 44
    assert row["total_return"] == pytest.approx(-0.0005, rel=1e-12)
    assert row["max_drawdown"] == pytest.approx(-0.0005, rel=1e-12)
    assert row["buy_hold_return"] == 0.0
    assert row["alpha_vs_buy_hold"] == pytest.approx(0.9995 ** (252 / 44) - 1, rel=1e-12)
    assert (row["trades"], row["win_rate"], row["exposure"]) == (1, 0.0, 1.0)
    assert row["turnover"] == pytest.approx(252 / 44, rel=1e-12)
    assert not row["beats_buy_hold"] and not row["passes_sharpe"] and not row["is_valid"]
    # a flat price never crosses: sma_crossover emits nothing and has no backtest row
    assert ("sma_crossover", "FLAT") not in summary


def test_one_crash_is_the_max_drawdown(summary: dict) -> None:
    row = summary[("buy_and_hold", "CRASH")]
    assert row["max_drawdown"] == pytest.approx(-0.4, rel=1e-12)
    assert row["calmar_ratio"] == pytest.approx(row["annual_return"] / 0.4, rel=1e-12)


def test_alternating_days_compound_to_099_per_pair(summary: dict) -> None:
    row = summary[("buy_and_hold", "ALT")]
    assert row["total_return"] == pytest.approx(
        (1.1 - 0.0005) * 0.9 * 0.99**21 - 1, rel=1e-12
    )  # fee subtracted on day 1
    returns = [0.1 - 0.0005] + [(-0.1 if i % 2 else 0.1) for i in range(1, 44)]
    mean = sum(returns) / 44
    std = math.sqrt(sum((r - mean) ** 2 for r in returns) / 43)
    assert row["annual_volatility"] == pytest.approx(std * math.sqrt(252), rel=1e-12)
    assert row["sharpe_ratio"] == pytest.approx(mean / std * math.sqrt(252), rel=1e-12)
    downside = math.sqrt(sum(min(r, 0) ** 2 for r in returns) / 44)
    assert row["sortino_ratio"] == pytest.approx(mean / downside * math.sqrt(252), rel=1e-12)


def test_monotone_rise_has_no_drawdown_after_the_fee_and_is_valid_only_if_it_beats_buy_hold(summary: dict) -> None:
    row = summary[("buy_and_hold", "RISE")]
    assert row["max_drawdown"] == pytest.approx(0.0, abs=1e-15)
    assert row["calmar_ratio"] is None  # no drawdown: undefined, not infinite
    assert row["annual_return"] > 0.10 and row["passes_sharpe"] and row["passes_min_days"]
    assert not row["beats_buy_hold"] and not row["is_valid"]  # it paid the entry fee


def test_portfolio_caps_weights_and_keeps_the_rest_in_cash(fixture_warehouse: Path) -> None:
    rows = query(
        fixture_warehouse,
        """
        select p.date, p.exposure as gross_exposure, count(*) filter (where t.exposure <> 0) as in_market
        from fct_backtest_daily p
        join fct_backtest_daily t on t.strategy = p.strategy and t.date = p.date and t.ticker <> 'PORTFOLIO'
        where p.strategy = 'sma_crossover' and p.ticker = 'PORTFOLIO'
        group by all
        """,
    )
    assert rows
    for row in rows:
        assert row["gross_exposure"] == pytest.approx(min(row["in_market"] * 0.25, 1.0 if row["in_market"] else 0.0))


def test_sma_crossover_signals_are_dated_on_crossings_and_alternate(fixture_warehouse: Path) -> None:
    prices = fixture_prices()
    dates = business_days(date(2020, 1, 6), len(prices["WAVE"]))
    wanted = sma_crossover_signals(dates, prices["WAVE"], 3, 5)
    got = query(
        fixture_warehouse,
        "select signal_date, action from int_signals where strategy = 'sma_crossover' and ticker = 'WAVE' order by signal_date",
    )
    assert [(r["signal_date"], r["action"]) for r in got] == [(d, a) for d, a, _ in wanted]
    assert len(got) >= 4
    assert all(a["action"] != b["action"] for a, b in itertools.pairwise(got))


def test_signal_tracking_outcomes_follow_the_forward_return(fixture_warehouse: Path) -> None:
    rows = query(fixture_warehouse, "select * from mart_signal_tracking")
    assert {r["action"] for r in rows} == {"BUY", "SELL", "HOLD"}
    for row in rows:
        fwd = row["forward_return_20d"]
        if fwd is None:
            assert row["outcome"] == "pending" and not row["is_hit"]
        elif row["action"] == "BUY":
            assert row["outcome"] == ("hit" if fwd > 0 else "miss")
        elif row["action"] == "SELL":
            assert row["outcome"] == ("hit" if fwd < 0 else "miss")
        else:  # HOLD: right when the price went nowhere
            assert row["outcome"] == ("hit" if abs(fwd) <= 0.02 else "miss")
        assert row["is_hit"] == (row["outcome"] == "hit")
        assert row["ready_for_paper_trading"] == (
            row["is_hit"]
            and row["confidence"] >= 0.5
            and row["strategy_is_valid"]
            and row["strategy_verdict"] == "edge"
            and row["strategy_memorization_check_passed"] is not False
        )
    # a confident hit of a valid backtest is still not ready while its strategy shows no edge
    assert any(r["is_hit"] and r["strategy_is_valid"] and r["strategy_verdict"] != "edge" for r in rows)
    flat = [r for r in rows if r["ticker"] == "FLAT"]
    assert [r["outcome"] for r in flat] == ["miss"]  # a BUY followed by a flat price was not right
    rise = [r for r in rows if r["ticker"] == "RISE" and r["strategy"] == "buy_and_hold"]
    assert rise[0]["forward_return_1d"] == pytest.approx(0.004, rel=1e-12)


SHORT_SETTINGS = Settings(
    sma_short_window=3,
    sma_medium_window=5,
    allow_short=True,
    transaction_cost_bps=10.0,
    risk_free_rate=0.02,
    max_position_size=0.3,
    initial_capital=50000.0,
)


def test_non_default_vars_short_selling_cost_risk_free_and_cap(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every var the conventions use, changed at once, still matches the reference row by row. (The
    first build takes every input of the scorecard, which the rebuild from int_signals_llm on
    reaches: its refs, and the unit tests on the way, need them to exist.)"""
    warehouse_dir = tmp_path_factory.mktemp("backtest_fixtures_short")
    overrides = {
        "allow_short": True,
        "transaction_cost_bps": 10,
        "risk_free_rate": 0.02,
        "max_position_size": 0.3,
        "initial_capital": 50000,
    }
    build_fixture_warehouse(warehouse_dir, "+mart_strategy_scorecard", **overrides)
    summary = {(r["strategy"], r["ticker"]): r for r in query(warehouse_dir, "select * from mart_backtest_summary")}
    expected = reference_rows(SHORT_SETTINGS)
    assert set(summary) == set(expected)
    for key, wanted in expected.items():
        for name in METRICS:
            assert_same(summary[key][name], wanted[name], f"{key} {name}")
    shorts = query(
        warehouse_dir, "select strategy, count(*) as n from fct_backtest_daily where exposure < 0 group by strategy"
    )
    assert {r["strategy"] for r in shorts} == {"sma_crossover", FIXTURE_STRATEGY, f"{FIXTURE_STRATEGY}:no_risk"}
