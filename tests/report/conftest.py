"""Warehouses the report tests read: the built one reduced to the marts the report reads, with or
without a hand-made scorecard."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from scorecard_fixture import add_scorecard

from report.warehouse import MARTS, SCORECARD


@pytest.fixture(scope="session")
def marts_only(built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding nothing but the marts the report reads (the scorecard too when the build
    made it): the report must work from them alone."""
    target = tmp_path_factory.mktemp("marts_only")
    # dbt-duckdb's views name their tables warehouse.main.<table> (fct_backtest_daily is one): the
    # built file must be attached as `warehouse`, so the copy is written under another name first
    con = duckdb.connect(str(target / "marts.duckdb"))
    try:
        con.execute(f"attach '{built_warehouse / 'warehouse.duckdb'}' as warehouse (read_only)")
        built = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_catalog = 'warehouse'"
            ).fetchall()
        }
        for mart in (*MARTS, SCORECARD):
            if mart in built:
                con.execute(f"create table marts.main.{mart} as select * from warehouse.main.{mart}")
        con.execute("detach warehouse")
    finally:
        con.close()
    (target / "marts.duckdb").rename(target / "warehouse.duckdb")
    return target


def warehouse_copy(source: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "warehouse.duckdb", target / "warehouse.duckdb")
    return target


@pytest.fixture
def without_scorecard(marts_only: Path, tmp_path: Path) -> Path:
    """The marts as a warehouse built before mart_strategy_scorecard existed."""
    copy = warehouse_copy(marts_only, tmp_path / "no_scorecard")
    with duckdb.connect(str(copy / "warehouse.duckdb")) as con:
        con.execute(f"drop table if exists {SCORECARD}")
    return copy


@pytest.fixture
def with_scorecard(marts_only: Path, tmp_path: Path) -> tuple[Path, list[dict[str, object]]]:
    """The marts plus the hand-made scorecard (every column); returns the folder and the rows."""
    copy = warehouse_copy(marts_only, tmp_path / "scorecard")
    return copy, add_scorecard(copy / "warehouse.duckdb")
