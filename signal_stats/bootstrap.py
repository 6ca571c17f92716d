"""How sure is the alpha over buy-and-hold? A stationary-bootstrap confidence interval.

alpha = annual return of the strategy - annual return of buy-and-hold over the same days, each
annualised as (prod(1 + r))^(periods / n) - 1 (as mart_backtest_summary). The paired daily rows
(strategy_return, buy_hold_return) are resampled in blocks of random length (Politis and Romano's
stationary bootstrap, mean block length a var) so the days' dependence survives resampling, and the
alpha is recomputed on each resample; the interval is the percentile interval of those alphas.
"""

from __future__ import annotations

import numpy as np
from arch.bootstrap import StationaryBootstrap


def annualised_return(returns: np.ndarray, periods: int) -> float:
    """(prod(1 + r))^(periods / n) - 1: the CAGR over trading days."""
    with np.errstate(divide="ignore"):
        log_growth = np.sum(np.log1p(returns))
    return float(np.expm1(log_growth * periods / returns.size))


def annualised_difference(strategy_returns: np.ndarray, buy_hold_returns: np.ndarray, periods: int) -> float:
    """The strategy's annualised return minus buy-and-hold's: mart_backtest_summary.alpha_vs_buy_hold."""
    return annualised_return(strategy_returns, periods) - annualised_return(buy_hold_returns, periods)


def alpha_interval(
    strategy_returns: np.ndarray,
    buy_hold_returns: np.ndarray,
    *,
    periods: int,
    block_size: int,
    reps: int,
    level: float,
    seed: int,
) -> tuple[float, float]:
    """(low, high): the ``level`` percentile interval of the bootstrapped alpha; seeded, so a rerun
    gives the same bounds."""
    bootstrap = StationaryBootstrap(
        block_size, np.asarray(strategy_returns, dtype=float), np.asarray(buy_hold_returns, dtype=float), seed=seed
    )

    def alpha(strategy: np.ndarray, buy_hold: np.ndarray) -> np.ndarray:
        return np.array([annualised_difference(strategy, buy_hold, periods)])

    bounds = bootstrap.conf_int(alpha, reps=reps, method="percentile", size=level)
    return float(bounds[0, 0]), float(bounds[1, 0])
