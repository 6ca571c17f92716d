"""Does the memorisation test do what it says? Its false-positive rate when neither twin remembers
anything, and its power when the named twin knows part of the future, on simulated markets.

    .venv/bin/python benchmarks/memorization_calibration.py                    # 1000 replicates, 2000 draws
    .venv/bin/python benchmarks/memorization_calibration.py --replicates 200   # a quick look

Each replicate simulates a market as benchmarks/verdict_calibration.py does (4 tickers, 5 years
plus a year of history, Student-t(4) shocks, GARCH(1,1) volatility, a common factor), lets a named and
a blind twin decide weekly on the same days, and hands their decided signals to the scorecard's own
code, signal_stats.memorization.memorization_test, with the project's vars. A replicate is flagged
when the test's p-value is below scorecard_significance.

No-memory cases (target: the nominal 5 % inside or above the Wilson 95 % interval of the flagged
share, whose upper end is <= 7 %; a test at exactly its nominal rate lands above 5 % in half the runs): the twins
drawn the same way but independently (random mixes, sticky actions, month-long blocks), a blind
twin that copies the named one with 30 % of its answers redrawn, twins with different leans in a
strongly rising or falling market, twins that read the chart differently (momentum named,
buy-the-dip blind), and twins with the same real skill (right 20 % more often than chance, each on
its own draws). Memory cases (reported; target power >= 80 % for the 20 % one): the named twin right
10 % / 20 % more often than chance while the blind twin has no skill, and a partial memory (named
20 %, blind 10 %). A named twin that knows only which tickers rise over the whole window (no
timing) is reported: the test, like the verdict, credits timing only.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from verdict_calibration import (
    DECISION_STEP,
    HISTORY_DAYS,
    SPREAD,
    TICKERS,
    YEARS,
    Decide,
    Rule,
    blocks_in_out,
    buy_the_dip,
    fixed_lean,
    forward_returns,
    momentum,
    oracle,
    outcome_rows,
    random_mix,
    simulate_market,
    sticky,
    strategy_frames,
    wilson,
)

from signal_stats.memorization import memorization_test
from signal_stats.settings import ScorecardSettings
from signal_stats.timing_tests import OutcomeSurface
from warehouse_core.project import project_vars

logger = logging.getLogger("memorization_calibration")

Twins = Callable[[Decide], tuple[np.ndarray, np.ndarray]]


def independent(named: Rule, blind: Rule) -> Twins:
    """Each twin decides by its own rule on its own random draws."""
    return lambda d: (named(d), blind(d))


def noisy_copy(base: Rule, redrawn: float) -> Twins:
    """The blind twin answers as the named one but for a share ``redrawn`` of answers drawn afresh."""

    def decide(d: Decide) -> tuple[np.ndarray, np.ndarray]:
        named = base(d)
        fresh = d.rng.integers(0, 3, d.shape)
        return named, np.where(d.rng.random(d.shape) < redrawn, fresh, named)

    return decide


@dataclass(frozen=True)
class Scenario:
    name: str
    memory: bool
    twins: Twins
    drifts: Callable[[np.random.Generator], np.ndarray] = field(default=lambda rng: rng.uniform(-0.10, 0.20, TICKERS))


def scenarios() -> list[Scenario]:
    mix = random_mix(0.4, 0.3, 0.3)
    coin = oracle(0.0)
    rising, falling = (lambda rng: np.full(TICKERS, 0.30)), (lambda rng: np.full(TICKERS, -0.30))
    return [
        Scenario("random mixes, independent", False, independent(mix, mix)),
        Scenario("sticky 85 %, independent", False, independent(sticky(0.85), sticky(0.85))),
        Scenario("sticky 95 %, independent", False, independent(sticky(0.95), sticky(0.95))),
        Scenario("month-long blocks, independent", False, independent(blocks_in_out(4), blocks_in_out(4))),
        Scenario("blind = named, 30 % redrawn", False, noisy_copy(sticky(0.85), 0.30)),
        Scenario("named leans BUY, market +30 %/yr", False, independent(random_mix(0.7, 0.3, 0.0), mix), rising),
        Scenario("named leans BUY, market -30 %/yr", False, independent(random_mix(0.7, 0.3, 0.0), mix), falling),
        Scenario("momentum named, buy-the-dip blind", False, independent(momentum(20), buy_the_dip(252, 0.10))),
        Scenario("same skill (20 %), no memory", False, independent(oracle(0.20), oracle(0.20))),
        Scenario("named knows the drifts only", True, independent(fixed_lean(SPREAD), coin), lambda rng: SPREAD),
        Scenario("named 10 % skill, blind none", True, independent(oracle(0.10), coin)),
        Scenario("named 20 % skill, blind none", True, independent(oracle(0.20), coin)),
        Scenario("named 20 %, blind 10 % (partial memory)", True, independent(oracle(0.20), oracle(0.10))),
    ]


def settings_from_vars(draws: int) -> ScorecardSettings:
    return ScorecardSettings.from_vars(project_vars()).model_copy(update={"random_timing_draws": draws})


def replicate(scenario: Scenario, index: int, settings: ScorecardSettings, band: float) -> tuple[float, float]:
    """One market, the twins' decisions, the test: (gap, p-value)."""
    rng = np.random.default_rng([index, sum(map(ord, scenario.name)), 19])
    market = simulate_market(rng, scenario.drifts(rng), YEARS, settings.horizon_days)
    forward = forward_returns(market, settings.horizon_days)
    days = np.arange(HISTORY_DAYS, market.days - settings.horizon_days - 1, DECISION_STEP)
    named, blind = scenario.twins(Decide(market, days, forward[days], rng))
    surface = OutcomeSurface.from_frame(outcome_rows(forward, band))
    frames = [strategy_frames(name, acts, days, market, forward)[1] for name, acts in (("n", named), ("b", blind))]
    test = memorization_test(
        *frames, surface.hits, surface.ticker_rows, settings.block_days, settings.random_timing_draws, index
    )
    return test.gap, test.p_value


def _work(job: tuple[int, int, int]) -> tuple[int, float, float]:
    scenario_index, replicate_index, draws = job
    band = project_vars()["hold_hit_band"]
    gap, p_value = replicate(scenarios()[scenario_index], replicate_index, settings_from_vars(draws), band)
    return scenario_index, gap, p_value


def table(results: dict[int, list[tuple[float, float]]], significance: float) -> tuple[str, bool]:
    lines = [f"{'scenario':<44}{'flagged':>9}{'95 % CI':>17}{'mean gap':>10}  target", "-" * 100]
    all_met = True
    for index, scenario in enumerate(scenarios()):
        if index not in results:
            continue
        rows = results[index]
        flagged = sum(p < significance for _, p in rows)
        low, high = wilson(flagged, len(rows))
        share = flagged / len(rows)
        if not scenario.memory:
            # a test at exactly its nominal 5 % lands above 5 % in half the runs: the target is that the
            # interval holds 5 % or lies below it, and its upper end stays <= 7 %
            target, met = "5 % within CI, CI high <= 7 %", low <= 0.05 and high <= 0.07
        elif scenario.name.startswith("named 20 % skill"):
            target, met = "power >= 80 %", share >= 0.80
        else:
            target, met = "(reported)", True
        all_met &= met
        lines.append(
            f"{scenario.name:<44}{100 * share:>8.1f}%{f'[{100 * low:.1f}, {100 * high:.1f}]':>17}"
            f"{100 * np.mean([g for g, _ in rows]):>+10.1f}  {target} {'PASS' if met else 'FAIL'}"
        )
    return "\n".join(lines), all_met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=1000, help="simulated markets per scenario (default 1000)")
    parser.add_argument("--draws", type=int, default=2000, help="swaps per test (default 2000)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: one per core)")
    parser.add_argument("--scenario", action="append", help="run only this scenario (repeatable)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    started = time.perf_counter()
    chosen = [i for i, s in enumerate(scenarios()) if args.scenario is None or s.name in args.scenario]
    jobs = [(s, r, args.draws) for r in range(args.replicates) for s in chosen]
    results: dict[int, list[tuple[float, float]]] = {}
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for index, gap, p_value in tqdm(pool.map(_work, jobs, chunksize=8), total=len(jobs), desc="replicates"):
            results.setdefault(index, []).append((gap, p_value))
    text, all_met = table(results, settings_from_vars(args.draws).significance)
    logger.info("%s", text)
    logger.info(
        "%d replicates x %d scenarios, %d swaps, %.0f s on %d workers; gap in hit-rate points (named minus "
        "blind, above random days of the span)",
        args.replicates,
        len(results),
        args.draws,
        time.perf_counter() - started,
        args.workers,
    )
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
