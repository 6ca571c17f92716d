"""How many decisions a meaningful verdict needs: the smallest hit rate a one-sided exact binomial
test detects with a given power."""

from __future__ import annotations

from scipy.optimize import brentq
from scipy.stats import binom


def critical_hits(signals: int, base_rate: float, significance: float) -> int:
    """Fewest hits out of ``signals`` whose p-value P(X >= hits | base_rate) is below ``significance``."""
    for hits in range(signals + 1):
        if binom.sf(hits - 1, signals, base_rate) < significance:
            return hits
    return signals + 1


def minimum_detectable_hit_rate(
    signals: int, base_rate: float = 0.5, significance: float = 0.05, power: float = 0.8
) -> float | None:
    """Smallest true hit rate at which the test rejects "no better than base_rate" with probability
    ``power``; None when even a perfect record of ``signals`` signals is not significant."""
    hits = critical_hits(signals, base_rate, significance)
    if hits > signals:
        return None

    def shortfall(rate: float) -> float:
        return float(binom.sf(hits - 1, signals, rate)) - power

    return float(brentq(shortfall, base_rate, 1.0, xtol=1e-10))
