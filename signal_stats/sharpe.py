"""Sharpe ratios that say how sure they are: per-day Sharpe, PSR and DSR.

* Probabilistic Sharpe ratio (Bailey and Lopez de Prado, "The Sharpe Ratio Efficient Frontier",
  2012): the probability that the true Sharpe ratio exceeds a benchmark SR*, given n daily returns
  with skewness g3 and kurtosis g4 (not excess):
  PSR(SR*) = Phi((SR - SR*) * sqrt(n - 1) / sqrt(1 - g3 * SR + (g4 - 1) / 4 * SR^2)).
  SR is the per-day ratio (mean / sample standard deviation of daily excess returns), never annualised.
* Deflated Sharpe ratio (Bailey and Lopez de Prado, "The Deflated Sharpe Ratio", 2014): the PSR
  against the Sharpe ratio the best of N unskilled trials would reach by luck,
  SR0 = sqrt(V[SR]) * ((1 - gamma) * Phi^-1(1 - 1/N) + gamma * Phi^-1(1 - 1/(N e))),
  with V[SR] the variance of the trials' per-day Sharpe ratios and gamma Euler's constant.

Skewness and kurtosis are the moment estimators m3 / m2^1.5 and m4 / m2^2 (m_k the k-th central
moment, divided by n), as in the papers. A constant series has no Sharpe ratio: None, never a crash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm


@dataclass(frozen=True)
class SharpeMoments:
    """What PSR needs of a daily excess-return series."""

    sharpe: float
    """Per-day Sharpe ratio: mean / sample (n - 1) standard deviation."""
    observations: int
    skewness: float
    kurtosis: float
    """Not excess: 3 for a normal distribution."""


def sharpe_moments(excess_returns: np.ndarray) -> SharpeMoments | None:
    """Per-day Sharpe ratio, skewness and kurtosis; None for fewer than 2 returns or a constant series."""
    values = np.asarray(excess_returns, dtype=float)
    if values.size < 2 or not np.all(np.isfinite(values)) or np.all(values == values[0]):
        return None
    deviations = values - values.mean()
    m2 = np.mean(deviations**2)
    return SharpeMoments(
        sharpe=float(values.mean() / values.std(ddof=1)),
        observations=int(values.size),
        skewness=float(np.mean(deviations**3) / m2**1.5),
        kurtosis=float(np.mean(deviations**4) / m2**2),
    )


def probabilistic_sharpe(moments: SharpeMoments | None, benchmark_sharpe: float | None = 0.0) -> float | None:
    """PSR: P(true per-day Sharpe > benchmark_sharpe). None when an input is missing or the variance
    term 1 - g3 * SR + (g4 - 1) / 4 * SR^2 is not positive (only for degenerate two-point series)."""
    if moments is None or benchmark_sharpe is None:
        return None
    sr = moments.sharpe
    variance_term = 1 - moments.skewness * sr + (moments.kurtosis - 1) / 4 * sr**2
    if not variance_term > 0:
        return None
    z = (sr - benchmark_sharpe) * np.sqrt(moments.observations - 1) / np.sqrt(variance_term)
    return float(norm.cdf(z))


def deflated_sharpe_benchmark(trial_sharpes: Sequence[float | None], trials: int) -> float | None:
    """SR0: the per-day Sharpe ratio the best of ``trials`` unskilled strategies would reach by luck.

    V[SR] is the sample (n - 1) variance of the defined per-day Sharpe ratios of the trials. None
    when fewer than 2 trials or fewer than 2 defined Sharpe ratios: with one trial there is no
    selection to deflate for, and the variance across trials does not exist.
    """
    defined = np.array([s for s in trial_sharpes if s is not None and np.isfinite(s)], dtype=float)
    if trials < 2 or defined.size < 2:
        return None
    spread = np.sqrt(defined.var(ddof=1))
    expected_max = (1 - np.euler_gamma) * norm.ppf(1 - 1 / trials) + np.euler_gamma * norm.ppf(1 - 1 / (trials * np.e))
    return float(spread * expected_max)
