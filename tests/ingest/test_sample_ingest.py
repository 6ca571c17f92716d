"""Ingest the real bundled sample through the CLI and check what lands in raw.prices."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from warehouse_helpers import run_cli

EXPECTED_ROWS = {"AAPL": 3270, "MSFT": 3270, "IBM": 3270, "GOOG": 2148, "^GSPC": 3270}


def prices(warehouse_dir: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse_dir / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("select * from raw.prices order by ticker, date").fetchall()


@pytest.fixture(scope="module")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse_dir = tmp_path_factory.mktemp("sample")
    run_cli(["python_ingest"], warehouse_dir)
    return warehouse_dir


def test_sample_rows_per_ticker(sample_warehouse: Path) -> None:
    with duckdb.connect(str(sample_warehouse / "warehouse.duckdb"), read_only=True) as con:
        counts = dict(con.execute("select ticker, count(*) from raw.prices group by ticker").fetchall())
        sources = {s for (s,) in con.execute("select distinct source from raw.prices").fetchall()}
        runs = con.execute("select ticker, status, source, rows from raw.ingest_runs order by ticker").fetchall()
    assert counts == EXPECTED_ROWS
    assert sources == {"sample"}
    assert runs == sorted((t, "ok", "sample", n) for t, n in EXPECTED_ROWS.items())


def test_raw_keeps_the_unadjusted_aapl_split(sample_warehouse: Path) -> None:
    with duckdb.connect(str(sample_warehouse / "warehouse.duckdb"), read_only=True) as con:
        before, after = con.execute(
            "select close from raw.prices where ticker = 'AAPL' and date in ('2005-02-25', '2005-02-28') order by date"
        ).fetchall()
    assert after[0] / before[0] == pytest.approx(0.504, abs=0.01)  # raw close halves on the split day


def test_rerun_is_idempotent_and_skips_the_fetch(sample_warehouse: Path) -> None:
    first = prices(sample_warehouse)
    result = run_cli(["python_ingest"], sample_warehouse)
    assert prices(sample_warehouse) == first
    assert "already loaded, skipped" in result.stderr
    with duckdb.connect(str(sample_warehouse / "warehouse.duckdb"), read_only=True) as con:
        last_run = con.execute(
            "select distinct status, rows from raw.ingest_runs where run_id = "
            "(select run_id from raw.ingest_runs order by started_at desc limit 1)"
        ).fetchall()
    assert last_run == [("skipped", 0)]


def key_counts(warehouse_dir: Path) -> tuple[int, int]:
    """(rows, distinct (ticker, date) keys) of raw.prices: equal when nothing is doubled."""
    with duckdb.connect(str(warehouse_dir / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("select count(*), count(distinct (ticker, date)) from raw.prices").fetchone()


def test_refresh_fetches_again_without_duplicates(sample_warehouse: Path) -> None:
    before = prices(sample_warehouse)
    rows_before, keys_before = key_counts(sample_warehouse)
    run_cli(["python_ingest", "--tickers", "IBM", "--benchmark", "", "--refresh"], sample_warehouse)
    rows_after, keys_after = key_counts(sample_warehouse)
    assert rows_before == keys_before == sum(EXPECTED_ROWS.values())
    assert rows_after == keys_after == rows_before, "nothing doubled, nothing lost"
    after = prices(sample_warehouse)
    assert [row[:8] for row in after] == [row[:8] for row in before], "same keys, same values"


def test_wider_range_adds_only_missing_days(tmp_path: Path) -> None:
    run_cli(
        ["python_ingest", "--tickers", "MSFT", "--benchmark", "", "--start", "2010-01-01", "--end", "2010-06-30"],
        tmp_path,
    )
    run_cli(
        ["python_ingest", "--tickers", "MSFT", "--benchmark", "", "--start", "2010-01-01", "--end", "2010-12-31"],
        tmp_path,
    )
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        total, distinct = con.execute("select count(*), count(distinct date) from raw.prices").fetchone()
        added = [r for (r,) in con.execute("select rows from raw.ingest_runs order by started_at").fetchall()]
    assert total == distinct == 252
    assert added == [124, 128]
