"""The default warehouse as `dbt build` leaves it: split adjustment, quality, features, splits."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

pytestmark = [pytest.mark.warehouse, pytest.mark.model]


@pytest.fixture(scope="module")
def con(built_warehouse: Path):
    with duckdb.connect(str(built_warehouse / "warehouse.duckdb"), read_only=True) as connection:
        yield connection


def test_aapl_split_disappears_after_adjustment(con) -> None:
    raw_ratio, adjusted_return = con.execute(
        """
        select r.close / lag(r.close) over (order by r.date), c.daily_return
        from raw.prices r join main.int_prices_clean c using (ticker, date)
        where ticker = 'AAPL' and date between '2005-02-25' and '2005-02-28'
        order by date desc limit 1
        """
    ).fetchone()
    assert raw_ratio == pytest.approx(0.504, abs=0.01)
    assert abs(adjusted_return) < 0.02


def test_adjusted_ohlc_is_consistent(con) -> None:
    broken = con.execute(
        "select count(*) from main.int_prices_clean where not (low <= open + 1e-9 and open <= high + 1e-9 and low <= close + 1e-9 and close <= high + 1e-9)"
    ).fetchone()[0]
    assert broken == 0


def test_every_sample_row_passes_quality_with_default_thresholds(con) -> None:
    assert con.execute("select count(*) from main.int_price_quality where not passes_quality").fetchone()[0] == 0
    assert dict(con.execute("select ticker, count(*) from main.int_prices_clean group by 1").fetchall()) == {
        "AAPL": 3270,
        "MSFT": 3270,
        "IBM": 3270,
        "GOOG": 2148,
        "^GSPC": 3270,
    }


def test_default_split_is_70_15_15_in_time_order(con) -> None:
    rows = con.execute(
        """
        select split, count(*), min(date), max(date) from main.mart_dataset_splits
        where ticker = 'AAPL' group by split order by min(date)
        """
    ).fetchall()
    assert [(split, n) for split, n, _, _ in rows] == [("train", 2289), ("validation", 490), ("test", 491)]
    assert rows[0][3] < rows[1][2] and rows[1][3] < rows[2][2]
    assert con.execute("select count(*) from main.mart_dataset_splits where ticker = '^GSPC'").fetchone()[0] == 0


def test_split_boundaries_are_shared_dates_across_tickers(con) -> None:
    """Pooling tickers must not leak: every training row precedes every validation row of any
    ticker, and every validation row precedes every test row (GOOG starts in 2004, the others in 2000)."""
    bounds = {
        split: (first, last)
        for split, first, last in con.execute(
            "select split, min(date), max(date) from main.mart_dataset_splits group by split"
        ).fetchall()
    }
    assert bounds["train"][1] < bounds["validation"][0]
    assert bounds["validation"][1] < bounds["test"][0]


def test_training_parquet_matches_the_mart(con, built_warehouse: Path) -> None:
    files = sorted((built_warehouse / "training").glob("ticker=*/split=*/*.parquet"))
    assert len(files) == 4 * 3
    from_files = con.execute(
        f"select count(*) from read_parquet('{built_warehouse}/training/*/*/*.parquet', hive_partitioning = true)"
    ).fetchone()[0]
    assert from_files == con.execute("select count(*) from main.mart_dataset_splits").fetchone()[0]
