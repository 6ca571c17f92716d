"""How long the scorecard takes for many strategies: 20 strategies x ~2,000 decided signals each x
2,000 random-timing draws (issue 18's target: under 30 s on 2 cores), idle and beside a busy process.

    .venv/bin/python benchmarks/scorecard_speed.py                 # 20 strategies, 2000 draws, idle and busy
    .venv/bin/python benchmarks/scorecard_speed.py --busy 0        # idle only

The inputs are warehouse-shaped frames of a simulated market (4 tickers, 10 years of weekly
decisions: ~2,080 decided signals per strategy; benchmarks/verdict_calibration.py simulates it)
and the whole of signal_stats.scorecard.build_scorecard runs on them: the random-timing tests and
the descriptive statistics (SPA and bootstrap intervals with the project's 1,000 resamples).
Prints the seconds of each run, the random-timing part alone, and the peak memory of this process
(ru_maxrss) after the runs.
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import verdict_calibration as calibration
from benchmarks.cpu_load import busy_loops
from signal_stats.scorecard import HEALTH_COLUMNS, SIGNAL_COLUMNS, ScorecardInputs, build_scorecard, timing_tests
from signal_stats.settings import ScorecardSettings
from signal_stats.timing_tests import portfolio_book
from warehouse_core.project import project_vars

logger = logging.getLogger("scorecard_speed")
YEARS = 10


def strategy_inputs(name: str, decided: pd.DataFrame, positions: pd.DataFrame, caps: pd.DataFrame, settings):
    """The scorecard's per-strategy rows a warehouse would hold: signal statistics, the PORTFOLIO
    summary and days (rebuilt as the backtest builds them)."""
    book = portfolio_book(positions, caps, settings)
    returns = book.daily_returns()
    basket = np.where(book.in_window, book.returns, 0.0).sum(axis=1) * 0.25
    dates = caps.sort_values("date")["date"].to_numpy()
    daily = pd.DataFrame(
        {
            "strategy": name,
            "date": pd.Timestamp("2000-01-03") + pd.to_timedelta(dates, "D"),
            "exposure": np.abs(book.weights()).sum(axis=1),
            "strategy_return": returns,
            "buy_hold_return": basket,
        }
    )
    counts = decided["action"].value_counts()
    stats = dict.fromkeys(SIGNAL_COLUMNS, 0.0) | {
        "strategy": name,
        "model": None,
        "signals": len(decided),
        "hits": 0,
        "decided_buys": int(counts.get("BUY", 0)),
        "decided_sells": int(counts.get("SELL", 0)),
        "decided_holds": int(counts.get("HOLD", 0)),
    }
    sharpe = returns.mean() / returns.std(ddof=1) * np.sqrt(252)
    summary = {
        "strategy": name,
        "trading_days": len(daily),
        "trades": 40,
        "sharpe_ratio": sharpe,
        "alpha_vs_buy_hold": 0.0,
    }
    return stats, summary, daily


def simulated_inputs(strategies: int, settings: ScorecardSettings) -> ScorecardInputs:
    """One market, ``strategies`` sticky random strategies deciding weekly over it."""
    rng = np.random.default_rng(7)
    market = calibration.simulate_market(rng, rng.uniform(-0.1, 0.2, calibration.TICKERS), YEARS, settings.horizon_days)
    forward = calibration.forward_returns(market, settings.horizon_days)
    decision_days = np.arange(
        calibration.HISTORY_DAYS, market.days - settings.horizon_days - 1, calibration.DECISION_STEP
    )
    parts: dict[str, list] = {key: [] for key in ("stats", "summary", "daily", "decided", "positions", "caps")}
    for number in range(strategies):
        actions = calibration.sticky(0.8)(calibration.Decide(market, decision_days, forward[decision_days], rng))
        name = f"external:s{number:02d}"
        _, decided, positions, caps = calibration.strategy_frames(name, actions, decision_days, market, forward)
        stats, summary, daily = strategy_inputs(name, decided, positions, caps, settings)
        for key, value in zip(parts, (stats, summary, daily, decided, positions, caps), strict=True):
            parts[key].append(value)
    return ScorecardInputs(
        signal_stats=pd.DataFrame(parts["stats"]),
        health=pd.DataFrame(columns=["model", "strategy", *HEALTH_COLUMNS]),
        summary=pd.DataFrame(parts["summary"]),
        daily=pd.concat(parts["daily"]),
        positions=pd.concat(parts["positions"]),
        caps=pd.concat(parts["caps"]),
        decided=pd.concat(parts["decided"]),
        outcomes=calibration.outcome_rows(forward, project_vars()["hold_hit_band"]),
    )


def timed(inputs: ScorecardInputs, settings: ScorecardSettings) -> tuple[float, float]:
    """(seconds of the whole scorecard, seconds of the random-timing part alone)."""
    started = time.perf_counter()
    card = build_scorecard(inputs, settings)
    whole = time.perf_counter() - started
    frame = card[
        ["strategy", "signals_from", "signals", "trading_days", "trades", "invested_days", "decisions", "ok_count"]
    ]
    started = time.perf_counter()
    timing_tests(frame.astype(object).where(frame.notna(), None), inputs, settings)
    return whole, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategies", type=int, default=20)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--busy", type=int, default=1, help="busy processes beside the busy run (0: idle only)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per condition")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = ScorecardSettings.from_vars(project_vars()).model_copy(update={"random_timing_draws": args.draws})
    inputs = simulated_inputs(args.strategies, settings)
    per_strategy = len(inputs.decided) / args.strategies
    logger.info("%d strategies x %.0f decided signals x %d draws", args.strategies, per_strategy, args.draws)
    conditions = [("idle", 0)] + ([(f"beside {args.busy} busy process(es)", args.busy)] if args.busy else [])
    for label, busy in conditions:
        with busy_loops(busy):
            for _ in range(args.repeat):
                whole, timing = timed(inputs, settings)
                logger.info("%-28s scorecard %.1f s (random timing %.1f s)", label, whole, timing)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    logger.info("peak memory of this process (inputs, scorecard, draws): %.0f MB", peak_mb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
