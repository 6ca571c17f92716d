"""What the report shows, loaded from the marts into typed records."""

from __future__ import annotations

from datetime import date

import duckdb
from pydantic import BaseModel

from report.warehouse import fetch


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


class Report(BaseModel):
    warehouse: str
    strategies: list[str]
    summary: list[TickerSummary]
    tracking: TrackingReport


def _strategy_filter(strategies: list[str] | None) -> tuple[str, list[object]]:
    if not strategies:
        return "true", []
    return f"strategy in ({', '.join('?' for _ in strategies)})", list(strategies)


def load_report(con: duckdb.DuckDBPyConnection, warehouse: str, strategies: list[str] | None = None) -> Report:
    where, params = _strategy_filter(strategies)
    summary = [
        TickerSummary(**row)
        for row in fetch(
            con,
            f"select * from mart_backtest_summary where {where} order by strategy, ticker = 'PORTFOLIO', ticker",
            params,
        )
    ]
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
    tracking = TrackingReport(
        total_signals=totals["total"],
        validated_signals=totals["validated"],
        pending_signals=totals["pending"],
        validation_rate=totals["validated"] / decided if decided else None,
        ready_for_trading=totals["ready"],
        by_strategy=[StrategyTracking(**r) for r in by_strategy],
        by_ticker=[TickerTracking(**r) for r in by_ticker],
        ready_for_paper_trading=[r["signal_id"] for r in ready],
    )
    found = sorted({row.strategy for row in summary} | {r["strategy"] for r in by_strategy})
    return Report(warehouse=warehouse, strategies=found, summary=summary, tracking=tracking)


class DailyPoint(BaseModel):
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
