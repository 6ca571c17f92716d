"""The parity comparison (spark_target.compare) on frames shaped like a mart read from each engine:
equal frames agree, and each kind of doctored row is reported. Fast, no Spark."""

from __future__ import annotations

import datetime as dt
import decimal

import pandas as pd
import pytest

from spark_target.compare import REL_TOL, compare_tables

KEYS = ["strategy", "ticker", "date"]
DOCTORED_ROW = "strategy=sma_crossover, ticker=AAPL, date=2012-01-03"


def duckdb_frame() -> pd.DataFrame:
    """Three rows of fct_backtest_daily as DuckDB returns them (dates as datetime64)."""
    return pd.DataFrame(
        {
            "strategy": ["sma_crossover", "sma_crossover", "buy_and_hold"],
            "ticker": ["AAPL", "PORTFOLIO", "AAPL"],
            "date": pd.to_datetime(["2012-01-03", "2012-01-03", "2012-01-04"]),
            "equity": [101234.56789, 99876.54321, 100000.0],
            "drawdown": [0.0, -0.0123, None],
            "is_valid": [True, False, True],
        }
    )


def spark_frame() -> pd.DataFrame:
    """The same rows as Spark hands them over: another row order, dates as datetime.date objects."""
    frame = duckdb_frame().iloc[[2, 0, 1]].reset_index(drop=True)
    frame["date"] = [d.date() for d in frame["date"]]
    return frame


def doctor(column: str, value: object) -> pd.DataFrame:
    """spark_frame() with one value of the sma_crossover AAPL row replaced."""
    spark = spark_frame()
    row = spark.index[(spark["strategy"] == "sma_crossover") & (spark["ticker"] == "AAPL")][0]
    spark[column] = spark[column].astype(object)
    spark.at[row, column] = value
    return spark


def test_equal_frames_agree_whatever_the_row_order_and_date_type() -> None:
    result = compare_tables("fct_backtest_daily", duckdb_frame(), spark_frame(), KEYS)
    assert result.agrees, result.problems
    assert result.rows == 3 and result.max_rel_diff == 0.0
    assert result.line() == "fct_backtest_daily: 3 rows, max rel diff 0, equal"


def test_float_noise_within_tolerance_agrees_and_is_reported() -> None:
    result = compare_tables(
        "fct_backtest_daily", duckdb_frame(), doctor("equity", 101234.56789 * (1 + REL_TOL / 10)), KEYS
    )
    assert result.agrees, result.problems
    assert 0 < result.max_rel_diff <= REL_TOL


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("equity", 101234.56789 * (1 + 1e-7)),  # beyond 1e-9 relative
        ("equity", decimal.Decimal("101234.57")),  # a DECIMAL rounded to 2 places (Spark's silent difference)
        ("equity", None),  # a null against a number
        ("is_valid", False),  # a flag
        ("ticker", "AAPL "),  # a key: the row no longer matches
    ],
)
def test_a_doctored_value_fails(column: str, value: object) -> None:
    result = compare_tables("fct_backtest_daily", duckdb_frame(), doctor(column, value), KEYS)
    assert not result.agrees
    assert "DIFFERENT" in result.line()
    if column in KEYS:
        assert f"1 rows only on duckdb, e.g. ({DOCTORED_ROW})" in result.problems
    else:
        assert [p for p in result.problems if p.startswith(f"{column} at ({DOCTORED_ROW})")], result.problems


def test_missing_extra_and_duplicated_rows_fail() -> None:
    spark = spark_frame()
    spark.loc[0, "date"] = dt.date(2012, 1, 5)  # buy_and_hold's row moves to another day
    spark = pd.concat([spark, spark.iloc[[1]]], ignore_index=True)  # and a row appears twice
    problems = compare_tables("fct_backtest_daily", duckdb_frame(), spark, KEYS).problems
    assert "row count 3 vs 4" in problems
    assert "1 rows only on duckdb, e.g. (strategy=buy_and_hold, ticker=AAPL, date=2012-01-04)" in problems
    assert "1 rows only on spark, e.g. (strategy=buy_and_hold, ticker=AAPL, date=2012-01-05)" in problems
    assert [p for p in problems if p.startswith("2 rows share a key on spark")]


def test_a_missing_column_fails() -> None:
    result = compare_tables("fct_backtest_daily", duckdb_frame(), spark_frame().drop(columns=["is_valid"]), KEYS)
    assert result.problems == ["columns differ: ['is_valid']"]
