"""The random-timing tests of every strategy in the scorecard, scored on the same draws, with the
family-wise adjusted p-values and the minimum detectable effect (signal_stats.random_timing,
signal_stats.family). From the warehouse's frames to one row of figures per strategy.

Inputs:

* ``decided``: int_signal_outcomes rows with outcome hit / miss (strategy, ticker, base_day_number, action);
* ``outcomes``: int_forward_outcomes rows with a complete horizon (ticker, trading_day_number,
  buy_hits, sell_hits, hold_hits);
* ``positions``: the ticker rows of fct_backtest_daily (strategy, ticker, date, exposure = the
  position, buy_hold_return = the ticker's daily return);
* ``caps``: int_backtest_portfolio_daily (strategy, date, position_cap).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from signal_stats.family import family_critical_z, minimum_detectable_effect, stepdown_p_values, studentise
from signal_stats.random_timing import (
    ACTIONS,
    Permutations,
    PortfolioBook,
    TimingDraws,
    blocks_before,
    portfolio_mean_draws,
    signal_hit_draws,
    upper_p_value,
)
from signal_stats.settings import ScorecardSettings

OUTCOME_COLUMNS = {"BUY": "buy_hits", "SELL": "sell_hits", "HOLD": "hold_hits"}


@dataclass(frozen=True)
class OutcomeSurface:
    """Whether each action would have hit at each (ticker, trading day): (3, tickers, days) bool."""

    hits: np.ndarray
    ticker_rows: dict[str, int]

    @classmethod
    def from_frame(cls, outcomes: pd.DataFrame) -> OutcomeSurface:
        tickers = sorted(outcomes["ticker"].unique())
        rows = {ticker: row for row, ticker in enumerate(tickers)}
        days = int(outcomes["trading_day_number"].max()) + 1 if len(outcomes) else 1
        hits = np.zeros((len(ACTIONS), len(tickers), days), dtype=bool)
        ticker_index = outcomes["ticker"].map(rows).to_numpy(dtype=np.int64)
        day_index = outcomes["trading_day_number"].to_numpy(dtype=np.int64)
        for action, column in OUTCOME_COLUMNS.items():
            hits[ACTIONS.index(action), ticker_index, day_index] = outcomes[column].to_numpy(dtype=bool)
        return cls(hits, rows)


def signal_draws(
    decided: pd.DataFrame, surface: OutcomeSurface, settings: ScorecardSettings, permutations: Permutations
) -> dict[str, TimingDraws]:
    """Hit rate of each strategy's decided signals, where they are and in every draw."""
    before = blocks_before(settings.block_days, settings.decision_lookback_days, settings.horizon_days)
    found = {}
    for strategy, rows in decided.groupby("strategy", sort=True):
        found[strategy] = signal_hit_draws(
            rows["ticker"].map(surface.ticker_rows).to_numpy(dtype=np.int64),
            rows["base_day_number"].to_numpy(dtype=np.int64),
            rows["action"].map(ACTIONS.index).to_numpy(dtype=np.int64),
            surface.hits,
            settings.block_days,
            before,
            permutations,
        )
    return found


def portfolio_book(positions: pd.DataFrame, caps: pd.DataFrame, settings: ScorecardSettings) -> PortfolioBook:
    """One strategy's ticker rows and caps as the dense calendar x tickers arrays of a PortfolioBook."""
    calendar = caps.sort_values("date")
    position = positions.pivot(index="date", columns="ticker", values="exposure").reindex(calendar["date"])
    returns = positions.pivot(index="date", columns="ticker", values="buy_hold_return").reindex(calendar["date"])
    return PortfolioBook(
        positions=position.fillna(0.0).to_numpy(dtype=float),
        returns=returns.fillna(0.0).to_numpy(dtype=float),
        in_window=position.notna().to_numpy(),
        caps=calendar["position_cap"].to_numpy(dtype=float),
        daily_risk_free_rate=settings.daily_risk_free_rate,
        cost_rate=settings.cost_rate,
    )


def portfolio_draws(
    positions: pd.DataFrame, caps: pd.DataFrame, settings: ScorecardSettings, permutations: Permutations
) -> dict[str, TimingDraws]:
    """Mean daily portfolio return of each strategy, where it is and in every draw."""
    before = blocks_before(settings.block_days, settings.decision_lookback_days, 1)
    caps_of = dict(tuple(caps.groupby("strategy", sort=True)))
    return {
        strategy: portfolio_mean_draws(
            portfolio_book(rows, caps_of[strategy], settings), settings.block_days, before, permutations
        )
        for strategy, rows in positions.groupby("strategy", sort=True)
        if strategy in caps_of
    }


def raw_p_values(draws: dict[str, TimingDraws]) -> dict[str, float]:
    """Each strategy's own random-timing p-value; none for a strategy nothing of which could be
    moved (no span long enough)."""
    return {name: upper_p_value(found.observed, found.draws) for name, found in draws.items() if found.tested}


def adjusted_p_values(draws: dict[str, TimingDraws], family: list[str]) -> dict[str, float]:
    """Romano-Wolf stepdown p-values over ``family``; a member whose draws never vary keeps p = 1
    (it cannot be the best by luck, nor by skill)."""
    students = {name: studentise(draws[name].observed, draws[name].draws) for name in family}
    varying = [name for name in family if students[name] is not None]
    adjusted = dict.fromkeys(family, 1.0)
    if varying:
        observed = np.array([students[name].observed for name in varying])
        null = np.column_stack([students[name].draws for name in varying])
        adjusted |= dict(zip(varying, stepdown_p_values(observed, null), strict=True))
    return adjusted


def detectable_effects(
    draws: dict[str, TimingDraws], family: list[str], settings: ScorecardSettings
) -> dict[str, float]:
    """Per member: the hit-rate excess over random timing the family-wise test finds with
    ``power`` (signal_stats.family.minimum_detectable_effect, in hit-rate units)."""
    students = {name: studentise(draws[name].observed, draws[name].draws) for name in family}
    varying = [name for name in family if students[name] is not None]
    if not varying:
        return {}
    critical = family_critical_z(np.column_stack([students[n].draws for n in varying]), settings.significance)
    return {name: minimum_detectable_effect(students[name].scale, critical, settings.power) for name in varying}
