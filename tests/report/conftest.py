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
    con = duckdb.connect(str(target / "warehouse.duckdb"))
    try:
        con.execute(f"attach '{built_warehouse / 'warehouse.duckdb'}' as built (read_only)")
        built = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_catalog = 'built'"
            ).fetchall()
        }
        for mart in (*MARTS, SCORECARD):
            if mart in built:
                con.execute(f"create table main.{mart} as select * from built.main.{mart}")
        con.execute("detach built")
    finally:
        con.close()
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
