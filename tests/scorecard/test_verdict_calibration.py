"""The verdict's calibration, reduced (benchmarks/verdict_calibration.py runs the full one): on
simulated markets, no strategy without skill is called an edge more than 10 % of the time and the
oracle right 20 % more often than chance is found at least half the time. And the calibration's own
backtest of a signals file gives the warehouse's positions and outcomes, so the benchmark measures
the verdict the warehouse would give."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from backtest.price_fixtures import business_days, fixture_vars, query, vars_arg, write_prices
from warehouse_helpers import run_cli, run_dbt

from benchmarks import verdict_calibration as calibration

pytestmark = pytest.mark.warehouse

REPLICATES, DRAWS = 100, 200


def test_no_skill_is_rarely_an_edge_and_a_modest_skill_is_found() -> None:
    chosen = [s.name for s in calibration.scenarios() if not s.skilled or s.name == "oracle, right 20 % more often"]
    tallies = calibration.calibrate(REPLICATES, DRAWS, workers=2, names=chosen)
    rates = {t.scenario.name: t.edges / t.replicates for t in tallies}
    nulls = {name: rate for name, rate in rates.items() if name != "oracle, right 20 % more often"}
    assert max(nulls.values()) <= 0.10, calibration.table(tallies)
    assert rates["oracle, right 20 % more often"] >= 0.50, calibration.table(tallies)


def test_the_calibrations_backtest_is_the_warehouses(tmp_path: Path) -> None:
    """A sticky no-skill file on a simulated 2-ticker market, through the real loader and dbt: the
    warehouse's daily positions and the outcome of every signal equal the benchmark's own."""
    rng = np.random.default_rng(3)
    market = calibration.simulate_market(rng, np.array([0.1, -0.1, 0.0, 0.05]), years=1, horizon=20)
    first = date(2019, 1, 7)
    days = business_days(first, market.days)
    tickers = ["SIMA", "SIMB", "SIMC", "SIMD"]
    prices = {t: list(market.closes[:, i]) for i, t in enumerate(tickers)} | {"BENCH": [100.0] * market.days}
    write_prices(tmp_path, prices, first)
    decision_days = np.arange(calibration.HISTORY_DAYS, market.days - 22, calibration.DECISION_STEP)
    forward = calibration.forward_returns(market, 20)
    actions = calibration.sticky(0.7)(calibration.Decide(market, decision_days, forward[decision_days], rng))
    rows = [
        (tickers[t], days[d], calibration.ACTION_NAMES[actions[k, t]], 0.9)
        for k, d in enumerate(decision_days)
        for t in range(len(tickers))
    ]
    path = tmp_path / "sim.csv"
    pd.DataFrame(rows, columns=["ticker", "date", "action", "confidence"]).to_csv(path, index=False)
    run_cli(["python_ingest.signals", "--file", str(path), "--name", "sim"], tmp_path)
    run_dbt(
        [
            "build",
            "--select",
            "+fct_backtest_daily",
            "+int_signal_outcomes",
            *vars_arg(fixture_vars(tickers, start="2019-01-01", end="2021-12-31")),
        ],
        tmp_path,
    )

    _, decided, positions, _ = calibration.strategy_frames("external:sim", actions, decision_days, market, forward)
    named = {f"T{i}": ticker for i, ticker in enumerate(tickers)}
    expected = positions.assign(ticker=positions["ticker"].map(named), date=[days[d] for d in positions["date"]])
    expected = expected.set_index(["ticker", "date"])["exposure"]
    built = query(
        tmp_path,
        "select ticker, date, exposure from fct_backtest_daily where strategy = 'external:sim' and ticker <> 'PORTFOLIO'",
    )
    got = pd.DataFrame(built).set_index(["ticker", "date"])["exposure"]
    assert got.sort_index().to_dict() == expected.sort_index().to_dict()

    hits = calibration.signal_hits(decided, forward)
    outcomes = query(
        tmp_path,
        "select ticker, signal_date, outcome from int_signal_outcomes where strategy = 'external:sim' and outcome <> 'pending'",
    )
    warehouse_hits = {(r["ticker"], r["signal_date"]): r["outcome"] == "hit" for r in outcomes}
    mine = {
        (tickers[int(t[1:])], days[d]): bool(h)
        for t, d, h in zip(decided["ticker"], decided["base_day_number"], hits, strict=True)
    }
    assert warehouse_hits == mine
