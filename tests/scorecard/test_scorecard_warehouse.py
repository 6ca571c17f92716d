"""mart_strategy_scorecard on the built sample warehouse: a row for every strategy, every figure equal
to an independent computation, tracking readiness gated by the verdict, identical rows on a rerun."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from reference_scorecard import assert_scorecard_matches, read_tables, scorecard_vars
from warehouse_helpers import run_dbt

pytestmark = [pytest.mark.warehouse, pytest.mark.model]


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
    assert card.loc["sma_crossover", "verdict_reason"].startswith("luck explains it")
    llm = card.loc[[s for s in card.index if s.startswith("llm:")]]
    # a year of monthly decisions: too short to time at random, whatever the model said
    assert (llm["verdict"] == "insufficient_data").all()
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
