"""mart_backtest_summary against empyrical-reloaded on the real bundled sample (AAPL, MSFT, IBM, GOOG vs ^GSPC).

The marts are computed by SQL in DuckDB; empyrical recomputes each metric in numpy from the same
daily strategy returns (fct_backtest_daily). Conventions match, so they must agree to 1e-9 relative.
"""

from __future__ import annotations

from pathlib import Path

import empyrical
import numpy as np
import pandas as pd
import pytest
from price_fixtures import query

pytestmark = [pytest.mark.warehouse, pytest.mark.model]


@pytest.fixture(scope="module")
def frames(built_warehouse: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    summary = pd.DataFrame(query(built_warehouse, "select * from mart_backtest_summary"))
    daily = pd.DataFrame(query(built_warehouse, "select * from fct_backtest_daily order by strategy, ticker, date"))
    bench = query(
        built_warehouse,
        "select date, daily_return from int_prices_clean where is_benchmark and daily_return is not null order by date",
    )
    benchmark = pd.Series({r["date"]: r["daily_return"] for r in bench})
    return summary, daily, benchmark


def close(actual: float, wanted: float) -> bool:
    """Equal to 1e-9 relative; a metric undefined in both (e.g. Sharpe of a strategy that never
    entered: zero volatility) agrees too: the mart's null arrives here as NaN, empyrical's as NaN."""
    return bool(np.isclose(actual, wanted, rtol=1e-9, atol=1e-12, equal_nan=True))


def test_every_row_matches_empyrical(frames: tuple[pd.DataFrame, pd.DataFrame, pd.Series]) -> None:
    summary, daily, benchmark = frames
    assert {"buy_and_hold", "sma_crossover"} <= set(summary["strategy"])
    assert len(summary) >= 10
    for _, row in summary.iterrows():
        days = daily[(daily["strategy"] == row["strategy"]) & (daily["ticker"] == row["ticker"])]
        r = days["strategy_return"].to_numpy()
        label = f"{row['strategy']}/{row['ticker']}"
        assert len(r) == row["trading_days"], label
        wanted = {
            "total_return": empyrical.cum_returns_final(r),
            "annual_return": empyrical.annual_return(r),
            "annual_volatility": empyrical.annual_volatility(r),
            "sharpe_ratio": empyrical.sharpe_ratio(r, risk_free=0.0),
            "sortino_ratio": empyrical.sortino_ratio(r, required_return=0.0),
            "max_drawdown": empyrical.max_drawdown(r),
            "calmar_ratio": empyrical.calmar_ratio(r),
            "buy_hold_annual_return": empyrical.annual_return(days["buy_hold_return"].to_numpy()),
        }
        aligned = pd.concat([pd.Series(r, index=days["date"].to_list()), benchmark], axis=1, join="inner")
        wanted["capm_alpha"], wanted["beta"] = empyrical.alpha_beta(
            aligned.iloc[:, 0].to_numpy(), aligned.iloc[:, 1].to_numpy()
        )
        for name, value in wanted.items():
            assert close(row[name], value), f"{label} {name}: mart {row[name]!r}, empyrical {value!r}"
        assert close(row["alpha_vs_buy_hold"], wanted["annual_return"] - wanted["buy_hold_annual_return"]), label


def test_buy_and_hold_baseline_is_the_price_minus_one_entry_fee(
    frames: tuple[pd.DataFrame, pd.DataFrame, pd.Series],
) -> None:
    summary, daily, _ = frames
    rows = summary[(summary["strategy"] == "buy_and_hold") & (summary["ticker"] != "PORTFOLIO")]
    assert sorted(rows["ticker"]) == ["AAPL", "GOOG", "IBM", "MSFT"]
    for _, row in rows.iterrows():
        first = daily[(daily["strategy"] == "buy_and_hold") & (daily["ticker"] == row["ticker"])].iloc[0]
        fee_factor = (1 + first["buy_hold_return"] - 0.0005) / (1 + first["buy_hold_return"])
        assert close(1 + row["total_return"], (1 + row["buy_hold_return"]) * fee_factor), row["ticker"]
        assert row["trades"] == 1 and row["exposure"] == 1.0 and not row["beats_buy_hold"]
