"""Does the scorecard's verdict do what it says? Its false-positive rate on strategies without skill
and its power on strategies with a known skill, on simulated markets.

    .venv/bin/python benchmarks/verdict_calibration.py                    # 1000 replicates, 2000 draws
    .venv/bin/python benchmarks/verdict_calibration.py --replicates 100 --draws 500   # a quick look

Each replicate simulates a market of 4 tickers over 5 years plus a year of history (daily returns:
Student-t(4) shocks, GARCH(1,1) volatility around 25 %/yr, a common factor with correlation 0.5,
per-ticker drifts as the scenario says), lets each scenario's strategy decide weekly, backtests it
the way the warehouse does (a signal acts from the next day; BUY long, SELL flat, HOLD keeps; equal
weight capped at 0.25; 5 bp per unit of weight change) and hands the warehouse-shaped frames to the
scorecard's own code: signal_stats.scorecard.timing_tests and signal_stats.verdict.verdict, with the
project's vars. The descriptive statistics (PSR, SPA, ...) are not part of the verdict and are not
computed. tests/scorecard/test_verdict_calibration.py checks this backtest against the warehouse's.

Prints, per scenario, the share of replicates judged ``edge`` with its Wilson 95 % interval, the
share whose signals test alone rejected at 5 %, and the targets: every null <= 5 % with the upper
end of its interval <= 7 %, the family of ten nulls <= 5 %, power >= 80 % for the 20 % oracle.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from signal_stats.scorecard import ScorecardInputs, timing_tests
from signal_stats.settings import ScorecardSettings
from signal_stats.verdict import EDGE, verdict
from warehouse_core.project import project_vars

logger = logging.getLogger("verdict_calibration")

TICKERS, YEARS, HISTORY_DAYS, DAYS_PER_YEAR, DECISION_STEP = 4, 5, 260, 252, 5
BUY, SELL, HOLD = 0, 1, 2
ACTION_NAMES = np.array(["BUY", "SELL", "HOLD"])


@dataclass(frozen=True)
class Market:
    """Daily returns and closes (days, tickers); day 0 is the first close."""

    returns: np.ndarray
    closes: np.ndarray

    @property
    def days(self) -> int:
        return self.returns.shape[0]


def simulate_market(rng: np.random.Generator, drifts: np.ndarray, years: int, horizon: int) -> Market:
    """Student-t(4) shocks with GARCH(1,1) volatility (annual 25 %), a common factor (correlation 0.5)."""
    days = HISTORY_DAYS + years * DAYS_PER_YEAR + horizon + 1
    unit_t = np.sqrt(2.0)  # sd of a t(4) variable
    shocks = (
        np.sqrt(0.5) * rng.standard_t(4, (days, 1)) / unit_t
        + np.sqrt(0.5) * rng.standard_t(4, (days, TICKERS)) / unit_t
    )
    target, arch_term, garch_term = 0.25**2 / DAYS_PER_YEAR, 0.08, 0.90
    variance = np.full(TICKERS, target)
    returns = np.empty((days, TICKERS))
    for day in range(days):
        surprise = np.sqrt(variance) * shocks[day]
        returns[day] = drifts / DAYS_PER_YEAR + surprise
        variance = target * (1 - arch_term - garch_term) + arch_term * surprise**2 + garch_term * variance
    returns = np.maximum(returns, -0.9)
    return Market(returns, np.cumprod(1 + returns, axis=0))


def forward_returns(market: Market, horizon: int) -> np.ndarray:
    """(days, tickers) close `horizon` days later / close - 1; NaN where that day does not exist."""
    found = np.full(market.closes.shape, np.nan)
    found[:-horizon] = market.closes[horizon:] / market.closes[:-horizon] - 1
    return found


def trailing_returns(market: Market, days: int) -> np.ndarray:
    found = np.full(market.closes.shape, np.nan)
    found[days:] = market.closes[days:] / market.closes[:-days] - 1
    return found


@dataclass(frozen=True)
class Decide:
    """What a strategy sees to decide: the market, the decision days, each day's forward return (for
    oracles only) and a random generator; returns (decision days, tickers) action codes."""

    market: Market
    days: np.ndarray
    forward: np.ndarray
    rng: np.random.Generator

    @property
    def shape(self) -> tuple[int, int]:
        return self.days.size, TICKERS


Rule = Callable[[Decide], np.ndarray]


def random_mix(buy: float, sell: float, hold: float) -> Rule:
    return lambda d: d.rng.choice(3, size=d.shape, p=[buy, sell, hold])


def sticky(repeat: float) -> Rule:
    """Repeats its last action with probability `repeat`, else draws BUY / SELL / HOLD at random."""

    def decide(d: Decide) -> np.ndarray:
        actions = d.rng.integers(0, 3, d.shape)
        keep = d.rng.random(d.shape) < repeat
        for step in range(1, d.shape[0]):
            actions[step] = np.where(keep[step], actions[step - 1], actions[step])
        return actions

    return decide


def blocks_in_out(weeks: int) -> Rule:
    """Random month-long blocks: in (BUY) or out (SELL) for `weeks` decisions at a time."""

    def decide(d: Decide) -> np.ndarray:
        per_block = d.rng.choice([BUY, SELL], size=(math.ceil(d.shape[0] / weeks), TICKERS))
        return np.repeat(per_block, weeks, axis=0)[: d.shape[0]]

    return decide


def fixed_lean(drifts: np.ndarray) -> Rule:
    """Always long the rising tickers, always out of the falling ones: a view on drift, no timing."""
    return lambda d: np.broadcast_to(np.where(drifts > 0, BUY, SELL), d.shape).copy()


def momentum(days: int) -> Rule:
    """BUY when the trailing `days`-day return is positive, else SELL: reads the chart, no skill."""
    return lambda d: np.where(trailing_returns(d.market, days)[d.days] > 0, BUY, SELL)


def buy_the_dip(days: int, dip: float) -> Rule:
    """BUY when the close is `dip` below its `days`-day high, else SELL: the contrarian an LLM shown the
    drawdown from its 252-day high might be."""

    def decide(d: Decide) -> np.ndarray:
        high = pd.DataFrame(d.market.closes).rolling(days, min_periods=1).max().to_numpy()
        return np.where(d.market.closes[d.days] < (1 - dip) * high[d.days], BUY, SELL)

    return decide


def lucky_trade() -> Rule:
    """Out of the market all along but for one BUY before the best 20-day rise of a random ticker."""

    def decide(d: Decide) -> np.ndarray:
        actions = np.full(d.shape, SELL)
        ticker = d.rng.integers(TICKERS)
        actions[int(np.nanargmax(d.forward[:, ticker])), ticker] = BUY
        return actions

    return decide


def oracle(skill: float, otherwise: int = SELL) -> Rule:
    """With probability `skill` the right call for the next horizon (BUY before a rise, else
    `otherwise`), else a coin flip between BUY and `otherwise`: right (1 + skill) / 2 of the time."""

    def decide(d: Decide) -> np.ndarray:
        right = np.where(d.forward > 0, BUY, otherwise)
        guess = np.where(d.rng.random(d.shape) < 0.5, BUY, otherwise)
        return np.where(d.rng.random(d.shape) < skill, right, guess)

    return decide


@dataclass(frozen=True)
class Scenario:
    name: str
    skilled: bool
    rules: tuple[Rule, ...]
    drifts: Callable[[np.random.Generator], np.ndarray] = field(default=lambda rng: rng.uniform(-0.10, 0.20, TICKERS))
    years: int = YEARS


SPREAD = np.array([-0.30, -0.10, 0.10, 0.30])


def scenarios() -> list[Scenario]:
    mix = random_mix(0.4, 0.3, 0.3)
    family = (
        mix,
        random_mix(0.5, 0.5, 0.0),
        random_mix(0.3, 0.2, 0.5),
        sticky(0.85),
        sticky(0.95),
        blocks_in_out(4),
        blocks_in_out(8),
        momentum(20),
        buy_the_dip(252, 0.10),
        random_mix(0.15, 0.85, 0.0),
    )
    return [
        Scenario("random mix (40/30/30)", False, (mix,)),
        Scenario("sticky: repeats 85 %", False, (sticky(0.85),)),
        Scenario("sticky: repeats 95 %", False, (sticky(0.95),)),
        Scenario("fixed lean, drifts +-30 %/yr", False, (fixed_lean(SPREAD),), drifts=lambda rng: SPREAD),
        Scenario("cash-heavy (BUY 15 %)", False, (random_mix(0.15, 0.85, 0.0),)),
        Scenario("always SELL", False, (random_mix(0.0, 1.0, 0.0),)),
        Scenario("random mix, market +30 %/yr", False, (mix,), drifts=lambda rng: np.full(TICKERS, 0.30)),
        Scenario("random mix, market -30 %/yr", False, (mix,), drifts=lambda rng: np.full(TICKERS, -0.30)),
        Scenario("month-long in/out blocks", False, (blocks_in_out(4),)),
        Scenario("one lucky trade, 1 year", False, (lucky_trade(),), years=1),
        Scenario("one lucky trade, 5 years", False, (lucky_trade(),)),
        Scenario("momentum (20-day return)", False, (momentum(20),)),
        Scenario("buy the dip (10 % off 252-day high)", False, (buy_the_dip(252, 0.10),)),
        Scenario("ten no-skill strategies together", False, family),
        Scenario("oracle, right 10 % more often", True, (oracle(0.10),)),
        Scenario("oracle, right 20 % more often", True, (oracle(0.20),)),
        Scenario("oracle, right 30 % more often", True, (oracle(0.30),)),
        Scenario("BUY-only oracle, 20 % (else HOLD)", True, (oracle(0.20, otherwise=HOLD),)),
    ]


def settings_from_vars(draws: int) -> ScorecardSettings:
    """The scorecard's settings from the project's vars, with ``draws`` random-timing draws (fewer
    than the scorecard allows, for a quick look or the test's reduced run)."""
    return ScorecardSettings.from_vars(project_vars()).model_copy(update={"random_timing_draws": draws})


def backtest_positions(actions: np.ndarray, decision_days: np.ndarray, days: int) -> np.ndarray:
    """(days, tickers) positions, NaN outside the window: as int_backtest_periods, a decision acts
    from the next day, BUY = 1, SELL = 0, HOLD keeps; flat from the day after the first decision."""
    events = np.full((days, TICKERS), np.nan)
    acting = decision_days + 1
    keep = acting < days
    events[acting[keep]] = np.where(actions[keep] == BUY, 1.0, np.where(actions[keep] == SELL, 0.0, np.nan))
    positions = pd.DataFrame(events).ffill().fillna(0.0).to_numpy(copy=True)
    positions[: acting[0]] = np.nan
    return positions


def strategy_frames(name: str, actions: np.ndarray, decision_days: np.ndarray, market: Market, forward: np.ndarray):
    """The warehouse-shaped rows of one strategy: its scorecard row, decided signals, positions, caps."""
    complete = ~np.isnan(forward[decision_days])
    ticker_of = np.broadcast_to(np.arange(TICKERS), actions.shape)
    day_of = np.broadcast_to(decision_days[:, None], actions.shape)
    decided = pd.DataFrame(
        {
            "strategy": name,
            "ticker": [f"T{t}" for t in ticker_of[complete]],
            "base_day_number": day_of[complete],
            "action": ACTION_NAMES[actions[complete]],
        }
    )
    positions = backtest_positions(actions, decision_days, market.days)
    window = ~np.isnan(positions)
    rows = np.argwhere(window)
    position_rows = pd.DataFrame(
        {
            "strategy": name,
            "ticker": [f"T{t}" for t in rows[:, 1]],
            "date": rows[:, 0],
            "exposure": positions[window],
            "buy_hold_return": market.returns[window],
        }
    )
    calendar = np.flatnonzero(window.any(axis=1))
    caps = pd.DataFrame({"strategy": name, "date": calendar, "position_cap": 0.25})
    hits = signal_hits(decided, forward)
    opened = np.nansum((np.diff(np.nan_to_num(positions), axis=0) > 0) & window[1:])
    row = {
        "strategy": name,
        "signals_from": name,
        "signals": len(decided),
        "hits": int(hits.sum()),
        "hit_rate": float(hits.mean()) if len(decided) else None,
        "trading_days": int(calendar.size),
        "trades": int(opened),
        "invested_days": int((np.nan_to_num(positions) > 0).any(axis=1).sum()),
        "decisions": None,
        "ok_count": None,
    }
    return row, decided, position_rows, caps


def signal_hits(decided: pd.DataFrame, forward: np.ndarray) -> np.ndarray:
    """Whether each decided signal hit (int_forward_outcomes' rule, HOLD band 0.02)."""
    ticker = decided["ticker"].str[1:].astype(int).to_numpy()
    move = forward[decided["base_day_number"].to_numpy(), ticker]
    action = decided["action"].to_numpy()
    return (
        ((action == "BUY") & (move > 0))
        | ((action == "SELL") & (move < 0))
        | ((action == "HOLD") & (np.abs(move) <= 0.02))
    )


def outcome_rows(forward: np.ndarray, band: float) -> pd.DataFrame:
    """int_forward_outcomes of the simulated market."""
    day, ticker = np.nonzero(~np.isnan(forward))
    move = forward[day, ticker]
    return pd.DataFrame(
        {
            "ticker": [f"T{t}" for t in ticker],
            "trading_day_number": day,
            "buy_hits": move > 0,
            "sell_hits": move < 0,
            "hold_hits": np.abs(move) <= band,
        }
    )


def replicate(scenario: Scenario, index: int, settings: ScorecardSettings, band: float) -> list[dict]:
    """One market, every rule of the scenario scored together: their verdict rows."""
    rng = np.random.default_rng([index, sum(map(ord, scenario.name))])
    market = simulate_market(rng, scenario.drifts(rng), scenario.years, settings.horizon_days)
    forward = forward_returns(market, settings.horizon_days)
    decision_days = np.arange(HISTORY_DAYS, market.days - settings.horizon_days - 1, DECISION_STEP)
    rows, decided, positions, caps = [], [], [], []
    for number, rule in enumerate(scenario.rules):
        actions = rule(Decide(market, decision_days, forward[decision_days], rng))
        row, signals, ticker_rows, strategy_caps = strategy_frames(
            f"s{number}", actions, decision_days, market, forward
        )
        rows.append(row), decided.append(signals), positions.append(ticker_rows), caps.append(strategy_caps)
    empty = pd.DataFrame()
    inputs = ScorecardInputs(
        empty,
        empty,
        empty,
        empty,
        pd.concat(positions),
        pd.concat(caps),
        pd.concat(decided),
        outcome_rows(forward, band),
    )
    frame = timing_tests(pd.DataFrame(rows), inputs, settings)
    records = frame.to_dict("records")
    return [record | {"verdict": verdict(record, settings)[0]} for record in records]


@dataclass
class Tally:
    scenario: Scenario
    replicates: int = 0
    edges: int = 0
    signal_rejections: int = 0
    detectable: list[float] = field(default_factory=list)
    excess: list[float] = field(default_factory=list)

    def add(self, rows: list[dict], significance: float) -> None:
        self.replicates += 1
        self.edges += any(row["verdict"] == EDGE for row in rows)
        self.signal_rejections += any(_below(row.get("signal_timing_p_value"), significance) for row in rows)
        for row in rows:
            if _present(row.get("minimum_detectable_effect")):
                self.detectable.append(row["minimum_detectable_effect"])
                self.excess.append(row["hit_rate"] - row["random_timing_hit_rate"])


def _present(value: object) -> bool:
    return value is not None and value == value


def _below(value: object, limit: float) -> bool:
    return _present(value) and value < limit


def wilson(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score 95 % interval of a proportion."""
    if trials == 0:
        return 0.0, 1.0
    share = successes / trials
    centre = (share + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def _work(job: tuple[int, int, int, int]) -> tuple[int, list[dict]]:
    scenario_index, replicate_index, draws, _ = job
    band = project_vars()["hold_hit_band"]
    return scenario_index, replicate(scenarios()[scenario_index], replicate_index, settings_from_vars(draws), band)


def calibrate(replicates: int, draws: int, workers: int, names: list[str] | None = None) -> list[Tally]:
    """Run every scenario (or those named) ``replicates`` times; one Tally per scenario."""
    chosen = [i for i, s in enumerate(scenarios()) if names is None or s.name in names]
    tallies = {i: Tally(scenarios()[i]) for i in chosen}
    jobs = [(i, r, draws, 0) for r in range(replicates) for i in chosen]
    significance = settings_from_vars(draws).significance
    with ProcessPoolExecutor(max_workers=workers) as pool:
        done = pool.map(_work, jobs, chunksize=4) if workers > 1 else map(_work, jobs)
        for index, rows in tqdm(done, total=len(jobs), desc="replicates", unit="run"):
            tallies[index].add(rows, significance)
    return [tallies[i] for i in chosen]


def target_of(tally: Tally) -> tuple[str, bool]:
    """The issue's target for a scenario, and whether the tally meets it."""
    _, high = wilson(tally.edges, tally.replicates)
    share = tally.edges / tally.replicates
    if not tally.scenario.skilled:
        return "<= 5 %, CI high <= 7 %", share <= 0.05 and high <= 0.07
    if "20 %" in tally.scenario.name and "BUY-only" not in tally.scenario.name:
        return "power >= 80 %", share >= 0.80
    return "(reported)", True


def table(tallies: list[Tally]) -> str:
    lines = [
        f"{'scenario':<40}{'edge':>8}{'95 % CI':>17}{'signals p<.05':>15}{'MDE':>7}{'excess':>8}  target",
        "-" * 118,
    ]
    for tally in tallies:
        low, high = wilson(tally.edges, tally.replicates)
        target, met = target_of(tally)
        mde = f"{100 * np.mean(tally.detectable):.1f}" if tally.detectable else "-"
        excess = f"{100 * np.mean(tally.excess):.1f}" if tally.excess else "-"
        lines.append(
            f"{tally.scenario.name:<40}{100 * tally.edges / tally.replicates:>7.1f}%"
            f"{f'[{100 * low:.1f}, {100 * high:.1f}]':>17}{100 * tally.signal_rejections / tally.replicates:>14.1f}%"
            f"{mde:>7}{excess:>8}  {target} {'PASS' if met else 'FAIL'}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=1000, help="simulated markets per scenario (default 1000)")
    parser.add_argument("--draws", type=int, default=2000, help="random-timing draws per test (default 2000)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: one per core)")
    parser.add_argument("--scenario", action="append", help="run only this scenario (repeatable)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    started = time.perf_counter()
    tallies = calibrate(args.replicates, args.draws, args.workers, args.scenario)
    logger.info("%s", table(tallies))
    logger.info(
        "%d replicates x %d scenarios, %d draws, %.0f s on %d workers; MDE and excess in hit-rate points "
        "(mean minimum detectable effect at 80 %% power, mean hit rate minus random timing's)",
        args.replicates,
        len(tallies),
        args.draws,
        time.perf_counter() - started,
        args.workers,
    )
    return 0 if all(target_of(t)[1] for t in tallies) else 1


if __name__ == "__main__":
    sys.exit(main())
