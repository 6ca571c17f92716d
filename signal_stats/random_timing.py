"""Could the strategy's timing be luck? Random-timing tests of its signals and of its portfolio.

H0: the strategy's decisions carry no information about what follows them. Under H0 the market's
outcomes do not care *when* the strategy said what it said, so the same decisions met with the
market's outcomes of other times should do as well as they did where they were. The test keeps all
of the strategy (its decisions untouched: action mix, how sticky they are, holding periods,
exposure, turnover, costs) and all of the market's outcomes (the same forward returns and daily
returns, in blocks that keep their own dependence), and breaks only their alignment (Aronson 2006,
Masters 2006 and 2020: "random timing"), then asks how often the broken alignments do as well.

**The draw: a block permutation of the market's outcomes.** Inside a span (per strategy and ticker:
for the signals, from its first to its last decided signal; for the portfolio, its backtest
window), the trading days are cut into consecutive blocks of one length near ``block_days`` and the
blocks are permuted uniformly at random: a decision on day o of block k meets the outcome of day o
of block pi(k) (the few days left over at the span's end keep their own). Every ticker whose span
has as many blocks gets the same permutation (so "long AAPL and MSFT together" still meets one
market), and every strategy is scored on the same draws (so the family-wise adjustment sees their
joint null). Blocks of three horizons keep the outcomes' own dependence (20-day forward returns
overlap their neighbours) nearly intact.

**Never an outcome the decision could have seen.** A decision reads the past: a moving average, the
drawdown from a 252-day high, the closes an LLM is shown. Met with an outcome from that past, it
meets returns it reacted to, and a contrarian rule without any skill looks worse moved than where it
is (the finite-sample bias of a predictor that responds to past returns, as in Stambaugh 1999): it
was called significant 11-13 % of the time at a nominal 5 % in simulation. So the signals test
leaves out of each draw the blocks whose partner lies within ``before`` blocks before them (the
lookback plus the horizon): its statistic is the hit rate over the pairs it keeps. The permutations
themselves stay uniform: forbidding those partners instead, or shifting the decisions circularly,
leaves the draws less like the real alignment than like each other, and sticky no-skill strategies
were then called significant 6-13 % of the time (benchmarks/verdict_calibration.py; docs/scorecard.md
has the comparison).

The portfolio test keeps every pair: a permutation then reorders the same daily returns, so a
position that never changes scores the same in every draw (p = 1: nothing to time). A contrarian
portfolio may look a little better than its random timings; the verdict needs the signals test too,
whose false-positive rate bounds the verdict's.

**Testable spans.** A span needs at least ``2 * (before + 1)`` blocks, so every block keeps a
partner in most draws; a shorter span's decisions stay with their own outcomes (they add the same
to every draw) and a strategy none of whose spans is testable gets no p-value.

**p-values** are one-sided Monte Carlo p-values, p = (1 + #{T_b >= T_obs}) / (B + 1), ties counted
against the strategy; never 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

ACTIONS = ("BUY", "SELL", "HOLD")
"""Row order of the outcome surface: surface[ACTIONS.index(action), ticker, day]."""


def blocks_before(block_days: int, lookback_days: int, horizon_days: int) -> int:
    """How many blocks before a decision's block may hold outcomes it could have seen: its lookback
    plus the outcome's own horizon, in blocks, rounded up."""
    return math.ceil((lookback_days + horizon_days) / block_days)


def block_layout(span: int, block_days: int) -> tuple[int, int]:
    """(blocks, length): round(span / block_days) (at least 1) consecutive blocks of one length,
    span // blocks days each, from the span's first day; the < blocks days left at its end stay with
    their own outcomes, so every draw is a one-to-one reordering of the outcomes it moves."""
    blocks = max(1, round(span / block_days))
    return blocks, span // blocks


def testable_blocks(blocks: int, before: int) -> bool:
    """Whether a span of ``blocks`` blocks leaves every block more partners than it may have seen."""
    return blocks >= 2 * (before + 1)


def block_permutations(blocks: int, draws: int, seed: int) -> np.ndarray:
    """(draws, blocks) uniform random permutations, seeded by (seed, blocks): every span of the same
    length gets the same draws, in every strategy and on every run."""
    rng = np.random.default_rng([seed, blocks])
    return np.argsort(rng.random((draws, blocks)), axis=1, kind="stable")


@dataclass
class Permutations:
    """Every span length's ``draws`` permutations, each made once (block_permutations)."""

    draws: int
    seed: int
    made: dict[int, np.ndarray] = field(default_factory=dict)

    def __call__(self, blocks: int) -> np.ndarray:
        if blocks not in self.made:
            self.made[blocks] = block_permutations(blocks, self.draws, self.seed)
        return self.made[blocks]


def seen_partners(partners: np.ndarray, before: int) -> np.ndarray:
    """(draws, blocks) bool: block k's partner lies in the ``before`` blocks before it, whose outcomes
    k's decisions could have seen."""
    source = np.arange(partners.shape[1])[None, :]
    return (partners < source) & (partners >= source - before)


def upper_p_value(observed: float, draws: np.ndarray) -> float:
    """(1 + #{draws >= observed}) / (B + 1); a draw within 1e-12 (relative) of observed is a tie,
    counted against the strategy (sums of the same numbers in another order differ in the last bit)."""
    tolerance = 1e-12 * max(1.0, abs(observed))
    return float((1 + np.count_nonzero(draws >= observed - tolerance)) / (draws.size + 1))


@dataclass(frozen=True)
class TimingDraws:
    """One strategy's statistic where it is, and in every draw."""

    observed: float
    draws: np.ndarray
    """(B,) the statistic of each draw."""
    tested: int
    """How many of its decisions (signals, or position days) lie in testable spans."""


@dataclass(frozen=True)
class SignalSpan:
    """One ticker's decided signals of a strategy: pairs[k, j] = hits of block k's signals with block
    j's outcomes; counts[k] = block k's signals; fixed = hits and signals that stay where they are."""

    pairs: np.ndarray
    counts: np.ndarray
    fixed_hits: float
    fixed_signals: int


def signal_span(days: np.ndarray, actions: np.ndarray, hits: np.ndarray, block_days: int, before: int) -> SignalSpan:
    """The block pairing of one ticker's signals. ``hits``: (3, days) whether each action would hit
    on each of the ticker's days (a row of int_forward_outcomes' surface)."""
    first = int(days.min())
    blocks, length = block_layout(int(days.max()) - first + 1, block_days)
    offsets = days - first
    moving = offsets < blocks * length
    if not testable_blocks(blocks, before):
        moving[:] = False
    block, day_in_block = np.divmod(offsets[moving], length)
    met = first + np.arange(blocks)[None, :] * length + day_in_block[:, None]
    pairs = np.zeros((blocks, blocks))
    np.add.at(pairs, block, hits[actions[moving][:, None], met])
    return SignalSpan(
        pairs=pairs,
        counts=np.bincount(block, minlength=blocks).astype(float),
        fixed_hits=float(hits[actions[~moving], days[~moving]].sum()),
        fixed_signals=int((~moving).sum()),
    )


def signal_hit_draws(
    tickers: np.ndarray,
    days: np.ndarray,
    actions: np.ndarray,
    surface: np.ndarray,
    block_days: int,
    before: int,
    permutations: Permutations,
) -> TimingDraws:
    """Hit rate of decided signals with their own outcomes, and with every draw's permuted outcomes.

    ``tickers``, ``days``, ``actions``: one entry per decided signal (ticker row of the surface,
    trading-day column, index into ACTIONS). ``surface``: (3, tickers, days) bool, whether each
    action made at each (ticker, day) would have hit (int_forward_outcomes). A ticker's span runs from
    its first to its last decided signal, so every day in it has a complete horizon. In each draw a
    block whose partner it could have seen (``before``) is left out: the draw's hit rate is over the
    signals it keeps.
    """
    tickers, days, actions = (np.asarray(a, dtype=np.int64) for a in (tickers, days, actions))
    observed = float(surface[actions, tickers, days].mean())
    hits, signals, tested = 0.0, 0.0, 0
    for ticker in np.unique(tickers):
        mine = tickers == ticker
        span = signal_span(days[mine], actions[mine], surface[:, ticker, :], block_days, before)
        hits, signals = hits + span.fixed_hits, signals + span.fixed_signals
        if not span.counts.sum():
            continue
        tested += int(span.counts.sum())
        partners = permutations(span.counts.size)
        kept = ~seen_partners(partners, before)
        source = np.arange(span.counts.size)[None, :]
        hits = hits + (span.pairs[source, partners] * kept).sum(axis=1)
        signals = signals + (span.counts[None, :] * kept).sum(axis=1)
    draws = np.broadcast_to(np.asarray(hits / signals, dtype=float), (permutations.draws,))
    return TimingDraws(observed, np.array(draws), tested)


@dataclass(frozen=True)
class PortfolioBook:
    """One strategy's backtest, as int_backtest_portfolio_daily builds its portfolio.

    ``positions`` and ``returns``: (days, tickers) on the strategy's portfolio calendar, the ticker's
    position (+1 long, 0 flat, -1 short) and its daily return on the days of its backtest window;
    ``in_window``: (days, tickers) bool, whether the ticker is in its window that day (the days of
    its int_backtest_ticker_daily rows); ``caps``: (days,) the position cap in force.
    """

    positions: np.ndarray
    returns: np.ndarray
    in_window: np.ndarray
    caps: np.ndarray
    daily_risk_free_rate: float
    cost_rate: float

    def window_rows(self) -> list[np.ndarray]:
        """Each ticker's window days, as row numbers of the calendar, in order."""
        return [np.flatnonzero(self.in_window[:, ticker]) for ticker in range(self.in_window.shape[1])]

    def weights(self) -> np.ndarray:
        """(days, tickers) weights: equal across the tickers in the market that day, each capped."""
        in_market = np.count_nonzero(self.positions, axis=1)
        size = np.minimum(1.0 / np.maximum(in_market, 1), self.caps)
        return np.sign(self.positions) * size[:, None]

    def fixed_returns(self, weights: np.ndarray) -> np.ndarray:
        """(days,) what a day earns besides its invested return: cash at the risk-free rate minus the
        cost of |change of weight| from the ticker's previous window day (0 before its first)."""
        previous = np.zeros_like(weights)
        for ticker, rows in enumerate(self.window_rows()):
            previous[rows[1:], ticker] = weights[rows[:-1], ticker]
        cash = (1 - np.abs(weights).sum(axis=1)) * self.daily_risk_free_rate
        return cash - self.cost_rate * np.abs(weights - previous).sum(axis=1)

    def daily_returns(self) -> np.ndarray:
        """(days,) the portfolio's daily returns, net of costs: fct_backtest_daily's strategy_return."""
        weights = self.weights()
        return (weights * self.returns).sum(axis=1) + self.fixed_returns(weights)


def portfolio_mean_draws(book: PortfolioBook, block_days: int, before: int, permutations: Permutations) -> TimingDraws:
    """Mean daily portfolio return where it is, and with each ticker's daily returns permuted in
    blocks inside its window (the weights, and so exposure, turnover and costs, stay as they are).
    A block's returns with block j's weights: pairs[k, j] = weights of block k . returns of block j."""
    weights = book.weights()
    fixed = book.fixed_returns(weights).sum()
    invested, tested = 0.0, 0
    for ticker, rows in enumerate(book.window_rows()):
        own_weights, own_returns = weights[rows, ticker], book.returns[rows, ticker]
        blocks, length = block_layout(rows.size, block_days)
        cut = blocks * length if testable_blocks(blocks, before) and own_weights.any() else 0
        invested = invested + own_weights[cut:] @ own_returns[cut:]
        if not cut:
            continue
        tested += cut
        pairs = own_weights[:cut].reshape(blocks, length) @ own_returns[:cut].reshape(blocks, length).T
        invested = invested + pairs[np.arange(blocks)[None, :], permutations(blocks)].sum(axis=1)
    days = book.positions.shape[0]
    observed = float(((weights * book.returns).sum() + fixed) / days)
    draws = np.broadcast_to(np.asarray((invested + fixed) / days, dtype=float), (permutations.draws,))
    return TimingDraws(observed, np.array(draws), tested)
