"""One row per strategy: the verdict (random-timing tests, family-wise adjusted), the signal
statistics (SQL), the backtest summary, descriptive statistics (PSR / DSR, bootstrap alpha interval,
SPA against buy-and-hold), the LLM's output health (SQL), and the memorisation checks of each LLM
model (signal_stats.model_checks: its named and blind twins compared, the recall probe, the
cutoff). Pure pandas in and out: the dbt Python model mart_strategy_scorecard and the Spark job
(spark_target.python_job) both call ``build_scorecard`` with the frames ``read_inputs`` reads, so
the two builds run one code path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa

from signal_stats.bootstrap import alpha_interval
from signal_stats.columns import COLUMNS
from signal_stats.hit_rate import binomial_p_value, matched_p_value
from signal_stats.model_checks import (
    blind_verdict,
    check_notes,
    cutoff_figures,
    memorization_figures,
    memorization_passed,
    recall_figures,
)
from signal_stats.random_timing import Permutations
from signal_stats.recall import POOLED_TICKER
from signal_stats.settings import ScorecardSettings
from signal_stats.sharpe import deflated_sharpe_benchmark, probabilistic_sharpe, sharpe_moments
from signal_stats.spa import family_differentials, family_p_value, spa_p_value
from signal_stats.timing_tests import (
    OutcomeSurface,
    adjusted_p_values,
    detectable_effects,
    portfolio_draws,
    raw_p_values,
    signal_draws,
)
from signal_stats.verdict import shortfalls, verdict
from warehouse_core import UserError

SIGNAL_COLUMNS = [
    "model",
    "signals",
    "hits",
    "hit_rate",
    "base_hit_rate",
    "matched_base_hit_rate",
    "up_moves",
    "down_moves",
    "flat_moves",
    "decided_buys",
    "decided_sells",
    "decided_holds",
    "brier_score",
    "pending_signals",
    "buy_share",
    "sell_share",
    "hold_share",
    "mean_confidence",
]
HEALTH_COLUMNS = [
    "decisions",
    "ok_count",
    "invalid_output_count",
    "timeout_count",
    "llm_unavailable_count",
    "latency_p50_ms",
    "latency_p95_ms",
    "completion_tokens_per_second",
]


def signals_source(strategy: str, with_signals: set[str]) -> str | None:
    """The strategy whose signals a strategy trades: itself when it has signals of its own, else the
    longest prefix before a ':' that has (the risk stage's twin ``llm:<model>:no_risk`` trades the
    signals of ``llm:<model>``); None when there is none."""
    candidate = strategy
    while candidate:
        if candidate in with_signals:
            return candidate
        candidate = candidate.rpartition(":")[0]
    return None


def strategy_rows(signal_stats: pd.DataFrame, summary: pd.DataFrame, health: pd.DataFrame) -> pd.DataFrame:
    """One row per strategy of the signals, the backtest or the LLM health (a model that never gave a
    valid answer has no signals, but its strategy still gets a row), with its signal statistics."""
    strategies = sorted(set(signal_stats["strategy"]) | set(summary["strategy"]) | set(health["strategy"]))
    known = set(signal_stats["strategy"])
    frame = pd.DataFrame(
        {"strategy": strategies, "signals_from": [signals_source(s, known) for s in strategies]}, dtype="object"
    )
    stats = signal_stats.rename(columns={"strategy": "signals_from"})[["signals_from", *SIGNAL_COLUMNS]]
    frame = frame.merge(stats, on="signals_from", how="left")
    model_of_strategy = health.set_index("strategy")["model"]
    frame["model"] = frame["model"].fillna(frame["strategy"].map(model_of_strategy))
    for count in ("signals", "hits", "pending_signals"):  # a strategy without signals has none of each
        frame[count] = frame[count].fillna(0).astype(int)
    portfolio = summary[["strategy", "trading_days", "trades", "sharpe_ratio", "alpha_vs_buy_hold"]]
    return frame.merge(portfolio.rename(columns={"alpha_vs_buy_hold": "alpha"}), on="strategy", how="left")


def with_health(frame: pd.DataFrame, health: pd.DataFrame) -> pd.DataFrame:
    """Add the LLM output health of the twin whose answers each strategy trades: its own row
    (``llm:<model>``, ``llm:<model>:blind``), or the one it trades the signals of (``:no_risk``)."""
    twins = set(health["strategy"])
    health_of = frame["strategy"].map(lambda strategy: signals_source(strategy, twins))
    rows = health.set_index("strategy")[HEALTH_COLUMNS]
    return pd.concat([frame, rows.reindex(health_of).reset_index(drop=True).set_axis(frame.index)], axis=1)


def _none_if_nan(value: object) -> object:
    return None if value is None or pd.isna(value) else value


def hit_rate_tests(frame: pd.DataFrame) -> pd.DataFrame:
    """Add hit_rate_p_value (vs always-BUY's base rate) and matched_hit_rate_p_value (vs the base rate
    of random actions in the strategy's own mix)."""
    plain, matched = [], []
    for row in frame.itertuples(index=False):
        plain.append(binomial_p_value(row.hits, row.signals, _none_if_nan(row.base_hit_rate)))
        if row.signals == 0:
            matched.append(None)
            continue
        counts = [int(row.decided_buys), int(row.decided_sells), int(row.decided_holds)]
        rates = [row.up_moves / row.signals, row.down_moves / row.signals, row.flat_moves / row.signals]
        matched.append(matched_p_value(row.hits, counts, rates))
    return frame.assign(hit_rate_p_value=plain, matched_hit_rate_p_value=matched)


def _return_statistics(days: pd.DataFrame, settings: ScorecardSettings) -> dict[str, object]:
    """Sharpe moments of one strategy's daily excess returns, and (with at least min_trading_days
    days) the alpha interval and the SPA p-value."""
    returns = days["strategy_return"].to_numpy(dtype=float)
    buy_hold = days["buy_hold_return"].to_numpy(dtype=float)
    moments = sharpe_moments(returns - settings.daily_risk_free_rate)
    found: dict[str, object] = {
        "moments": moments,
        "daily_sharpe_ratio": None if moments is None else moments.sharpe,
        "probabilistic_sharpe": probabilistic_sharpe(moments, 0.0),
    }
    if len(days) >= settings.min_trading_days:
        bootstrap = {
            "block_size": settings.bootstrap_block_size,
            "reps": settings.bootstrap_reps,
            "seed": settings.seed,
        }
        found["alpha_ci_low"], found["alpha_ci_high"] = alpha_interval(
            returns, buy_hold, periods=settings.trading_days_per_year, level=settings.alpha_ci_level, **bootstrap
        )
        found["spa_p_value"] = spa_p_value(returns - buy_hold, **bootstrap)
    return found


def return_tests(frame: pd.DataFrame, daily: pd.DataFrame, settings: ScorecardSettings) -> pd.DataFrame:
    """Add the per-strategy return statistics, then the DSR against the best of the scorecard's trials:
    the strategies with a backtest portfolio (one without returns was never a trial of a Sharpe ratio)."""
    by_strategy = {name: days.sort_values("date") for name, days in daily.groupby("strategy", sort=True)}
    found = [
        _return_statistics(by_strategy[s], settings) if s in by_strategy else {"moments": None}
        for s in frame["strategy"]
    ]
    computed = ["daily_sharpe_ratio", "probabilistic_sharpe", "alpha_ci_low", "alpha_ci_high", "spa_p_value"]
    stats = pd.DataFrame(found, index=frame.index, columns=["moments", *computed])
    frame[computed] = stats[computed]
    trials = int(frame["trading_days"].notna().sum())  # every backtested strategy is a trial
    benchmark = deflated_sharpe_benchmark(list(stats["daily_sharpe_ratio"]), trials=trials)
    frame["deflated_sharpe_benchmark"] = benchmark
    frame["deflated_sharpe"] = [probabilistic_sharpe(m, benchmark) for m in stats["moments"]]
    return frame


def family_test(frame: pd.DataFrame, daily: pd.DataFrame, settings: ScorecardSettings) -> pd.DataFrame:
    """Add spa_family_p_value: one SPA over every strategy on their common dates, studentised
    (signal_stats.spa.family_p_value), and spa_family_days; null when the common window is shorter
    than min_trading_days."""
    family = family_differentials(daily, settings.min_trading_days)
    p_value = None
    if len(family) >= settings.min_trading_days and family.shape[1] > 0:
        p_value = family_p_value(
            family,
            block_size=settings.bootstrap_block_size,
            reps=settings.bootstrap_reps,
            seed=settings.seed,
        )
    return frame.assign(spa_family_p_value=p_value, spa_family_days=len(family) if p_value is not None else None)


@dataclass(frozen=True)
class ScorecardInputs:
    """Everything the scorecard reads, one frame per warehouse relation (see TABLES)."""

    signal_stats: pd.DataFrame
    health: pd.DataFrame
    summary: pd.DataFrame
    daily: pd.DataFrame
    positions: pd.DataFrame
    caps: pd.DataFrame
    decided: pd.DataFrame
    outcomes: pd.DataFrame
    # no memorisation check, recall probe or known cutoff unless given (code that judges a signals
    # file outside the warehouse: the calibration benchmark, the tests)
    recall: pd.DataFrame = field(default_factory=lambda: _empty("recall"))
    cutoffs: pd.DataFrame = field(default_factory=lambda: _empty("cutoffs"))

    @cached_property
    def surface(self) -> OutcomeSurface:
        """The outcomes as (action, ticker, day) hits, built once for every test that reads them."""
        return OutcomeSurface.from_frame(self.outcomes)


PORTFOLIO_ROWS, TICKER_ROWS = "portfolio", "tickers"
# input -> (relation, rows, columns): rows is a SQL condition (DuckDB and Spark read it alike) or one
# of the two row kinds of the backtest tables; columns None = all
TABLES: dict[str, tuple[str, str | None, list[str] | None]] = {
    "signal_stats": ("int_strategy_signal_stats", None, None),
    "health": ("int_llm_output_health", None, None),
    "summary": ("mart_backtest_summary", PORTFOLIO_ROWS, None),
    "daily": (
        "fct_backtest_daily",
        PORTFOLIO_ROWS,
        ["strategy", "date", "exposure", "strategy_return", "buy_hold_return"],
    ),
    "positions": ("fct_backtest_daily", TICKER_ROWS, ["strategy", "ticker", "date", "exposure", "buy_hold_return"]),
    "caps": ("int_backtest_portfolio_daily", None, ["strategy", "date", "position_cap"]),
    "decided": (
        "int_signal_outcomes",
        "outcome in ('hit', 'miss')",
        ["strategy", "ticker", "signal_date", "base_day_number", "action"],
    ),
    "outcomes": (
        "int_forward_outcomes",
        "forward_return_horizon is not null",
        ["ticker", "trading_day_number", "buy_hits", "sell_hits", "hold_hits"],
    ),
    "recall": (
        "mart_model_recall",
        f"ticker = '{POOLED_TICKER}'",
        ["model", "probes", "spearman_correlation", "p_value", "recalls"],
    ),
    "cutoffs": ("int_llm_training_cutoffs", None, ["model", "training_cutoff"]),
}


def _empty(name: str) -> pd.DataFrame:
    """No rows of the input ``name``, with its columns."""
    return pd.DataFrame(columns=TABLES[name][2])


Reader = Callable[[str, str | None, list[str] | None], pd.DataFrame]
"""(relation, SQL condition or None, columns or None) -> its rows as pandas (dates as datetime64)."""


def read_inputs(read: Reader, settings: ScorecardSettings) -> ScorecardInputs:
    """Read every input through ``read``, which each engine implements over its own tables. Stops
    with a message when the backtest has rows but none carries the portfolio's ticker label."""
    portfolio = f"ticker = '{settings.portfolio_ticker}'"
    conditions = {PORTFOLIO_ROWS: portfolio, TICKER_ROWS: f"ticker <> '{settings.portfolio_ticker}'"}
    frames = {
        name: read(relation, conditions.get(rows, rows), columns) for name, (relation, rows, columns) in TABLES.items()
    }
    if frames["daily"].empty and not frames["positions"].empty:
        raise UserError(
            f"fct_backtest_daily has no rows with {portfolio}: make portfolio_ticker in "
            "models/marts/scorecard/_scorecard.yml equal the portfolio_ticker() macro"
        )
    return ScorecardInputs(**frames)


def timing_tests(frame: pd.DataFrame, inputs: ScorecardInputs, settings: ScorecardSettings) -> pd.DataFrame:
    """Add the random-timing figures of every strategy, scored on the same draws, and their family-wise
    adjusted p-values over the strategies that have enough data to be judged (every one of them is a
    trial; one with too little data cannot be called an edge, so it is not in the family)."""
    surface = inputs.surface
    permutations = Permutations(settings.random_timing_draws, settings.seed)
    by_source = signal_draws(inputs.decided, surface, settings, permutations)
    signals = {s: by_source[f] for s, f in zip(frame["strategy"], frame["signals_from"], strict=True) if f in by_source}
    portfolios = portfolio_draws(inputs.positions, inputs.caps, settings, permutations)
    frame["timed_signals"] = frame["strategy"].map({s: d.tested for s, d in signals.items()})
    frame["random_timing_hit_rate"] = frame["strategy"].map({s: d.draws.mean() for s, d in signals.items() if d.tested})
    frame["signal_timing_p_value"] = frame["strategy"].map(raw_p_values(signals))
    periods = settings.trading_days_per_year
    frame["portfolio_mean_return"] = frame["strategy"].map({s: d.observed * periods for s, d in portfolios.items()})
    frame["random_timing_mean_return"] = frame["strategy"].map(
        {s: float(np.median(d.draws)) * periods for s, d in portfolios.items() if d.tested}
    )
    frame["portfolio_timing_p_value"] = frame["strategy"].map(raw_p_values(portfolios))
    judged = [row["strategy"] for row in frame.to_dict("records") if not shortfalls(row, settings)]
    frame["random_timing_family_size"] = len(judged) if judged else None
    frame["signal_timing_adjusted_p_value"] = frame["strategy"].map(adjusted_p_values(signals, judged))
    frame["portfolio_timing_adjusted_p_value"] = frame["strategy"].map(adjusted_p_values(portfolios, judged))
    frame["minimum_detectable_effect"] = frame["strategy"].map(detectable_effects(signals, judged, settings))
    return frame


def build_scorecard(inputs: ScorecardInputs, settings: ScorecardSettings) -> pd.DataFrame:
    """The scorecard: one row per strategy, columns and dtypes as ``COLUMNS``, ordered by strategy."""
    frame = strategy_rows(inputs.signal_stats, inputs.summary, inputs.health)
    frame = with_health(frame, inputs.health)
    invested = inputs.daily[inputs.daily["exposure"] > 0].groupby("strategy")["date"].count()
    frame["invested_days"] = frame["strategy"].map(invested).where(frame["trading_days"].notna()).fillna(0)
    frame = hit_rate_tests(frame)
    frame = return_tests(frame, inputs.daily, settings)
    frame = family_test(frame, inputs.daily, settings)
    frame = timing_tests(frame, inputs, settings)
    frame = memorization_figures(frame, inputs.decided, inputs.surface, settings)
    frame = recall_figures(frame, inputs.recall)
    frame = cutoff_figures(frame, inputs.decided, inputs.surface, inputs.cutoffs)
    verdicts = [verdict(row, settings) for row in frame.to_dict("records")]
    frame["verdict"] = [v for v, _ in verdicts]
    frame["memorization_check_passed"] = memorization_passed(frame, settings)
    frame["verdict_reason"] = [
        "; ".join([reason, *check_notes(row, blind_verdict(frame, row["strategy"]), settings)])
        for (_, reason), row in zip(verdicts, frame.to_dict("records"), strict=True)
    ]
    return pd.DataFrame({name: _typed(frame[name], dtype) for name, dtype in COLUMNS.items()})


def _typed(values: pd.Series, dtype: str) -> pd.Series:
    """The column in its nullable dtype; NaN and None become NA (NULL in the warehouse)."""
    cleaned = values.astype("object").where(values.notna(), None)
    if dtype == "Int64":
        return pd.array([None if v is None else int(v) for v in cleaned], dtype="Int64")
    if dtype == "Float64":
        return pd.array([None if v is None else float(v) for v in cleaned], dtype="Float64")
    if dtype == "boolean":
        return pd.array([None if v is None else bool(v) for v in cleaned], dtype="boolean")
    if dtype == "date":  # Arrow's date32: DuckDB (and so Spark's copy) stores DATE, even when all null
        dates = [None if v is None else pd.Timestamp(v).date() for v in cleaned]
        return pd.array(dates, dtype=pd.ArrowDtype(pa.date32()))
    return pd.array([None if v is None else str(v) for v in cleaned], dtype=dtype)
