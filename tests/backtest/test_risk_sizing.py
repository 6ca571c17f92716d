"""Risk-sized LLM portfolios: the risk stage's max_position_size caps each ticker's weight from the
trading day after the assessment, only valid assessments count, and 'llm:<model>:no_risk' keeps the
same signals under the max_position_size var alone.

Real dbt on the hand-made fixture prices: every ticker gets a BUY on day 1 (so from day 2 all five
are in the market at min(1/5, 0.25) = 0.2 each); the LLM rows are written into
llm_signal_generation and llm_risk_assessment the way the LLM stages would, then everything from
int_signals_llm and int_backtest_risk_caps on is rebuilt.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from price_fixtures import (
    FIXTURE_START,
    N_PRICES,
    business_days,
    fixture_prices,
    fixture_vars,
    query,
    vars_arg,
    write_prices,
)
from warehouse_helpers import run_dbt

pytestmark = pytest.mark.warehouse

TICKERS = ["FLAT", "RISE", "CRASH", "ALT", "WAVE"]
DATES = business_days(FIXTURE_START, N_PRICES)
VAR_CAP = 0.25  # dbt_project.yml's max_position_size
SIZED, UNSIZED = "llm:fixture", "llm:fixture:no_risk"
INVALID_ONLY = "llm:fixture_invalid"  # its one assessment is invalid
ASSESSED = DATES[10]  # the risk stage recommends 0.10 at this close
INVALID_LATER = DATES[20]  # an invalid assessment recommending 0.05: changes nothing
FUTURE = DATES[30]  # the look-ahead test adds a valid assessment here
# (model, decision_date, max_position_size, status)
ASSESSMENTS = [
    ("fixture", ASSESSED, 0.10, "ok"),
    ("fixture", INVALID_LATER, 0.05, "invalid_output"),
    ("fixture_invalid", ASSESSED, 0.05, "invalid_output"),
]
REBUILD = ["build", "--select", "int_signals_llm+", "int_backtest_risk_caps+", "int_llm_output_health"]


def write_llm_rows(warehouse_dir: Path, assessments: list[tuple[str, date, float, str]]) -> None:
    con = duckdb.connect(str(warehouse_dir / "warehouse.duckdb"))
    try:
        con.executemany(
            "insert into main.llm_signal_generation by name "
            "select ? as ticker, ? as decision_date, 'BUY' as action, 0.9 as confidence, ? as model, 'ok' as status",
            [(ticker, DATES[1], model) for ticker in TICKERS for model in ("fixture", "fixture_invalid")],
        )
        con.executemany(
            "insert into main.llm_risk_assessment by name "
            "select ? as model, ? as decision_date, ? as max_position_size, "
            "case when ? = 'ok' then 0.5 end as risk_score, ? as status",
            [(model, day, size, status, status) for model, day, size, status in assessments],
        )
    finally:
        con.close()


def portfolio(warehouse_dir: Path, strategy: str) -> list[dict[str, object]]:
    return query(
        warehouse_dir,
        "select date, tickers_in_market, position_cap, gross_exposure, strategy_return, equity "
        f"from int_backtest_portfolio_daily where strategy = '{strategy}' order by date",
    )


@pytest.fixture(scope="module")
def sized_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse_dir = tmp_path_factory.mktemp("risk_sizing")
    write_prices(warehouse_dir, fixture_prices())
    dbt_vars = vars_arg(fixture_vars(TICKERS))
    run_dbt(["build", "--select", "+mart_strategy_scorecard", "+llm_risk_assessment", *dbt_vars], warehouse_dir)
    write_llm_rows(warehouse_dir, ASSESSMENTS)
    run_dbt([*REBUILD, *dbt_vars], warehouse_dir)
    return warehouse_dir


def test_the_cap_binds_from_the_day_after_the_assessment(sized_warehouse: Path) -> None:
    rows = portfolio(sized_warehouse, SIZED)
    assert [r["date"] for r in rows][:1] == [DATES[2]] and len(rows) == N_PRICES - 2
    for row in rows:
        assert row["tickers_in_market"] == 5, row
        weight = row["gross_exposure"] / row["tickers_in_market"]
        if row["date"] <= ASSESSED:  # made at the close of ASSESSED: not yet in force that day
            assert row["position_cap"] == VAR_CAP and weight == pytest.approx(0.2), row
        else:  # from the next trading day on, and the later invalid assessment changes nothing
            assert row["position_cap"] == pytest.approx(0.10) and weight == pytest.approx(0.10), row


def test_the_no_risk_twin_and_an_invalid_assessment_keep_the_var_cap(sized_warehouse: Path) -> None:
    for strategy in (UNSIZED, INVALID_ONLY, f"{INVALID_ONLY}:no_risk"):
        rows = portfolio(sized_warehouse, strategy)
        assert len(rows) == N_PRICES - 2, strategy
        assert {r["position_cap"] for r in rows} == {VAR_CAP}, strategy
        assert all(r["gross_exposure"] == pytest.approx(1.0) for r in rows), strategy


def test_the_summary_shows_both_portfolios_side_by_side(sized_warehouse: Path) -> None:
    rows = query(
        sized_warehouse,
        "select strategy, ticker, annual_volatility, max_drawdown, sharpe_ratio, total_return "
        f"from mart_backtest_summary where strategy in ('{SIZED}', '{UNSIZED}') order by ticker, strategy",
    )
    by_key = {(r["strategy"], r["ticker"]): r for r in rows}
    sized, unsized = by_key[(SIZED, "PORTFOLIO")], by_key[(UNSIZED, "PORTFOLIO")]
    assert sized["annual_volatility"] < unsized["annual_volatility"]  # half the exposure after ASSESSED
    assert sized["total_return"] != unsized["total_return"]
    for ticker in TICKERS:  # a ticker's own backtest has no portfolio weight: identical for both names
        assert by_key[(SIZED, ticker)]["total_return"] == by_key[(UNSIZED, ticker)]["total_return"]
    tracked = query(
        sized_warehouse,
        f"select strategy, count(*) as n from mart_signal_tracking "
        f"where strategy in ('{SIZED}', '{UNSIZED}') group by strategy order by strategy",
    )
    assert [(r["strategy"], r["n"]) for r in tracked] == [(SIZED, 5), (UNSIZED, 5)]  # each signal under both names


def test_a_future_assessment_changes_nothing_before_it_acts(
    sized_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The leak test with the risk stage in the loop: a new valid assessment at the close of FUTURE
    (0.02) leaves every portfolio day up to FUTURE as it was, and binds from the next day."""
    before = portfolio(sized_warehouse, SIZED)
    warehouse_dir = tmp_path_factory.mktemp("risk_sizing_future")
    shutil.copy(sized_warehouse / "warehouse.duckdb", warehouse_dir / "warehouse.duckdb")
    con = duckdb.connect(str(warehouse_dir / "warehouse.duckdb"))
    try:
        con.execute(
            "insert into main.llm_risk_assessment by name "
            "select 'fixture' as model, ? as decision_date, 0.02 as max_position_size, 0.9 as risk_score, 'ok' as status",
            [FUTURE],
        )
    finally:
        con.close()
    run_dbt([*REBUILD, *vars_arg(fixture_vars(TICKERS))], warehouse_dir)
    after = portfolio(warehouse_dir, SIZED)
    # days, counts and caps exactly; returns and equity to 1e-12 (a sum over tickers may add in another order)
    kept, old = [r for r in after if r["date"] <= FUTURE], [r for r in before if r["date"] <= FUTURE]
    assert [list(r.values())[:4] for r in kept] == [list(r.values())[:4] for r in old]
    for new_row, old_row in zip(kept, old, strict=True):
        assert list(new_row.values())[4:] == pytest.approx(list(old_row.values())[4:], rel=1e-12), old_row
    later = [r for r in after if r["date"] > FUTURE]
    assert later and all(r["gross_exposure"] == pytest.approx(5 * 0.02) for r in later)
    assert [r for r in before if r["date"] > FUTURE] != later  # guards the test: the future did change
