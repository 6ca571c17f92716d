"""Independent reference computations the scorecard is checked against, written from the papers and
from scipy / arch directly, not from signal_stats."""

from __future__ import annotations

import math

import numpy as np
from arch.bootstrap import SPA
from scipy.stats import norm


def hand_psr(excess: np.ndarray, benchmark_sharpe: float = 0.0) -> float:
    """Bailey and Lopez de Prado (2012), eq. for PSR(SR*): Phi((SR - SR*) sqrt(n - 1) / sqrt(1 - g3 SR + (g4 - 1) / 4 SR^2)),
    SR = mean / sample std per day, g3 and g4 the sample skewness and (non-excess) kurtosis."""
    x = [float(v) for v in excess]
    n = len(x)
    mean = sum(x) / n
    sample_std = math.sqrt(sum((v - mean) ** 2 for v in x) / (n - 1))
    m2 = sum((v - mean) ** 2 for v in x) / n
    g3 = (sum((v - mean) ** 3 for v in x) / n) / m2**1.5
    g4 = (sum((v - mean) ** 4 for v in x) / n) / m2**2
    sr = mean / sample_std
    return float(norm.cdf((sr - benchmark_sharpe) * math.sqrt(n - 1) / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2)))


def hand_sr0(per_day_sharpes: list[float], trials: int) -> float:
    """Bailey and Lopez de Prado (2014), eq. for SR0: sqrt(V[SR]) ((1 - gamma) Z^-1(1 - 1/N) + gamma Z^-1(1 - 1/(N e)))."""
    gamma = 0.5772156649015329
    mean = sum(per_day_sharpes) / len(per_day_sharpes)
    variance = sum((s - mean) ** 2 for s in per_day_sharpes) / (len(per_day_sharpes) - 1)
    return math.sqrt(variance) * ((1 - gamma) * norm.ppf(1 - 1 / trials) + gamma * norm.ppf(1 - 1 / (trials * math.e)))


def arch_spa(strategy_returns: np.ndarray, buy_hold_returns: np.ndarray, block: int, reps: int, seed: int) -> float:
    """arch's SPA as its docs describe it: benchmark losses -buy_hold, model losses -strategy."""
    test = SPA(-np.asarray(buy_hold_returns), -np.asarray(strategy_returns), block_size=block, reps=reps, seed=seed)
    test.compute()
    return float(test.pvalues["consistent"])
