"""The recall statistics of mart_model_recall (signal_stats.recall) on fixed inputs: against scipy,
against a brute-force enumeration, and the permutation p-value's false-positive rate under noise."""

from __future__ import annotations

import itertools
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from signal_stats.recall import (
    POOLED_TICKER,
    RecallSettings,
    permutation_p_value,
    recall_table,
    right_sign_share,
    spearman,
)

RECALLED = np.array([0.05, -0.02, 0.01, 0.01, 0.12, -0.07, 0.0, 0.03])
ACTUAL = np.array([0.04, -0.01, 0.02, -0.03, 0.09, -0.05, 0.01, 0.01])
SETTINGS = RecallSettings(permutations=2000, significance=0.05, seed=42)


def test_spearman_and_sign_share_match_scipy_and_hand_counts() -> None:
    assert spearman(RECALLED, ACTUAL) == pytest.approx(stats.spearmanr(RECALLED, ACTUAL).statistic, abs=1e-12)
    tied = np.array([1.0, 1.0, 2.0, 3.0, 3.0, 3.0])
    other = np.array([2.0, 1.0, 1.0, 5.0, 4.0, 6.0])
    assert spearman(tied, other) == pytest.approx(stats.spearmanr(tied, other).statistic, abs=1e-12)
    assert spearman(np.ones(5), np.arange(5.0)) is None, "a constant answer carries no ranking"
    assert spearman(np.array([1.0, 2.0]), np.array([2.0, 1.0])) is None
    # signs: 0.01 vs -0.03 wrong, 0.0 vs 0.01 wrong (0 is its own sign), the other six right
    assert right_sign_share(RECALLED, ACTUAL) == pytest.approx(6 / 8)


def test_permutation_p_value_matches_the_exact_permutation_test() -> None:
    """Exact: scipy's Spearman over all 7! = 5040 orders of the recalled returns."""
    recalled, actual = RECALLED[:7], ACTUAL[:7]
    observed = stats.spearmanr(recalled, actual).statistic
    orders = list(itertools.permutations(range(7)))
    exact = sum(stats.spearmanr(recalled[list(o)], actual).statistic >= observed - 1e-12 for o in orders) / len(orders)
    assert 0 < exact < 0.05
    monte_carlo = permutation_p_value(recalled, actual, [0] * 7, 20000, [7])
    assert monte_carlo == pytest.approx(exact, abs=0.005)  # 3 standard errors of 20 000 draws at p ~ 0.013


def test_the_pooled_p_value_shuffles_within_tickers_only() -> None:
    """Brute force: every arrangement of the recalled returns within each of two tickers (3! x 3! = 36)."""
    recalled, actual = np.array([3.0, 1.0, 2.0, 10.0, 30.0, 20.0]), np.array([3.0, 2.0, 1.0, 5.0, 6.0, 4.0])
    groups = ["A", "A", "A", "B", "B", "B"]
    observed = stats.spearmanr(recalled, actual).statistic
    arrangements = [
        np.concatenate([recalled[:3][list(a)], recalled[3:][list(b)]])
        for a in itertools.permutations(range(3))
        for b in itertools.permutations(range(3))
    ]
    reaching = sum(stats.spearmanr(x, actual).statistic >= observed - 1e-12 for x in arrangements)
    exact = reaching / len(arrangements)
    assert exact == pytest.approx(1 / 36 * reaching) and reaching < 36
    assert permutation_p_value(recalled, actual, groups, 20000, [3]) == pytest.approx(exact, abs=0.01)
    pooled_unrestricted = permutation_p_value(recalled, actual, [0] * 6, 20000, [3])
    assert pooled_unrestricted < exact, "shuffling across tickers would break the per-ticker level difference"


def test_the_p_value_is_seeded_and_counts_the_observed_arrangement() -> None:
    first = permutation_p_value(RECALLED, ACTUAL, [0] * 8, 500, [42, 1])
    assert first == permutation_p_value(RECALLED, ACTUAL, [0] * 8, 500, [42, 1])
    perfect = permutation_p_value(ACTUAL, ACTUAL, [0] * 8, 500, [42, 1])
    assert 1 / 501 <= perfect < 0.01, "never 0: the observed arrangement counts as one of the shuffles"


def test_false_positive_rate_under_noise_is_the_significance_level() -> None:
    """1000 models that know nothing (11 months of noise each, as one ticker of the default window):
    about 5 % get p < 0.05. Binomial(1000, 0.05) lies in [30, 70] with probability > 0.999."""
    rng = np.random.default_rng(2024)
    actual = rng.normal(0.01, 0.07, size=11)
    p_values = [
        permutation_p_value(rng.normal(0, 0.05, size=11), actual, [0] * 11, 500, [draw]) for draw in range(1000)
    ]
    assert 30 <= sum(p < 0.05 for p in p_values) <= 70


def probes(recalled: dict[str, list[float | None]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    months = pd.DataFrame(
        [
            {"ticker": ticker, "month": pd.Timestamp(date(2012, 1 + i, 1)), "actual_return": ACTUAL[i] + 0.001 * j}
            for j, ticker in enumerate(recalled)
            for i in range(8)
        ]
    )
    answers = pd.DataFrame(
        [
            {
                "model": "m:1b",
                "ticker": ticker,
                "month": pd.Timestamp(date(2012, 1 + i, 1)),
                "status": "ok" if value is not None else "invalid_output",
                "recalled_return": value,
            }
            for ticker, values in recalled.items()
            for i, value in enumerate(values)
        ]
    )
    return answers, months


def test_recall_table_has_a_row_per_ticker_and_a_pooled_row() -> None:
    answers, months = probes({"AAA": list(ACTUAL), "BBB": [*RECALLED[:7], None]})
    table = recall_table(answers, months, SETTINGS).set_index("ticker")
    assert list(table.index) == ["AAA", "BBB", POOLED_TICKER]
    assert list(table["probes"]) == [8, 8, 16] and list(table["answered"]) == [8, 7, 15]
    assert table.loc["AAA", "spearman_correlation"] == pytest.approx(1.0)
    assert table.loc["AAA", "recalls"] and table.loc["AAA", "p_value"] < 0.01
    bbb = answers[answers["ticker"] == "BBB"].dropna(subset=["recalled_return"]).merge(months, on=["ticker", "month"])
    assert table.loc["BBB", "spearman_correlation"] == pytest.approx(
        stats.spearmanr(bbb["recalled_return"], bbb["actual_return"]).statistic
    )
    assert table.loc["BBB", "actual_up_share"] == pytest.approx(np.mean(bbb["actual_return"] > 0))
    assert table.loc[POOLED_TICKER, "recalls"]
    empty = recall_table(answers.iloc[0:0], months, SETTINGS)
    assert empty.empty and list(empty.columns)[:2] == ["model", "ticker"]
