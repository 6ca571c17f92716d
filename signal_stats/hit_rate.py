"""Is a hit rate better than luck? Exact one-sided tests against a no-skill base rate.

Under "no skill" each decided signal hits with the base rate's probability, independently, so the
number of hits is binomial (one base rate) or a sum of binomials (one base rate per kind of action).
The p-value is P(X >= hits): how often a strategy without skill would score at least as many hits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import binom


def binomial_p_value(hits: int, signals: int, base_rate: float | None) -> float | None:
    """P(X >= hits) for X ~ Binomial(signals, base_rate); None without signals or base rate."""
    if signals <= 0 or base_rate is None or not np.isfinite(base_rate):
        return None
    return float(binom.sf(hits - 1, signals, base_rate))


def matched_p_value(hits: int, counts: Sequence[int], base_rates: Sequence[float | None]) -> float | None:
    """P(X >= hits) for X = sum of independent Binomial(counts[i], base_rates[i]).

    One term per kind of action: counts[i] signals of that kind, each hitting with base_rates[i]
    (the share of the same rows on which that action would have hit). The distribution is the
    convolution of the binomials' probability mass functions; the tail is summed from the pmf, not
    taken as 1 - cdf, so a tiny p-value keeps its precision.
    """
    if sum(counts) <= 0:
        return None
    pmf = np.array([1.0])
    for count, rate in zip(counts, base_rates, strict=True):
        if count == 0:
            continue
        if rate is None or not np.isfinite(rate):
            return None
        pmf = np.convolve(pmf, binom.pmf(np.arange(count + 1), count, rate))
    return float(min(1.0, pmf[max(hits, 0) :].sum()))
