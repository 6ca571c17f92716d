"""The verdict's rule and its reason, row by row: what makes too little data, what an edge needs (the
family-wise adjusted signals p-value and a portfolio at least as good as its median random timing),
and that the reason names the figures a trader needs. Fast tier: no warehouse."""

from __future__ import annotations

import pytest

from signal_stats.settings import ScorecardSettings
from signal_stats.verdict import EDGE, INSUFFICIENT_DATA, NO_EDGE, random_timing_span, verdict
from warehouse_core.project import project_vars

SETTINGS = ScorecardSettings.from_vars(project_vars())
JUDGED = {
    "signals": 1040,
    "trading_days": 1260,
    "trades": 120,
    "invested_days": 700,
    "timed_signals": 1040,
    "decisions": None,
    "ok_count": None,
    "hit_rate": 0.60,
    "random_timing_hit_rate": 0.50,
    "signal_timing_p_value": 0.0005,
    "signal_timing_adjusted_p_value": 0.002,
    "random_timing_family_size": 6,
    "minimum_detectable_effect": 0.04,
    "portfolio_mean_return": 0.12,
    "random_timing_mean_return": 0.06,
    "portfolio_timing_p_value": 0.03,
}


def test_signals_beating_random_timing_and_a_portfolio_above_its_median_is_an_edge() -> None:
    found, reason = verdict(JUDGED, SETTINGS)
    assert found == EDGE
    assert "60.0 %" in reason and "50.0 %" in reason and "0.002 adjusted for 6 strategies" in reason
    assert "12.0 %/yr" in reason and "6.0 %/yr" in reason


def test_the_adjusted_p_value_decides_not_the_raw_one() -> None:
    found, reason = verdict(JUDGED | {"signal_timing_p_value": 0.01, "signal_timing_adjusted_p_value": 0.08}, SETTINGS)
    assert found == NO_EDGE
    assert reason.startswith("luck explains it")
    assert "0.08 adjusted for 6 strategies" in reason and "4.0 hit-rate points" in reason


def test_a_portfolio_worse_than_its_median_random_timing_is_no_edge_and_says_so() -> None:
    found, reason = verdict(JUDGED | {"portfolio_timing_p_value": 0.62}, SETTINGS)
    assert found == NO_EDGE and "does not survive trading" in reason
    found, reason = verdict(JUDGED | {"portfolio_timing_p_value": 1.0}, SETTINGS)
    assert found == NO_EDGE and "never sells" in reason


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"trading_days": None}, "no backtest portfolio rows"),
        ({"signals": 12}, "12 decided signals < 30 (scorecard_min_signals)"),
        ({"trades": 3}, "3 trades < 10 (scorecard_min_trades)"),
        ({"invested_days": 0}, "0 days invested < 60 (scorecard_min_invested_days)"),
        ({"timed_signals": 0}, f"random timing needs {random_timing_span(SETTINGS)} days"),
        ({"portfolio_timing_p_value": None}, "portfolio window is too short"),
        ({"decisions": 48, "ok_count": 0, "trading_days": None}, "0 of 48 LLM decisions ok"),
    ],
)
def test_too_little_data_is_insufficient_and_names_what_is_missing(change: dict, says: str) -> None:
    found, reason = verdict(JUDGED | change, SETTINGS)
    assert found == INSUFFICIENT_DATA
    assert says in reason


def test_the_span_random_timing_needs_follows_the_vars() -> None:
    # 252-day lookback + 20-day horizon = 5 blocks of 60 a decision may have seen: 2 x 6 blocks
    assert random_timing_span(SETTINGS) == 720
