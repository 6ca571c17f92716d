"""The paired memorisation test against brute force on tiny cases, and the scorecard columns it
feeds (signal_stats.memorization, signal_stats.model_checks). No warehouse, no model: the fast tier.
The test through dbt, with a model that answers from the future only when it sees the name, is
tests/llm/test_memorization_verdict.py."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from signal_stats.memorization import block_sign_flip_p_value, excess_hits, memorization_test
from signal_stats.model_checks import check_notes, memorization_figures, memorization_passed
from signal_stats.random_timing import ACTIONS
from signal_stats.settings import ScorecardSettings
from signal_stats.timing_tests import OutcomeSurface
from warehouse_core.project import project_vars

SETTINGS = ScorecardSettings.from_vars(project_vars())


def brute_force_p_value(differences: np.ndarray, blocks: np.ndarray) -> float:
    """Every way of swapping the named and blind answers block by block, the gap of each counted."""
    labels = sorted(set(blocks))
    observed = differences.sum()
    at_least = 0
    patterns = list(itertools.product((1, -1), repeat=len(labels)))
    for signs in patterns:
        flip = np.array([signs[labels.index(b)] for b in blocks])
        at_least += (flip * differences).sum() >= observed - 1e-12
    return at_least / len(patterns)


def test_the_swap_p_value_is_the_share_of_block_swaps_with_a_gap_at_least_as_large() -> None:
    rng = np.random.default_rng(5)
    differences = rng.choice([-1.0, 0.0, 0.3, 1.0], size=23)
    blocks = rng.integers(0, 7, size=23)
    sums = pd.Series(differences).groupby(blocks).sum().to_numpy()
    assert block_sign_flip_p_value(sums, draws=2000, seed=1) == pytest.approx(brute_force_p_value(differences, blocks))


def test_with_many_blocks_the_seeded_swaps_estimate_the_exact_p_value() -> None:
    rng = np.random.default_rng(8)
    sums = rng.normal(0.4, 1.0, size=14)  # 2^14 patterns > 2000 draws: estimated
    exact = brute_force_p_value(sums, np.arange(14))
    estimate = block_sign_flip_p_value(sums, draws=2000, seed=1)
    assert abs(estimate - exact) < 4 * np.sqrt(exact * (1 - exact) / 2000) + 1 / 2000
    assert estimate == block_sign_flip_p_value(sums, draws=2000, seed=1)  # seeded: a rerun is identical


def tiny_surface() -> tuple[np.ndarray, dict[str, int]]:
    """2 tickers x 10 days; BUY hits on even days, SELL on odd days, HOLD never (hand-checkable)."""
    hits = np.zeros((3, 2, 10), dtype=bool)
    hits[ACTIONS.index("BUY"), :, 0::2] = True
    hits[ACTIONS.index("SELL"), :, 1::2] = True
    return hits, {"A": 0, "B": 1}


def decided(rows: list[tuple[str, int, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["ticker", "base_day_number", "action"])


def test_excess_hits_subtract_what_the_action_scores_on_a_random_day_of_the_span() -> None:
    hits, tickers = tiny_surface()
    rows = decided([("A", 2, "BUY"), ("A", 5, "BUY"), ("A", 4, "SELL")])  # span days 2..5: BUY hits 2 of 4
    assert excess_hits(rows, "action", hits, tickers).tolist() == [0.5, -0.5, -0.5]


def test_a_model_right_only_when_named_has_a_positive_gap_on_the_pairs_both_decided() -> None:
    hits, tickers = tiny_surface()
    days = range(10)
    named = decided([("A", d, "BUY" if d % 2 == 0 else "SELL") for d in days])  # always right
    blind = decided([("A", d, "BUY") for d in days] + [("B", 3, "SELL")])  # right half the time; B unpaired
    test = memorization_test(named, blind, hits, tickers, block_days=2, draws=2000, seed=1)
    assert test.pairs == 10
    # named: every hit, both actions score 1/2 at random -> +0.5 each; blind: +0.5 / -0.5 alternately
    assert test.gap == pytest.approx(0.5)
    # blocks of 2 days each hold one right and one wrong blind answer: difference 0 + 1 = 1 per block,
    # 5 blocks, only all-positive signs reach 5: p = 1/32
    assert test.p_value == pytest.approx(1 / 32)


def test_the_same_answers_named_and_blind_give_gap_zero_and_p_one() -> None:
    hits, tickers = tiny_surface()
    answers = decided([("A", d, "BUY") for d in range(10)] + [("B", d, "SELL") for d in range(4)])
    test = memorization_test(answers, answers.copy(), hits, tickers, block_days=2, draws=2000, seed=1)
    assert (test.pairs, test.gap, test.p_value) == (14, 0.0, 1.0)


def test_no_paired_decision_gives_no_gap() -> None:
    hits, tickers = tiny_surface()
    test = memorization_test(decided([("A", 1, "BUY")]), decided([("B", 1, "BUY")]), hits, tickers, 2, 2000, 1)
    assert (test.pairs, test.gap, test.p_value) == (0, None, None)


def scorecard_rows(blind_verdict: str, p_value: float | None, pairs: int = 100) -> pd.DataFrame:
    """The rows of one model with both twins, the un-sized twin, and a rule baseline."""
    strategies = ["buy_and_hold", "llm:m", "llm:m:blind", "llm:m:no_risk"]
    return pd.DataFrame(
        {
            "strategy": strategies,
            "signals_from": ["buy_and_hold", "llm:m", "llm:m:blind", "llm:m"],
            "verdict": ["no_edge", "edge", blind_verdict, "edge"],
            "memorization_pairs": [None, pairs, pairs, pairs],
            "memorization_gap": [None, 0.12, 0.12, 0.12],
            "memorization_p_value": [None, p_value, p_value, p_value],
        }
    )


@pytest.mark.parametrize(
    ("blind_verdict", "p_value", "passed"),
    [("edge", 0.4, True), ("no_edge", 0.4, False), ("edge", 0.01, False), ("insufficient_data", 0.4, False)],
)
def test_the_check_passes_only_when_the_blind_twin_shows_an_edge_and_the_gap_is_not_significant(
    blind_verdict: str, p_value: float, passed: bool
) -> None:
    frame = scorecard_rows(blind_verdict, p_value)
    # the named twin and its un-sized twin trade the named signals; the blind row and a baseline: null
    assert memorization_passed(frame, SETTINGS).tolist() == [None, passed, None, passed]


def test_without_a_blind_twin_the_check_is_null_everywhere() -> None:
    frame = scorecard_rows("edge", 0.4)
    frame = frame[frame["strategy"] != "llm:m:blind"]
    assert memorization_passed(frame, SETTINGS).isna().all()


def test_the_reason_says_why_the_check_failed() -> None:
    frame = scorecard_rows("no_edge", 0.01)
    frame["memorization_check_passed"] = memorization_passed(frame, SETTINGS)
    named = frame.set_index("strategy").loc["llm:m"].to_dict() | {"recalls": None}
    [note] = check_notes(named, "no_edge", SETTINGS)
    assert note.startswith("memorisation check failed: named answers +12.0 hit-rate points")
    assert "100 paired decisions (p 0.01)" in note and "memory of what happened next" in note
    frame = scorecard_rows("no_edge", 0.4)
    frame["memorization_check_passed"] = memorization_passed(frame, SETTINGS)
    [note] = check_notes(frame.set_index("strategy").loc["llm:m"].to_dict(), "no_edge", SETTINGS)
    assert "its blind twin, asked without the name or the dates, is no_edge" in note
    assert note.endswith("the edge may be memory, not skill")


def test_a_blind_twin_without_one_decided_signal_fails_the_check_with_zero_pairs() -> None:
    """The blind twin answered nothing valid (it has a row from the LLM health only): the check ran,
    nothing could be compared, so it is not passed, and the reason says why."""
    hits, tickers = tiny_surface()
    frame = scorecard_rows("insufficient_data", None)[["strategy", "signals_from", "verdict"]]
    decided = pd.DataFrame({"strategy": "llm:m", "ticker": "A", "base_day_number": range(4), "action": "BUY"})
    surface = OutcomeSurface(hits, tickers)
    frame = memorization_figures(frame, decided, surface, SETTINGS)
    pairs = frame.set_index("strategy")["memorization_pairs"]
    assert pd.isna(pairs["buy_and_hold"]) and pairs.drop("buy_and_hold").tolist() == [0, 0, 0]
    frame["memorization_check_passed"] = memorization_passed(frame, SETTINGS)
    row = frame.set_index("strategy").loc["llm:m"].to_dict()
    assert row["memorization_check_passed"] is False
    assert check_notes(row, "insufficient_data", SETTINGS) == [
        "memorisation check failed: no decision was decided by both the named and the blind twin"
    ]
