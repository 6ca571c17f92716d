"""The paired memorisation test: does a model answer better when it can see which asset and which
period it is asked about?

With the memorisation check (var ``llm_memorization_check``) every model answers each (ticker,
decision date) twice: named (``llm:<model>``) and blind (``llm:<model>:blind``: nothing in the
prompt identifies the asset or the period). A model that remembers how the story ended can use that
memory only when it sees the name and the date, so its named answers beat its blind answers on the
same decisions; a model without memory of the outcome answers both equally well.

The statistic is the one the verdict uses for signals, the hit rate above random timing, taken per
paired decision (both twins decided the same ticker on the same day): each answer's *residual* is its
hit (1 or 0) minus the share of the days of that ticker's paired span on which the same action
would have hit (what the same action scores at a random time, so a twin that only leans to BUY in a
rising market gains nothing). ``gap`` = mean named residual - mean blind residual, in hit-rate points.

The p-value is a paired permutation test: with no memorisation the named and the blind answer of a
decision are exchangeable, so swapping them (flipping the sign of the pair's difference) leaves the
distribution of the gap unchanged. Neighbouring decisions share most of their forward window and a
model's answers repeat, so pairs are swapped together in blocks of ``block_days`` trading days per
ticker (the random-timing test's blocks). One-sided (named better than blind): exact over every
swap when there are few blocks (2^k <= draws), else ``draws`` seeded random swaps, p = (1 + number
of swaps at least as large) / (1 + draws). benchmarks/memorization_calibration.py measures its
false-positive rate and power.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from signal_stats.random_timing import ACTIONS

# the random stream of the swaps: a seed of its own, so adding a model does not move another's draws
SWAP_STREAM = 19


@dataclass(frozen=True)
class MemorizationTest:
    """The paired test of one model: how many decisions both twins decided, the gap, its p-value."""

    pairs: int
    gap: float | None
    p_value: float | None


def action_hit_shares(hits: np.ndarray, first_day: int, last_day: int) -> np.ndarray:
    """Share of the days first_day..last_day on which each action hit, for one ticker: ``hits`` is
    (actions, days) bool (signal_stats.timing_tests.OutcomeSurface for that ticker)."""
    window = hits[:, first_day : last_day + 1]
    return window.mean(axis=1)


def block_sign_flip_p_value(block_sums: np.ndarray, draws: int, seed: int) -> float:
    """P(sum of the block sums with random signs >= the observed sum), one-sided.

    Exact over all 2^k sign patterns of the k non-zero blocks when 2^k <= draws (a zero block does
    not change under a swap), else estimated from ``draws`` seeded patterns with the observed one
    counted in: (1 + count) / (1 + draws)."""
    sums = block_sums[block_sums != 0]
    observed = float(sums.sum())
    if len(sums) == 0:
        return 1.0
    tolerance = 1e-9 * max(1.0, float(np.abs(sums).sum()))
    if 2 ** len(sums) <= draws:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=len(sums))))
        totals = signs @ sums
        return float(np.mean(totals >= observed - tolerance))
    rng = np.random.default_rng([seed, SWAP_STREAM, len(sums)])
    signs = rng.choice(np.array([1.0, -1.0]), size=(draws, len(sums)))
    totals = signs @ sums
    return float((1 + np.sum(totals >= observed - tolerance)) / (1 + draws))


def paired_decisions(named: pd.DataFrame, blind: pd.DataFrame) -> pd.DataFrame:
    """The decisions both twins decided: one row per (ticker, base_day_number) with each twin's
    action (a twin with two actions on one day, which the LLM stage never writes, is left out)."""
    keys = ["ticker", "base_day_number"]
    once = [rows.drop_duplicates(keys, keep=False)[[*keys, "action"]] for rows in (named, blind)]
    return once[0].merge(once[1], on=keys, suffixes=("_named", "_blind"))


def excess_hits(rows: pd.DataFrame, action_column: str, hits: np.ndarray, ticker_rows: dict[str, int]) -> np.ndarray:
    """Per row (columns ticker, base_day_number and the action): its hit (1 or 0) minus the share of
    the days of the rows' span on that ticker (first to last base day) on which the same action hit:
    the hit rate above what the action scores at a random time. ``hits`` is the (actions, tickers,
    days) outcome surface (signal_stats.timing_tests.OutcomeSurface)."""
    excess = np.zeros(len(rows))
    positions = pd.RangeIndex(len(rows))
    for ticker, group in rows.reset_index(drop=True).groupby("ticker", sort=False):
        surface = hits[:, ticker_rows[ticker], :]
        days = group["base_day_number"].to_numpy(dtype=np.int64)
        actions = group[action_column].map(ACTIONS.index).to_numpy(dtype=np.int64)
        shares = action_hit_shares(surface, int(days.min()), int(days.max()))
        excess[positions.get_indexer(group.index)] = surface[actions, days].astype(float) - shares[actions]
    return excess


def memorization_test(
    named: pd.DataFrame,
    blind: pd.DataFrame,
    hits: np.ndarray,
    ticker_rows: dict[str, int],
    block_days: int,
    draws: int,
    seed: int,
) -> MemorizationTest:
    """The paired test over the decided signals of a model's two twins (columns ticker,
    base_day_number, action; the decided rows of int_signal_outcomes)."""
    pairs = paired_decisions(named, blind).reset_index(drop=True)
    if pairs.empty:
        return MemorizationTest(0, None, None)
    differences = excess_hits(pairs, "action_named", hits, ticker_rows) - excess_hits(
        pairs, "action_blind", hits, ticker_rows
    )
    blocks = pairs["ticker"] + ":" + (pairs["base_day_number"] // block_days).astype(str)
    block_sums = pd.Series(differences).groupby(blocks.to_numpy(), sort=True).sum().to_numpy()
    return MemorizationTest(
        pairs=len(pairs),
        gap=float(differences.mean()),
        p_value=block_sign_flip_p_value(block_sums, draws, seed),
    )
