"""Family-wise control: every strategy in the scorecard is a trial, and the best of many trials
looks good by luck. Romano and Wolf's stepdown (2005) over studentised random-timing statistics,
the stepwise refinement of White's Reality Check (2000).

Each strategy's statistic is studentised by its own null draws, z = (T - mean(T_b)) / sd(T_b), so a
strategy with 2,000 signals and one with 40 are on one scale. All strategies are scored on the same
draws, so max_j z_jb over the family, draw by draw, is the null distribution of the best z that luck
alone would give; its dependence across strategies (twins trading the same signals, files that
share decisions) is the real one, so duplicates cost no power. Stepdown: the strategy with the
largest z is compared with the max over the whole family; the next with the max over the family
without it, and so on, each adjusted p-value at least the one before (Romano and Wolf 2005,
Algorithm 4.1; with Monte Carlo p-values (1 + #) / (B + 1)). It controls the family-wise error
rate: the chance that any strategy without skill is called significant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm


@dataclass(frozen=True)
class Studentised:
    observed: float
    draws: np.ndarray
    scale: float
    """sd of the null draws: one z unit in the statistic's own units."""
    centre: float
    """mean of the null draws."""


def studentise(observed: float, draws: np.ndarray) -> Studentised | None:
    """z of the observed statistic and of every draw; None when the draws do not vary (nothing moved)."""
    centre, scale = float(draws.mean()), float(draws.std(ddof=1)) if draws.size > 1 else 0.0
    if not scale > 1e-12 * max(1.0, abs(centre)):
        return None
    return Studentised((observed - centre) / scale, (draws - centre) / scale, scale, centre)


def stepdown_p_values(observed: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Romano-Wolf stepdown adjusted p-values of m studentised statistics.

    ``observed``: (m,) z of each strategy; ``draws``: (B, m) z of each draw (the same draws for all).
    Returns (m,) adjusted p-values, each >= the strategy's own Monte Carlo p-value.
    """
    observed = np.asarray(observed, dtype=float)
    order = np.argsort(-observed, kind="stable")
    adjusted = np.empty(observed.size)
    running = 0.0
    for rank, column in enumerate(order):
        remaining_max = draws[:, order[rank:]].max(axis=1)
        tolerance = 1e-12 * max(1.0, abs(observed[column]))
        p = (1 + np.count_nonzero(remaining_max >= observed[column] - tolerance)) / (draws.shape[0] + 1)
        running = max(running, p)
        adjusted[column] = running
    return adjusted


def family_critical_z(draws: np.ndarray, significance: float) -> float:
    """The z the best strategy of the family must beat: the (1 - significance) quantile of max_j z_jb."""
    return float(np.quantile(draws.max(axis=1), 1 - significance, method="higher"))


def minimum_detectable_effect(scale: float, critical_z: float, power: float) -> float:
    """The smallest true excess over random timing (in the statistic's units) the family-wise test
    finds with probability ``power``: (critical z + z_power) sd, taking the skilled strategy's spread
    as the null's (the usual normal approximation of a shift alternative)."""
    return float(scale * (critical_z + norm.ppf(power)))
