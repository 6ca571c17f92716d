"""mart_strategy_scorecard on the built sample warehouse: a row for every strategy, every figure equal
to an independent computation, tracking readiness gated by the verdict, identical rows on a rerun."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from reference_scorecard import assert_scorecard_matches, read_tables, scorecard_vars
from warehouse_helpers import run_dbt

pytestmark = pytest.mark.slow


def test_every_figure_matches_an_independent_computation(built_warehouse: Path) -> None:
    tables = read_tables(built_warehouse)
    strategies = set(tables["scorecard"]["strategy"])
    assert {"buy_and_hold", "sma_crossover"} < strategies
    assert any(s.startswith("llm:") for s in strategies), "the embedded model's strategy is scored too"
    assert_scorecard_matches(tables, scorecard_vars())


def test_the_sample_gives_no_strategy_an_edge_and_says_why(built_warehouse: Path) -> None:
    card = read_tables(built_warehouse)["scorecard"].set_index("strategy")
    assert card.loc["buy_and_hold", "verdict"] == "insufficient_data"  # one BUY per ticker: 4 signals
    assert "decided signals < 30" in card.loc["buy_and_hold", "verdict_reason"]
    assert card.loc["sma_crossover", "verdict"] == "no_edge"
    assert "SPA p" in card.loc["sma_crossover", "verdict_reason"]
    assert (card["verdict"] != "edge").all()


def test_no_signal_is_ready_for_paper_trading_without_an_edge(built_warehouse: Path) -> None:
    con = duckdb.connect(str(built_warehouse / "warehouse.duckdb"), read_only=True)
    try:
        not_gated = con.sql(
            """
            select count(*) from mart_signal_tracking as t
            left join mart_strategy_scorecard as s on t.strategy = s.strategy
            where t.ready_for_paper_trading and coalesce(s.verdict, '') <> 'edge'
            """
        ).fetchone()[0]
        verdicts = con.sql("select count(*) from mart_signal_tracking where strategy_verdict is null").fetchone()[0]
    finally:
        con.close()
    assert not_gated == 0
    assert verdicts == 0, "every tracked strategy is in the scorecard"


def test_a_rerun_gives_identical_scorecard_rows(built_warehouse: Path, tmp_path: Path) -> None:
    """The bootstraps are seeded: rebuilding the scorecard on unchanged inputs changes no bit."""
    shutil.copy(built_warehouse / "warehouse.duckdb", tmp_path / "warehouse.duckdb")

    def rows(warehouse_dir: Path) -> str:
        con = duckdb.connect(str(warehouse_dir / "warehouse.duckdb"), read_only=True)
        try:
            return repr(con.sql("select * from mart_strategy_scorecard order by strategy").fetchall())
        finally:
            con.close()

    before = rows(tmp_path)
    run_dbt(["run", "--select", "mart_strategy_scorecard"], tmp_path)
    assert rows(tmp_path) == before


def test_family_spa_is_archs_textbook_spa_where_the_yardsticks_coincide(built_warehouse: Path) -> None:
    """On the sample every strategy's yardstick on the common dates is the same basket, so the family
    p-value must equal arch's SPA with that basket as the benchmark and the strategies as the models."""
    from arch.bootstrap import SPA

    tables, v = read_tables(built_warehouse), scorecard_vars()
    daily = tables["daily"]
    yardsticks = daily.pivot(index="date", columns="strategy", values="buy_hold_return").dropna()
    assert (yardsticks.max(axis=1) - yardsticks.min(axis=1)).abs().max() == 0
    returns = daily.pivot(index="date", columns="strategy", values="strategy_return").loc[yardsticks.index]
    models = [s for s in returns.columns if (returns[s] - yardsticks[s]).std() > 0]  # buy_and_hold equals its yardstick
    test = SPA(
        -yardsticks.iloc[:, 0].to_numpy(),
        -returns[models].to_numpy(),
        block_size=v["scorecard_bootstrap_block_size"],
        reps=v["scorecard_bootstrap_reps"],
        seed=v["scorecard_seed"],
    )
    test.compute()
    card = tables["scorecard"]
    assert card["spa_family_p_value"].unique().tolist() == [pytest.approx(test.pvalues["consistent"], abs=1e-12)]
    assert card["spa_family_days"].unique().tolist() == [len(yardsticks)]
