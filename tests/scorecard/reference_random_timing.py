"""The scorecard's random-timing figures recomputed from the public tables without signal_stats:
the forward outcomes from fct_prices_daily, the signals from mart_signal_tracking, the positions and
the portfolio's mean return from fct_backtest_daily, and the docs' definitions (docs/scorecard.md)
written out signal by signal and day by day. The one thing shared with the product is the
definition of the draws: permutation b of a span of n blocks is
argsort(default_rng([scorecard_seed, n]).random((draws, n)))[b]."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import norm

ACTION_ROW = {"BUY": 0, "SELL": 1, "HOLD": 2}


def permutations(blocks: int, draws: int, seed: int) -> np.ndarray:
    return np.argsort(np.random.default_rng([seed, blocks]).random((draws, blocks)), axis=1, kind="stable")


def layout(span: int, block_days: int) -> tuple[int, int]:
    blocks = max(1, round(span / block_days))
    return blocks, span // blocks


def p_upper(observed: float, draws: np.ndarray) -> float:
    return (1 + int(np.sum(draws >= observed - 1e-12 * max(1.0, abs(observed))))) / (draws.size + 1)


def outcome_table(prices: pd.DataFrame, horizon: int, band: float) -> dict[str, np.ndarray]:
    """Per ticker: (3, days) whether BUY / SELL / HOLD made at each clean day's close would hit."""
    found = {}
    for ticker, rows in prices.sort_values("date").groupby("ticker"):
        close = rows["adj_close"].to_numpy()
        forward = np.full(close.size, np.nan)
        forward[:-horizon] = close[horizon:] / close[:-horizon] - 1
        found[ticker] = np.stack([forward > 0, forward < 0, np.abs(forward) <= band])
    return found


def signal_draws(signals: pd.DataFrame, day_of: dict, outcomes: dict, v: dict) -> tuple[float, np.ndarray, int]:
    """(observed hit rate, draws' hit rates, timed signals) of one strategy's decided signals."""
    block_days, draws, seed = (
        v["scorecard_random_timing_block_days"],
        v["scorecard_random_timing_draws"],
        v["scorecard_seed"],
    )
    before = math.ceil((v["scorecard_decision_lookback_days"] + v["validation_horizon_days"]) / block_days)
    hits, kept, observed, timed = np.zeros(draws), np.zeros(draws), [], 0
    for ticker, rows in signals.groupby("ticker"):
        days = np.array([day_of[(ticker, d)] for d in rows["base_date"]])
        first, span = days.min(), days.max() - days.min() + 1
        blocks, length = layout(span, block_days)
        testable = blocks >= 2 * (before + 1)
        partners = permutations(blocks, draws, seed)
        for day, action in zip(days, rows["action"], strict=True):
            row = outcomes[ticker][ACTION_ROW[action]]
            observed.append(row[day])
            offset = day - first
            if not testable or offset >= blocks * length:
                hits, kept = hits + row[day], kept + 1
                continue
            timed += 1
            block = offset // length
            partner = partners[:, block]
            seen = (partner < block) & (partner >= block - before)
            met = row[first + partner * length + offset % length]
            hits, kept = hits + np.where(seen, 0, met), kept + ~seen
    return float(np.mean(observed)), hits / kept, timed


def portfolio_draws(
    positions: pd.DataFrame, caps: pd.DataFrame, mean_return: float, v: dict
) -> tuple[np.ndarray, bool]:
    """The portfolio's mean daily return with each ticker's returns permuted in blocks inside its
    window against unchanged weights (the mart's mean plus the change of the invested return), and
    whether any ticker's window could be permuted at all."""
    block_days, draws, seed = (
        v["scorecard_random_timing_block_days"],
        v["scorecard_random_timing_draws"],
        v["scorecard_seed"],
    )
    before = math.ceil((v["scorecard_decision_lookback_days"] + 1) / block_days)
    cap = caps.set_index("date")["position_cap"]
    in_market = positions[positions["exposure"] != 0].groupby("date").size()
    weights = positions.apply(
        lambda r: np.sign(r["exposure"]) * min(1 / in_market.get(r["date"], 1), cap[r["date"]]), axis=1
    )
    positions = positions.assign(weight=weights)
    change, tested = np.zeros(draws), False
    for _, rows in positions.sort_values("date").groupby("ticker"):
        w, r = rows["weight"].to_numpy(), rows["buy_hold_return"].to_numpy()
        blocks, length = layout(len(rows), block_days)
        if blocks < 2 * (before + 1) or not w.any():
            continue
        tested = True
        for b, order in enumerate(permutations(blocks, draws, seed)):
            moved = np.concatenate([r[k * length : (k + 1) * length] for k in order] + [r[blocks * length :]])
            change[b] += w @ moved - w @ r
    days = caps["date"].nunique()
    return mean_return + change / days, tested


def stepdown(observed: dict[str, float], draws: dict[str, np.ndarray]) -> dict[str, float]:
    """Romano-Wolf on studentised statistics, written out (a member whose draws never vary: p = 1)."""
    z, null = {}, {}
    for name, value in observed.items():
        sd = draws[name].std(ddof=1)
        if sd > 1e-12 * max(1.0, abs(draws[name].mean())):
            z[name] = (value - draws[name].mean()) / sd
            null[name] = (draws[name] - draws[name].mean()) / sd
    adjusted, floor, order = dict.fromkeys(observed, 1.0), 0.0, sorted(z, key=lambda n: -z[n])
    for step, name in enumerate(order):
        best = np.max([null[other] for other in order[step:]], axis=0)
        count = int(np.sum(best >= z[name] - 1e-12 * max(1.0, abs(z[name]))))
        floor = max(floor, (1 + count) / (best.size + 1))
        adjusted[name] = floor
    return adjusted


def detectable(draws: dict[str, np.ndarray], v: dict) -> dict[str, float]:
    spreads = {n: d.std(ddof=1) for n, d in draws.items() if d.std(ddof=1) > 1e-12 * max(1.0, abs(d.mean()))}
    if not spreads:
        return {}
    best = np.max([(draws[n] - draws[n].mean()) / s for n, s in spreads.items()], axis=0)
    critical = np.quantile(best, 1 - v["scorecard_significance"], method="higher")
    return {n: s * (critical + norm.ppf(v["scorecard_power"])) for n, s in spreads.items()}
