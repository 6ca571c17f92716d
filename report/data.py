"""What the report shows, loaded from the marts into typed records: every query of the report lives here."""

from __future__ import annotations

from datetime import date
from typing import Literal, NamedTuple

import duckdb
from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from report.warehouse import SCORECARD, fetch, has_relation
from signal_stats.columns import COLUMNS
from warehouse_core import UserError
from warehouse_core.strategy_names import states_confidence_sql

PORTFOLIO = "PORTFOLIO"  # the portfolio rows' ticker label (macros: portfolio_ticker())
# Strategies whose confidence is their own statement (the calibration chart)
STATES_CONFIDENCE = states_confidence_sql()


class TickerSummary(BaseModel):
    """One mart_backtest_summary row (the columns the report uses; fractions, not percents)."""

    strategy: str
    ticker: str
    start_date: date
    end_date: date
    trading_days: int
    initial_capital: float
    final_equity: float
    total_return: float
    annual_return: float
    annual_volatility: float | None
    sharpe_ratio: float | None
    sortino_ratio: float | None
    max_drawdown: float
    calmar_ratio: float | None
    buy_hold_return: float
    buy_hold_annual_return: float
    alpha_vs_buy_hold: float
    beta: float | None
    capm_alpha: float | None
    win_rate: float | None
    trades: int
    exposure: float
    turnover: float
    passes_min_return: bool
    beats_buy_hold: bool
    passes_min_days: bool
    passes_sharpe: bool
    passes_capital: bool
    is_valid: bool


class TickerTracking(BaseModel):
    ticker: str
    total: int
    validated: int
    avg_return: float | None  # mean return of following the signal over the validation horizon


class StrategyTracking(BaseModel):
    strategy: str
    total: int
    validated: int
    pending: int
    ready: int


class TrackingReport(BaseModel):
    total_signals: int
    validated_signals: int
    pending_signals: int
    validation_rate: float | None  # validated / signals whose outcome is known
    ready_for_trading: int
    by_strategy: list[StrategyTracking]
    by_ticker: list[TickerTracking]
    ready_for_paper_trading: list[str]


class StrategyWindow(BaseModel):
    """One strategy's PORTFOLIO backtest: its window and how much of it sat in cash."""

    strategy: str
    start_date: date
    end_date: date
    trading_days: int
    tickers: int  # tickers with a backtest row for the strategy
    initial_capital: float
    # "gross exposure" is the sum of the position weights on a day; "time in market" (mart_backtest_summary's
    # exposure column) is the share of days with any position: the report never calls either plain "exposure"
    mean_gross_exposure: float | None  # mean gross exposure of the PORTFOLIO rows of fct_backtest_daily
    cash_share: float | None  # 1 - mean_gross_exposure


class BuildSettings(BaseModel):
    """The dbt vars the report needs and the warehouse does not record (read by the CLI)."""

    position_cap: float | None = None  # var max_position_size: largest weight of one ticker in a portfolio
    confidence_threshold: float | None = None  # var confidence_threshold: signals below it do not trade
    source: str = "unknown"  # where the vars were read
    confidence_buckets: int = 10  # var analysis_confidence_buckets
    min_bucket_signals: int = (
        10  # var analysis_min_bucket_signals: fewer decided signals in a bucket are too few to read
    )
    # the validation thresholds behind mart_backtest_summary's flags (vars of the same names), so the
    # report can say which flag failed and by what rule; None: not known
    min_annual_return: float | None = None
    min_trading_days: int | None = None
    min_sharpe_ratio: float | None = None
    min_capital: float | None = None


class ReportHeader(BaseModel):
    capital: list[float]  # the distinct initial_capital of the backtests (one unless builds were mixed)
    position_cap: float | None
    confidence_threshold: float | None
    settings_source: str
    windows: list[StrategyWindow]


Verdict = Literal["edge", "no_edge", "insufficient_data"]


# The scorecard columns the report cannot do without: a table lacking one is from another version.
# Every other column of signal_stats.columns.COLUMNS is read when the table has it (warehouses built
# before the random-timing verdict have none of its figures).
REQUIRED_SCORECARD_COLUMNS = (
    "strategy",
    "model",
    "signals",
    "hits",
    "hit_rate",
    "base_hit_rate",
    "hit_rate_p_value",
    "brier_score",
    "sharpe_ratio",
    "probabilistic_sharpe",
    "deflated_sharpe",
    "alpha",
    "alpha_ci_low",
    "alpha_ci_high",
    "spa_p_value",
    "verdict",
)
_PYTHON_TYPES: dict[str, type] = {"string": str, "Int64": int, "Float64": float, "boolean": bool, "date": date}


class _ScorecardBase(BaseModel):
    # any column not in COLUMNS is kept as is (extra), so the JSON report shows every column the mart holds
    model_config = ConfigDict(extra="allow", protected_namespaces=())

    strategy: str
    verdict: Verdict


ScorecardRow = create_model(
    "ScorecardRow",
    __base__=_ScorecardBase,
    __doc__="One mart_strategy_scorecard row, typed from the scorecard's column list (signal_stats.columns).",
    **{
        name: (_PYTHON_TYPES[dtype] | None, ... if name in REQUIRED_SCORECARD_COLUMNS else None)
        for name, dtype in COLUMNS.items()
        if name not in _ScorecardBase.model_fields
    },
)


class CalibrationBucket(BaseModel):
    """Decided signals of one strategy whose confidence falls in one equal-width bucket."""

    strategy: str
    bucket: int
    signals: int
    mean_confidence: float
    hit_rate: float
    too_few: bool = False  # fewer signals than var analysis_min_bucket_signals: its hit rate says little


class SignalMix(BaseModel):
    """What one strategy said on one ticker, and how much of it the backtest could act on.

    ``buy``, ``sell`` and ``hold`` count the actions. ``below_threshold`` counts the signals below the
    confidence threshold (any action: the backtest ignores them) and ``acted`` the BUYs and SELLs at or
    above it (the backtest acts on them); the rest are HOLDs at or above it (they keep the position).
    Without a known threshold ``below_threshold`` is 0 and every BUY or SELL counts as acted on."""

    strategy: str
    ticker: str
    signals: int
    buy: int
    sell: int
    hold: int
    mean_confidence: float | None
    below_threshold: int
    acted: int


class Report(BaseModel):
    warehouse: str
    strategies: list[str]
    header: ReportHeader
    scorecard: list[ScorecardRow] | None  # None: the warehouse has no mart_strategy_scorecard
    scorecard_missing: str | None = None  # what to do when scorecard is None
    summary: list[TickerSummary]
    tracking: TrackingReport
    calibration: list[CalibrationBucket]
    signal_mix: list[SignalMix] = []  # per (strategy, ticker), from mart_signal_tracking
    settings: BuildSettings = BuildSettings()  # the vars the report read (thresholds for its sentences)


def _strategy_filter(strategies: list[str] | None) -> tuple[str, list[object]]:
    if not strategies:
        return "true", []
    return f"strategy in ({', '.join('?' for _ in strategies)})", list(strategies)


def load_report(
    con: duckdb.DuckDBPyConnection,
    warehouse: str,
    strategies: list[str] | None = None,
    settings: BuildSettings | None = None,
) -> Report:
    """Everything but the daily series."""
    settings = settings or BuildSettings()
    where, params = _strategy_filter(strategies)
    summary = [
        TickerSummary(**row)
        for row in fetch(
            con,
            f"select * from mart_backtest_summary where {where} order by strategy, ticker = '{PORTFOLIO}', ticker",
            params,
        )
    ]
    tracking = _load_tracking(con, where, params)
    scorecard = load_scorecard(con, strategies)
    found = sorted({row.strategy for row in summary} | {s.strategy for s in tracking.by_strategy})
    return Report(
        warehouse=warehouse,
        strategies=found,
        header=load_header(con, strategies, settings),
        scorecard=scorecard,
        scorecard_missing=None if scorecard is not None else "no scorecard: run dbt build",
        summary=summary,
        tracking=tracking,
        calibration=load_calibration(con, strategies, settings.confidence_buckets, settings.min_bucket_signals),
        signal_mix=load_signal_mix(con, strategies, settings.confidence_threshold),
        settings=settings,
    )


def _load_tracking(con: duckdb.DuckDBPyConnection, where: str, params: list[object]) -> TrackingReport:
    totals = fetch(
        con,
        f"""
        select count(*) as total,
               count(*) filter (where is_hit) as validated,
               count(*) filter (where outcome = 'pending') as pending,
               count(*) filter (where ready_for_paper_trading) as ready
        from mart_signal_tracking where {where}
        """,
        params,
    )[0]
    by_strategy = fetch(
        con,
        f"""
        select strategy, count(*) as total, count(*) filter (where is_hit) as validated,
               count(*) filter (where outcome = 'pending') as pending,
               count(*) filter (where ready_for_paper_trading) as ready
        from mart_signal_tracking where {where} group by strategy order by strategy
        """,
        params,
    )
    by_ticker = fetch(
        con,
        f"""
        select ticker, count(*) as total, count(*) filter (where is_hit) as validated,
               avg(signal_return) as avg_return
        from mart_signal_tracking where {where} group by ticker order by ticker
        """,
        params,
    )
    ready = fetch(
        con,
        f"select signal_id from mart_signal_tracking where {where} and ready_for_paper_trading order by signal_date, signal_id",
        params,
    )
    decided = totals["total"] - totals["pending"]
    return TrackingReport(
        total_signals=totals["total"],
        validated_signals=totals["validated"],
        pending_signals=totals["pending"],
        validation_rate=totals["validated"] / decided if decided else None,
        ready_for_trading=totals["ready"],
        by_strategy=[StrategyTracking(**r) for r in by_strategy],
        by_ticker=[TickerTracking(**r) for r in by_ticker],
        ready_for_paper_trading=[r["signal_id"] for r in ready],
    )


def load_header(con: duckdb.DuckDBPyConnection, strategies: list[str] | None, settings: BuildSettings) -> ReportHeader:
    """Capital, each strategy's PORTFOLIO window and its cash share (1 - mean gross exposure)."""
    where, params = _strategy_filter(strategies)
    rows = fetch(
        con,
        f"""
        with portfolio_rows as (
            select strategy, start_date, end_date, trading_days, initial_capital
            from mart_backtest_summary where ticker = '{PORTFOLIO}' and {where}
        ),
        ticker_counts as (
            select strategy, count(*) as tickers
            from mart_backtest_summary where ticker <> '{PORTFOLIO}' and {where} group by strategy
        ),
        exposures as (
            select strategy, avg(exposure) as mean_gross_exposure
            from fct_backtest_daily where ticker = '{PORTFOLIO}' and {where} group by strategy
        )
        select portfolio_rows.*, coalesce(ticker_counts.tickers, 0) as tickers, exposures.mean_gross_exposure,
               1 - exposures.mean_gross_exposure as cash_share
        from portfolio_rows
        left join ticker_counts using (strategy)
        left join exposures using (strategy)
        order by strategy
        """,
        params * 3,
    )
    windows = [StrategyWindow(**row) for row in rows]
    return ReportHeader(
        capital=sorted({w.initial_capital for w in windows}),
        position_cap=settings.position_cap,
        confidence_threshold=settings.confidence_threshold,
        settings_source=settings.source,
        windows=windows,
    )


def load_scorecard(con: duckdb.DuckDBPyConnection, strategies: list[str] | None) -> list[ScorecardRow] | None:
    """The scorecard rows, or None when the warehouse was built before mart_strategy_scorecard existed."""
    if not has_relation(con, SCORECARD):
        return None
    where, params = _strategy_filter(strategies)
    rows = fetch(con, f"select * from {SCORECARD} where {where} order by strategy", params)
    try:
        return [ScorecardRow(**row) for row in rows]
    except ValidationError as exc:
        problem = exc.errors()[0]
        column = ".".join(str(part) for part in problem["loc"][:1])
        raise UserError(
            f"{SCORECARD} column {column}: {problem['msg']}: the table is from another version, run `dbt build`"
        ) from None


def load_calibration(
    con: duckdb.DuckDBPyConnection, strategies: list[str] | None, buckets: int, min_signals: int = 1
) -> list[CalibrationBucket]:
    """Decided signals per strategy that states its confidence, in ``buckets`` equal-width buckets
    (analyses/signal_confidence_calibration.sql's rule: confidence 1.0 is in the top bucket); a bucket
    with fewer than ``min_signals`` is marked ``too_few``."""
    where, params = _strategy_filter(strategies)
    rows = fetch(
        con,
        f"""
        select strategy,
               cast(least(floor(confidence * {int(buckets)}), {int(buckets)} - 1) as integer) as bucket,
               count(*) as signals, avg(confidence) as mean_confidence,
               avg(case when is_hit then 1.0 else 0.0 end) as hit_rate
        from mart_signal_tracking
        where outcome in ('hit', 'miss') and confidence is not null and {STATES_CONFIDENCE} and {where}
        group by strategy, bucket order by strategy, bucket
        """,
        params,
    )
    return [CalibrationBucket(**row, too_few=row["signals"] < min_signals) for row in rows]


def load_signal_mix(
    con: duckdb.DuckDBPyConnection, strategies: list[str] | None, threshold: float | None
) -> list[SignalMix]:
    """Each (strategy, ticker)'s signals by action, and how many the backtest could act on."""
    where, params = _strategy_filter(strategies)
    below = "confidence < ?" if threshold is not None else "false"
    rows = fetch(
        con,
        f"""
        with signals as (
            select strategy, ticker, action, confidence, coalesce({below}, false) as is_below_threshold
            from mart_signal_tracking where {where}
        )
        select strategy, ticker, count(*) as signals,
               count(*) filter (where action = 'BUY') as buy,
               count(*) filter (where action = 'SELL') as sell,
               count(*) filter (where action = 'HOLD') as hold,
               avg(confidence) as mean_confidence,
               count(*) filter (where is_below_threshold) as below_threshold,
               count(*) filter (where not is_below_threshold and action in ('BUY', 'SELL')) as acted
        from signals group by strategy, ticker order by strategy, ticker
        """,
        ([threshold] if threshold is not None else []) + params,
    )
    return [SignalMix(**row) for row in rows]


class EquityPoint(NamedTuple):
    """One day of a strategy's PORTFOLIO, for the overview chart."""

    date: date
    equity: float
    buy_hold_equity: float


def load_portfolio_equity(con: duckdb.DuckDBPyConnection, strategies: list[str]) -> dict[str, list[EquityPoint]]:
    """Each strategy's PORTFOLIO equity and its buy-and-hold basket's, by date (the overview chart)."""
    where, params = _strategy_filter(strategies)
    rows = fetch(
        con,
        f"""
        select strategy, date, equity, buy_hold_equity from fct_backtest_daily
        where ticker = '{PORTFOLIO}' and {where} order by strategy, date
        """,
        params,
    )
    series: dict[str, list[EquityPoint]] = {s: [] for s in strategies}
    for row in rows:
        series.setdefault(row.pop("strategy"), []).append(EquityPoint(**row))
    return series


class DailyPoint(NamedTuple):
    """One day of one backtest, for the charts (a tuple, not a model: thousands per chart, typed by DuckDB)."""

    date: date
    equity: float
    buy_hold_equity: float
    drawdown: float
    buy_hold_drawdown: float
    exposure: float
    adj_close: float | None


class SignalMark(BaseModel):
    signal_date: date
    action: str
    confidence: float
    outcome: str


def load_daily(con: duckdb.DuckDBPyConnection, strategy: str, ticker: str) -> list[DailyPoint]:
    rows = fetch(
        con,
        """
        select
            daily.date, daily.equity, daily.buy_hold_equity, daily.drawdown,
            -- same definition as drawdown (the running maximum includes the initial capital);
            -- fct_backtest_daily does not store it, so only the series drawn pays for the window
            daily.buy_hold_equity / greatest(
                max(daily.buy_hold_equity) over (order by daily.date rows between unbounded preceding and current row),
                summary.initial_capital
            ) - 1 as buy_hold_drawdown,
            daily.exposure, daily.adj_close
        from fct_backtest_daily as daily
        join mart_backtest_summary as summary using (strategy, ticker)
        where daily.strategy = ? and daily.ticker = ? order by daily.date
        """,
        [strategy, ticker],
    )
    return [DailyPoint(**r) for r in rows]


def load_signals(con: duckdb.DuckDBPyConnection, strategy: str, ticker: str) -> list[SignalMark]:
    rows = fetch(
        con,
        "select signal_date, action, confidence, outcome from mart_signal_tracking where strategy = ? and ticker = ? order by signal_date",
        [strategy, ticker],
    )
    return [SignalMark(**r) for r in rows]
