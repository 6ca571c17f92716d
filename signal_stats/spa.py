"""Hansen's Superior Predictive Ability test ("A Test for Superior Predictive Ability", 2005).

H0: no strategy's expected daily return beats buy-and-hold's. Losses are minus the daily returns;
each strategy is compared with its own yardstick (fct_backtest_daily.buy_hold_return on the same
rows), so the test runs on the differentials d = strategy_return - buy_hold_return: arch's SPA gets
benchmark losses 0 and model losses -d, which gives exactly these differentials. The p-value is
arch's 'consistent' one (Hansen's recommended version), from a stationary bootstrap with a seeded
generator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from arch.bootstrap import SPA


def _constant(values: np.ndarray) -> bool:
    return bool(np.all(values == values[0]))


def spa_p_value(differentials: np.ndarray, *, block_size: int, reps: int, seed: int) -> float | None:
    """Consistent SPA p-value for one or several strategies (columns) against their yardsticks.

    ``differentials``: (days,) or (days, strategies) of strategy_return - buy_hold_return. None with
    fewer than 2 days or when a column is constant (no variance to studentise by: the strategy is
    its yardstick plus a fixed amount, which the test cannot judge).
    """
    values = np.asarray(differentials, dtype=float)
    matrix = values.reshape(values.shape[0], -1)
    if matrix.shape[0] < 2 or any(_constant(matrix[:, j]) for j in range(matrix.shape[1])):
        return None
    test = SPA(np.zeros(matrix.shape[0]), -matrix, block_size=block_size, reps=reps, bootstrap="stationary", seed=seed)
    test.compute()
    return float(test.pvalues["consistent"])


def family_differentials(daily: pd.DataFrame, min_days: int) -> pd.DataFrame:
    """The family the snooping guard tests: one column of differentials per strategy, on the dates
    every member has a portfolio return.

    Members are the strategies with at least ``min_days`` portfolio days whose differential is not
    constant on the common dates (a strategy that is its yardstick plus a fixed amount, such as
    buy_and_hold after its entry day, cannot beat it and cannot be studentised). Columns in strategy
    order, rows in date order, so the result is the same on every run.
    """
    lengths = daily.groupby("strategy")["date"].count()
    members = daily[daily["strategy"].isin(lengths[lengths >= min_days].index)]
    wide = (
        members.assign(differential=members["strategy_return"] - members["buy_hold_return"])
        .pivot(index="date", columns="strategy", values="differential")
        .sort_index()
        .sort_index(axis=1)
        .dropna(how="any")
    )
    if wide.empty:
        return wide
    return wide.loc[:, [not _constant(wide[column].to_numpy()) for column in wide.columns]]


def family_p_value(family: pd.DataFrame, *, block_size: int, reps: int, seed: int) -> float | None:
    """Consistent SPA p-value of a family of differential columns, each divided by its standard
    deviation first. arch's SPA takes the max of the raw mean differentials (its ``studentize`` flag
    only changes which columns count as valid), so unscaled the family's p-value would be that of its
    noisiest column; scaled, the max is over t-statistics, as in Hansen (2005)."""
    return spa_p_value((family / family.std(ddof=1)).to_numpy(), block_size=block_size, reps=reps, seed=seed)
