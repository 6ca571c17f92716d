"""How often the recall test flags a model that knows nothing, and how often it catches one that does.

mart_model_recall flags a model when the seeded permutation p-value of its Spearman correlation
(recalled vs actual monthly returns) is below recall_significance. This simulates it with the
project's own code (signal_stats.recall) and vars (recall_permutations): models that answer pure
noise (false positives: the share flagged should be the significance level, 5 %), and models whose
answers carry some of the truth (power), on the default window's shape: 11 months per ticker, and
the pooled row of 4 tickers shuffled within tickers.

    .venv/bin/python benchmarks/recall_false_positive.py              # 1000 draws per line
    .venv/bin/python benchmarks/recall_false_positive.py --draws 200
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from signal_stats.recall import permutation_p_value
from warehouse_core.project import project_vars

MONTHS, TICKERS = 11, 4
MONTHLY_VOLATILITY = 0.07  # about the sample's large caps


def flagged_share(draws: int, tickers: int, signal: float, permutations: int, level: float, seed: int) -> float:
    """Share of ``draws`` simulated models flagged: each answers ``signal`` x the true return plus noise
    (signal 0: noise only), over ``tickers`` x MONTHS probes (pooled within tickers when several)."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(tickers), MONTHS)
    hits = 0
    for draw in tqdm(range(draws), desc=f"{tickers} ticker(s), signal {signal}", unit="model", leave=False):
        actual = rng.normal(0.01, MONTHLY_VOLATILITY, size=tickers * MONTHS)
        recalled = signal * actual + rng.normal(0, MONTHLY_VOLATILITY, size=tickers * MONTHS)
        recalled = np.round(recalled * 100) / 100  # the probe answers whole percent
        p = permutation_p_value(recalled, actual, list(groups), permutations, [seed, draw])
        hits += p is not None and p < level
    return hits / draws


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000, help="simulated models per line (default 1000)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    settings = project_vars()
    permutations, level = int(settings["recall_permutations"]), float(settings["recall_significance"])
    print(f"recall test: {permutations} permutations, flagged when p < {level}; {args.draws} simulated models per line")
    for tickers in (1, TICKERS):
        for signal in (0.0, 0.5, 1.0):
            started = time.perf_counter()
            share = flagged_share(args.draws, tickers, signal, permutations, level, args.seed)
            low, high = stats.binomtest(round(share * args.draws), args.draws).proportion_ci(0.95)
            what = "false positives (noise only)" if signal == 0 else f"power (answers = {signal} x truth + noise)"
            print(
                f"{tickers * MONTHS:3d} probes ({tickers} ticker{'s' if tickers > 1 else ''}): {what}: "
                f"{share:.1%} flagged (95 % interval {low:.1%}-{high:.1%}); {time.perf_counter() - started:.1f} s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
