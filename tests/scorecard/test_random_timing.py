"""The random-timing tests and the family-wise adjustment against brute-force references on tiny
cases: every permutation of a few blocks enumerated by hand, each draw's statistic recomputed day by
day, the stepdown recomputed from its definition. No warehouse, no model: the fast tier."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from signal_stats.family import minimum_detectable_effect, stepdown_p_values, studentise
from signal_stats.random_timing import (
    Permutations,
    PortfolioBook,
    block_layout,
    block_permutations,
    blocks_before,
    portfolio_mean_draws,
    signal_hit_draws,
    upper_p_value,
)

BLOCK_DAYS, LOOKBACK, HORIZON = 2, 1, 1  # before = 1 block: a decision may have seen the block before its own
BEFORE = blocks_before(BLOCK_DAYS, LOOKBACK, HORIZON)


def tiny_surface(seed: int = 3, tickers: int = 2, days: int = 12) -> np.ndarray:
    rng = np.random.default_rng(seed)
    forward = rng.normal(0, 0.05, (tickers, days))
    return np.stack([forward > 0, forward < 0, np.abs(forward) <= 0.02])


def brute_force_hit_rate(signals: list[tuple[int, int, int]], surface: np.ndarray, order: tuple[int, ...]) -> float:
    """Hit rate of (ticker, day, action) signals when block k meets block order[k]'s outcomes, a block
    whose partner is the one just before it (which it could have seen) left out; by hand, signal by
    signal. Every ticker spans days 0..7 here: 4 blocks of 2 days, nothing left over."""
    hits = kept = 0
    for ticker, day, action in signals:
        block, day_in_block = divmod(day, BLOCK_DAYS)
        partner = order[block]
        if block - BEFORE <= partner < block:
            continue
        hits += bool(surface[action, ticker, partner * BLOCK_DAYS + day_in_block])
        kept += 1
    return hits / kept


SIGNALS = [(0, 0, 0), (0, 1, 2), (0, 3, 0), (0, 4, 1), (0, 7, 0), (1, 0, 1), (1, 2, 0), (1, 5, 2), (1, 6, 1), (1, 7, 0)]


def test_every_draw_equals_the_brute_force_statistic_of_its_permutation() -> None:
    surface = tiny_surface()
    tickers, days, actions = (np.array(column) for column in zip(*SIGNALS, strict=True))
    permutations = Permutations(draws=500, seed=11)
    found = signal_hit_draws(tickers, days, actions, surface, BLOCK_DAYS, BEFORE, permutations)
    assert block_layout(8, BLOCK_DAYS) == (4, 2)
    partners = permutations(4)
    for draw in range(500):
        assert found.draws[draw] == pytest.approx(brute_force_hit_rate(SIGNALS, surface, tuple(partners[draw])))
    assert found.observed == pytest.approx(np.mean([surface[a, t, d] for t, d, a in SIGNALS]))
    assert found.tested == len(SIGNALS)


def test_the_p_value_converges_to_the_enumeration_of_every_permutation() -> None:
    surface = tiny_surface(seed=5)
    tickers, days, actions = (np.array(column) for column in zip(*SIGNALS, strict=True))
    observed = float(np.mean([surface[a, t, d] for t, d, a in SIGNALS]))
    every = [brute_force_hit_rate(SIGNALS, surface, order) for order in itertools.permutations(range(4))]
    exact = np.mean([value >= observed - 1e-12 for value in every])  # P(T_pi >= T_obs), pi uniform
    draws = 40_000
    found = signal_hit_draws(tickers, days, actions, surface, BLOCK_DAYS, BEFORE, Permutations(draws, seed=1))
    p = upper_p_value(found.observed, found.draws)
    assert abs(p - (1 + draws * exact) / (draws + 1)) < 4 * np.sqrt(exact * (1 - exact) / draws) + 1e-9


def test_permutations_are_uniform_seeded_and_shared_by_spans_of_one_length() -> None:
    first, again, other = (
        block_permutations(6, 2000, 42),
        block_permutations(6, 2000, 42),
        block_permutations(6, 2000, 7),
    )
    assert (np.sort(first, axis=1) == np.arange(6)).all(), "every draw is a permutation"
    assert (first == again).all() and not (first == other).all()
    share_fixed = (first == np.arange(6)).mean()
    assert share_fixed == pytest.approx(1 / 6, abs=0.02), "uniform: each block keeps its own partner 1 time in 6"


def test_a_span_too_short_to_time_keeps_its_outcomes_and_is_not_counted() -> None:
    surface = tiny_surface()
    found = signal_hit_draws(
        np.array([0, 0]), np.array([0, 5]), np.array([0, 1]), surface, BLOCK_DAYS, BEFORE, Permutations(100, 1)
    )
    assert found.tested == 0  # 6 days = 3 blocks < 2 x (1 + 1)
    assert (found.draws == found.observed).all()
    assert upper_p_value(found.observed, found.draws) == 1.0


def brute_force_portfolio_mean(book: PortfolioBook, order: tuple[int, ...]) -> float:
    """Mean daily return with each ticker's returns reordered block by block, rebuilt day by day
    from the rule: equal weight over the tickers in the market, capped, cost on weight changes."""
    days, tickers = book.positions.shape
    moved = np.empty_like(book.returns)
    for day in range(days):
        block, day_in_block = divmod(day, BLOCK_DAYS)
        moved[day] = book.returns[order[block] * BLOCK_DAYS + day_in_block]
    total, previous = 0.0, [0.0] * tickers
    for day in range(days):
        in_market = sum(book.positions[day] != 0)
        weights = [np.sign(p) * min(1 / in_market, book.caps[day]) if p else 0.0 for p in book.positions[day]]
        total += sum(w * r for w, r in zip(weights, moved[day], strict=True))
        total += (1 - sum(abs(w) for w in weights)) * book.daily_risk_free_rate
        total -= book.cost_rate * sum(abs(w - q) for w, q in zip(weights, previous, strict=True))
        previous = weights
    return total / days


def tiny_book(positions: list[list[float]]) -> PortfolioBook:
    days = len(positions)
    returns = np.random.default_rng(9).normal(0.001, 0.02, (days, 2))
    return PortfolioBook(
        positions=np.array(positions, dtype=float),
        returns=returns,
        in_window=np.ones((days, 2), dtype=bool),
        caps=np.array([0.5, 0.5, 0.4, 0.4, 0.5, 0.5, 0.5, 0.3]),
        daily_risk_free_rate=0.0001,
        cost_rate=0.0005,
    )


def test_every_portfolio_draw_equals_a_day_by_day_rebuild_of_its_permutation() -> None:
    book = tiny_book([[1, 0], [1, 1], [0, 1], [0, 1], [1, 1], [1, 0], [0, 0], [1, 1]])
    permutations = Permutations(draws=300, seed=4)
    found = portfolio_mean_draws(book, BLOCK_DAYS, BEFORE, permutations)
    assert found.observed == pytest.approx(brute_force_portfolio_mean(book, (0, 1, 2, 3)), rel=1e-12)
    assert found.observed == pytest.approx(book.daily_returns().mean(), rel=1e-12)
    partners = permutations(4)
    for draw in range(300):
        assert found.draws[draw] == pytest.approx(brute_force_portfolio_mean(book, tuple(partners[draw])), rel=1e-12)


def test_weights_that_never_change_score_the_same_in_every_draw() -> None:
    book = tiny_book([[1, 1]] * 8)
    sized_by_the_risk_stage = portfolio_mean_draws(book, BLOCK_DAYS, BEFORE, Permutations(500, 2))
    assert np.ptp(sized_by_the_risk_stage.draws) > 0, "caps that change over time are timing too"
    book = PortfolioBook(**{**book.__dict__, "caps": np.full(8, 0.5)})
    found = portfolio_mean_draws(book, BLOCK_DAYS, BEFORE, Permutations(500, 2))
    assert np.ptp(found.draws) < 1e-15
    assert upper_p_value(found.observed, found.draws) == 1.0


def direct_stepdown(observed: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Romano and Wolf (2005), Algorithm 4.1, written out: reject in order of z; the j-th p-value is
    the share of draws whose max over the not-yet-rejected hypotheses reaches z_j, never below the one
    before it."""
    order = sorted(range(observed.size), key=lambda j: -observed[j])
    result, floor = {}, 0.0
    for step, j in enumerate(order):
        remaining = order[step:]
        count = sum(1 for b in range(draws.shape[0]) if max(draws[b, i] for i in remaining) >= observed[j])
        floor = max(floor, (1 + count) / (draws.shape[0] + 1))
        result[j] = floor
    return np.array([result[j] for j in range(observed.size)])


def test_stepdown_matches_its_definition_and_the_single_step_max_statistic() -> None:
    rng = np.random.default_rng(0)
    draws = rng.standard_normal((400, 5))
    draws[:, 1] = draws[:, 0] + 0.1 * rng.standard_normal(400)  # a near-twin of strategy 0
    observed = np.array([2.9, 2.7, 0.3, 1.8, -1.0])
    adjusted = stepdown_p_values(observed, draws)
    assert adjusted == pytest.approx(direct_stepdown(observed, draws))
    single_step = np.array([(1 + (draws.max(axis=1) >= z).sum()) / 401 for z in observed])
    raw = np.array([(1 + (draws[:, j] >= observed[j]).sum()) / 401 for j in range(5)])
    assert adjusted[0] == pytest.approx(single_step[0]), "the best strategy faces the max over all"
    assert (adjusted <= single_step + 1e-12).all() and (adjusted >= raw - 1e-12).all()


def test_a_duplicate_strategy_costs_no_power() -> None:
    rng = np.random.default_rng(1)
    alone = rng.standard_normal((1000, 1))
    twice = np.hstack([alone, alone])
    assert stepdown_p_values(np.array([2.5]), alone)[0] == stepdown_p_values(np.array([2.5, 2.5]), twice)[0]


def test_studentising_a_constant_null_gives_none_and_the_detectable_effect_scales_with_its_spread() -> None:
    assert studentise(0.5, np.full(100, 0.5)) is None
    draws = np.random.default_rng(2).normal(0.5, 0.02, 5000)
    found = studentise(0.56, draws)
    assert found.observed == pytest.approx(3.0, abs=0.15)
    assert minimum_detectable_effect(found.scale, 1.645, 0.8) == pytest.approx(0.02 * (1.645 + 0.8416), rel=0.05)
