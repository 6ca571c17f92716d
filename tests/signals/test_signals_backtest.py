"""A signals file in each format (CSV, JSON list, JSON object with 'signals') loads and backtests to
values worked out by hand on a tiny market, exactly like a built-in strategy: a Saturday signal acts
from Monday, a time of day never moves a signal to another day, two signals on one day follow the
tie rule, a ticker of the build without prices and a ticker outside the build are kept and shown
(int_signals / tracking / dim_tickers), and nothing downstream breaks."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from backtest.price_fixtures import business_days, fixture_vars, query, vars_arg, write_prices
from signals_helpers import write
from warehouse_helpers import run_cli, run_dbt

pytestmark = pytest.mark.warehouse

N_DAYS = 12
DAYS = business_days(date(2020, 1, 6), N_DAYS)  # Mon 2020-01-06 .. Tue 2020-01-21
RATE, COST, CAPITAL = 0.01, 0.0005, 50000.0
TICKERS = ["UP", "DOWN", "NOPX"]  # NOPX: in the build, never priced
PRICES = {
    "UP": [100 * (1 + RATE) ** i for i in range(N_DAYS)],
    "DOWN": [100 * (1 - RATE) ** i for i in range(N_DAYS)],
    "BENCH": [100 + (i % 3) for i in range(N_DAYS)],
}
# The same signals in three spellings. UP: BUY Monday (acts Tuesday), SELL on Saturday 2020-01-11 (acts
# Monday 2020-01-13). DOWN: BUY and SELL on one day at equal confidence (SELL wins the tie), then a BUY
# below the 0.5 threshold: flat throughout. NOPX has no prices; OUTSIDE is not among the tickers.
CSV = """Ticker,Date,Action,Confidence,Model
UP,2020-01-06,buy,0.9,fixture-model
UP,2020-01-11,sell,0.8,fixture-model
DOWN,2020-01-07,BUY,0.7,fixture-model
DOWN,2020-01-07,SELL,0.7,fixture-model
DOWN,2020-01-09,BUY,0.4,fixture-model
NOPX,2020-01-08,BUY,0.9,fixture-model
OUTSIDE,2020-01-08,BUY,0.9,fixture-model
"""
JSON_LIST = [
    {"ticker": "UP", "signal_date": "2020-01-06", "action": "BUY", "confidence": 0.9},
    {"ticker": "UP", "signal_date": "2020-01-11", "action": "SELL", "confidence": 0.8},
    {"ticker": "DOWN", "signal_date": "2020-01-07", "action": "BUY", "confidence": 0.7},
    {"ticker": "DOWN", "signal_date": "2020-01-07", "action": "SELL", "confidence": 0.7},
    {"ticker": "DOWN", "signal_date": "2020-01-09", "action": "BUY", "confidence": 0.4},
    {"ticker": "NOPX", "signal_date": "2020-01-08", "action": "BUY", "confidence": 0.9},
    {"ticker": "OUTSIDE", "signal_date": "2020-01-08", "action": "BUY", "confidence": 0.9},
]
# timestamps: Monday 23:59 in New York is Tuesday in UTC, and must stay a Monday signal
JSON_OBJECT = {
    "signals": [
        {"ticker": "UP", "timestamp": "2020-01-06T23:59:00-05:00", "action": "buy", "confidence": 0.9},
        {"ticker": "UP", "timestamp": "2020-01-11T09:00:00Z", "action": "sell", "confidence": 0.8},
        {"ticker": "DOWN", "timestamp": "2020-01-07T10:00:00", "action": "buy", "confidence": 0.7},
        {"ticker": "DOWN", "timestamp": "2020-01-07T15:00:00", "action": "sell", "confidence": 0.7},
        {"ticker": "DOWN", "timestamp": "2020-01-09T12:00:00", "action": "buy", "confidence": 0.4},
        {"ticker": "NOPX", "timestamp": "2020-01-08T12:00:00", "action": "buy", "confidence": 0.9},
        {"ticker": "OUTSIDE", "timestamp": "2020-01-08T12:00:00", "action": "buy", "confidence": 0.9},
    ]
}
STRATEGIES = {"external:csv": "fixture-model", "external:jsonlist": "jsonlist", "external:jsonobj": "jsonobj"}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("external_backtest")
    write_prices(folder, PRICES)
    files = {
        "csv": write(folder, "signals.csv", CSV),
        "jsonlist": write(folder, "signals.json", json.dumps(JSON_LIST)),
        "jsonobj": write(folder, "llm_signals.json", json.dumps(JSON_OBJECT)),
    }
    settings = fixture_vars(TICKERS, initial_capital=CAPITAL)
    scope = json.dumps({k: settings[k] for k in ("tickers", "start", "end")})
    for name, path in files.items():
        result = run_cli(["python_ingest.signals", "--file", str(path), "--name", name, "--vars", scope], folder)
        assert "no prices in the warehouse for NOPX, OUTSIDE" in result.stderr
        assert "OUTSIDE not among the build's tickers" in result.stderr
    run_dbt(["build", "--select", "+mart_signal_tracking+", "+dim_tickers", *vars_arg(settings)], folder)
    return folder


def hand_up_growth() -> list[float]:
    """UP's equity multiple after each day of its window (2020-01-07 .. 2020-01-21), by hand:
    long Tuesday to Friday (entry cost on Tuesday), flat from Monday (exit cost on Monday)."""
    daily = [RATE - COST, RATE, RATE, RATE, -COST] + [0.0] * 6
    growth, out = 1.0, []
    for r in daily:
        growth *= 1 + r
        out.append(growth)
    return out


def hand_portfolio_growth() -> float:
    """One ticker in the market (UP) at the 25 % cap: a quarter of UP's moves and costs, cash earns 0."""
    return (1 + 0.25 * RATE - 0.25 * COST) * (1 + 0.25 * RATE) ** 3 * (1 - 0.25 * COST)


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_each_format_backtests_to_the_hand_computed_values(warehouse: Path, strategy: str) -> None:
    rows = query(warehouse, f"select * from mart_backtest_summary where strategy = '{strategy}'")
    summary = {row["ticker"]: row for row in rows}
    assert set(summary) == {"UP", "DOWN", "PORTFOLIO"}  # NOPX has no prices, OUTSIDE is not in the build
    up = summary["UP"]
    growth = hand_up_growth()
    assert (up["start_date"], up["end_date"], up["trading_days"]) == (DAYS[1], DAYS[-1], 11)
    assert up["initial_capital"] == CAPITAL
    assert up["total_return"] == pytest.approx((1 + RATE - COST) * (1 + RATE) ** 3 * (1 - COST) - 1, rel=1e-12)
    assert up["final_equity"] == pytest.approx(CAPITAL * growth[-1], rel=1e-12)
    assert (up["trades"], up["win_rate"]) == (1, 1.0)
    assert up["exposure"] == pytest.approx(4 / 11, rel=1e-12)
    down = summary["DOWN"]
    assert (down["start_date"], down["trading_days"], down["total_return"], down["trades"]) == (DAYS[2], 10, 0.0, 0)
    portfolio = summary["PORTFOLIO"]
    assert portfolio["trading_days"] == 11
    assert portfolio["total_return"] == pytest.approx(hand_portfolio_growth() - 1, rel=1e-12)
    assert portfolio["final_equity"] == pytest.approx(CAPITAL * hand_portfolio_growth(), rel=1e-12)
    equity = query(
        warehouse,
        f"select equity from fct_backtest_daily where strategy = '{strategy}' and ticker = 'UP' order by date",
    )
    assert [row["equity"] for row in equity] == pytest.approx([CAPITAL * g for g in growth], rel=1e-12)


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_each_format_is_tracked_like_a_built_in_strategy(warehouse: Path, strategy: str) -> None:
    signals = query(
        warehouse, f"select * from int_signals where strategy = '{strategy}' order by ticker, signal_date, action"
    )
    assert {row["model"] for row in signals} == {STRATEGIES[strategy]}
    assert [(row["ticker"], row["signal_date"], row["action"], row["base_date"]) for row in signals] == [
        ("DOWN", date(2020, 1, 7), "BUY", DAYS[1]),
        ("DOWN", date(2020, 1, 7), "SELL", DAYS[1]),
        ("DOWN", date(2020, 1, 9), "BUY", DAYS[3]),
        ("NOPX", date(2020, 1, 8), "BUY", None),  # kept, no price to act on
        ("UP", date(2020, 1, 6), "BUY", DAYS[0]),
        ("UP", date(2020, 1, 11), "SELL", DAYS[4]),  # Saturday: its base day is Friday
    ]
    tracking = query(warehouse, f"select ticker, outcome from mart_signal_tracking where strategy = '{strategy}'")
    assert len(tracking) == 6
    assert [row["outcome"] for row in tracking if row["ticker"] == "NOPX"] == ["pending"]


def test_dim_tickers_shows_the_tickers_that_cannot_be_backtested(warehouse: Path) -> None:
    rows = {row["ticker"]: row for row in query(warehouse, "select * from dim_tickers")}
    assert (rows["NOPX"]["is_in_scope"], rows["NOPX"]["clean_rows"], rows["NOPX"]["external_signals"]) == (True, 0, 3)
    assert (rows["OUTSIDE"]["is_in_scope"], rows["OUTSIDE"]["clean_rows"], rows["OUTSIDE"]["external_signals"]) == (
        False,
        0,
        3,
    )
    assert rows["OUTSIDE"]["external_strategies"] == "external:csv, external:jsonlist, external:jsonobj"
    assert (rows["UP"]["is_in_scope"], rows["UP"]["external_signals"]) == (True, 6)
