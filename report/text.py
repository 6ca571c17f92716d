"""Plain-text report: the headline, header (capital, windows, cash), scorecard verdicts, each strategy's
facts in sentences, then the seed's layout (SUMMARY BY TICKER per strategy, then signal tracking)."""

from __future__ import annotations

import textwrap

from report.data import PORTFOLIO, Report, ScorecardRow
from report.story import failing_flags, headline, strategy_facts
from report.wording import (
    NO_TRADES_NOTE,
    action_mix,
    alpha_with_interval,
    cap_phrase,
    capital_phrase,
    cash_note,
    num,
    p_value,
    pct,
    settings_phrase,
    threshold_phrase,
    timing_phrase,
)

RULE = "-" * 80


def _pct(value: float | None, width: int) -> str:
    return f"{value * 100:>{width}.2f}" if value is not None else f"{'n/a':>{width}}"


def _num(value: float | None, width: int) -> str:
    return f"{value:>{width}.2f}" if value is not None else f"{'n/a':>{width}}"


def _header_lines(report: Report) -> list[str]:
    """Capital, position cap, each strategy's window and cash share, and why the cash is there."""
    header = report.header
    width = max([len("Strategy"), *(len(w.strategy) for w in header.windows)]) + 2
    lines = [
        f"BACKTEST AND SIGNAL REPORT   (warehouse {report.warehouse})",
        *textwrap.wrap(headline(report), width=110),
        "",
        f"Capital: {capital_phrase(header)}",
        f"Position cap: {cap_phrase(header)}; {threshold_phrase(header)}",
        settings_phrase(header),
        "",
        f"{'Strategy':<{width}}{'Window (PORTFOLIO)':<26}{'Days':>6}{'Tickers':>9}{'Cash share':>12}",
    ]
    for w in header.windows:
        lines.append(
            f"{w.strategy:<{width}}{f'{w.start_date} .. {w.end_date}':<26}{w.trading_days:>6d}{w.tickers:>9d}"
            f"{pct(w.cash_share):>12}"
        )
    note = f"Cash share = 1 - mean gross exposure of the PORTFOLIO rows. {cash_note(header)}"
    return [*lines, "", *textwrap.wrap(note, width=110)]


def _verdict_line(row: ScorecardRow, width: int) -> str:
    """One line per strategy: the verdict with the figures that decided it beside it."""
    line = (
        f"{row.strategy:<{width}}{row.verdict:<19}{timing_phrase(row)}  portfolio {p_value(row.portfolio_timing_p_value)}"
        f"  n={row.signals if row.signals is not None else 'n/a'}  |  SPA {p_value(row.spa_p_value)}"
        f"  PSR {num(row.probabilistic_sharpe)}  alpha {alpha_with_interval(row)}"
    )
    return line + (f"  ({row.verdict_reason})" if row.verdict_reason else "")


def _health_lines(rows: list[ScorecardRow], width: int) -> list[str]:
    """LLM output health: how many answers were usable, how fast, and what the model said."""
    llm = [r for r in rows if r.decisions is not None]
    if not llm:
        return []
    lines = [
        "",
        "LLM OUTPUT HEALTH (signal stage)",
        f"{'Strategy':<{width}}{'Decisions':>10}{'ok':>6}{'invalid':>9}{'timeout':>9}{'unavail':>9}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'tok/s':>7}{'BUY/SELL/HOLD%':>16}{'Mean conf':>11}",
    ]
    for r in llm:
        lines.append(
            f"{r.strategy:<{width}}{r.decisions:>10d}{r.ok_count or 0:>6d}{r.invalid_output_count or 0:>9d}"
            f"{r.timeout_count or 0:>9d}{r.llm_unavailable_count or 0:>9d}{num(r.latency_p50_ms, 0):>9}"
            f"{num(r.latency_p95_ms, 0):>9}{num(r.completion_tokens_per_second, 1):>7}{action_mix(r):>16}"
            f"{num(r.mean_confidence):>11}"
        )
    return lines


def _scorecard_lines(report: Report) -> list[str]:
    lines = ["", "SCORECARD (mart_strategy_scorecard: could luck explain the record?)", RULE]
    if report.scorecard is None:
        return [*lines, report.scorecard_missing or "no scorecard: run dbt build"]
    if not report.scorecard:
        return [*lines, "(no strategy in the scorecard)"]
    width = max(len(r.strategy) for r in report.scorecard) + 2
    lines += [_verdict_line(row, width) for row in report.scorecard]
    lines += [
        "",
        "edge = the signals' hit rate beats the same signals at random times (adj p: family-wise adjusted for every",
        "strategy judged here, below 0.05) and the portfolio beats the median random timing of its positions",
        "(portfolio p < 0.5). MDE = the smallest hit-rate edge (points) the test finds with 80% power; n = decided",
        "signals. After the bar, descriptive only: SPA vs buy-and-hold, PSR, alpha per year [90% bootstrap interval].",
    ]
    return lines + _health_lines(report.scorecard, width)


def _facts_lines(report: Report) -> list[str]:
    """Each strategy's numbers explained in sentences (report.story.strategy_facts)."""
    lines = ["", "WHAT THE NUMBERS SAY", RULE]
    for strategy in report.strategies:
        lines.append(strategy)
        for fact in strategy_facts(report, strategy):
            lines += textwrap.wrap(fact, width=108, initial_indent="  - ", subsequent_indent="    ")
    return lines


def _backtest_lines(report: Report, marks: tuple[str, str]) -> list[str]:
    """One SUMMARY BY TICKER table per strategy; a row with no trades says what its figures are."""
    lines: list[str] = []
    for strategy in report.strategies:
        rows = [r for r in report.summary if r.strategy == strategy]
        if not rows:
            continue
        first = next((r for r in rows if r.ticker == PORTFOLIO), rows[0])
        lines += [
            "",
            f"BACKTEST: {strategy}   (capital {first.initial_capital:,.0f}; {first.start_date} .. {first.end_date}; "
            "Valid = every validation flag of mart_backtest_summary)",
            "SUMMARY BY TICKER",
            RULE,
            f"{'Ticker':<10}{'Total%':>9}{'Annual%':>10}{'vs B&H%':>9}{'Sharpe':>8}{'MaxDD%':>9}{'Trades':>8}{'Valid':>9}",
            RULE,
        ]
        for r in rows:
            notes = ([NO_TRADES_NOTE] if r.trades == 0 else []) + failing_flags(r, report.settings)
            note = f"  {'; '.join(notes)}" if notes else ""
            lines.append(
                f"{r.ticker:<10}{_pct(r.total_return, 9)}{_pct(r.annual_return, 10)}{_pct(r.alpha_vs_buy_hold, 9)}"
                f"{_num(r.sharpe_ratio, 8)}{_pct(r.max_drawdown, 9)}{r.trades:>8d}{marks[0] if r.is_valid else marks[1]:>8}"
                f"{note}"
            )
    return lines


def _tracking_lines(report: Report, ready_limit: int, marks: tuple[str, str]) -> list[str]:
    t = report.tracking
    width = max([34, *(len(s.strategy) + 2 for s in t.by_strategy)])  # long LLM strategy names stay in their column
    rate = f"{t.validation_rate * 100:.1f}%" if t.validation_rate is not None else "n/a"
    lines = [
        "",
        "SIGNAL TRACKING",
        "OVERALL SUMMARY",
        RULE,
        f"Total Signals Tracked: {t.total_signals}",
        f"Validated Signals: {t.validated_signals}",
        f"Pending (outcome window not complete): {t.pending_signals}",
        f"Validation Rate: {rate}",
        f"Ready for Trading: {t.ready_for_trading}",
        "",
        "PERFORMANCE BY STRATEGY",
        RULE,
        f"{'Strategy':<{width}}{'Total':>8}{'Validated':>12}{'Pending':>10}{'Ready':>8}",
        RULE,
    ]
    lines += [
        f"{s.strategy:<{width}}{s.total:>8d}{s.validated:>12d}{s.pending:>10d}{s.ready:>8d}" for s in t.by_strategy
    ]
    lines += ["", "PERFORMANCE BY TICKER", RULE, f"{'Ticker':<10}{'Total':>8}{'Validated':>12}{'Avg Return':>16}", RULE]
    for k in t.by_ticker:
        avg = f"{k.avg_return * 100:+.1f}%" if k.avg_return is not None else "n/a"
        lines.append(f"{k.ticker:<10}{k.total:>8d}{k.validated:>12d}{avg:>16}")
    lines += ["", f"{marks[0]} SIGNALS READY FOR PAPER TRADING", RULE]
    if not t.ready_for_paper_trading:
        lines.append("  (none: no validated signal from a strategy/ticker whose backtest is valid)")
    lines += [f"  - {signal_id}" for signal_id in t.ready_for_paper_trading[:ready_limit]]
    if len(t.ready_for_paper_trading) > ready_limit:
        lines.append(f"  ... and {len(t.ready_for_paper_trading) - ready_limit} more (--format json lists all)")
    return lines


def render_text(report: Report, ready_limit: int = 50, marks: tuple[str, str] = ("✅", "❌")) -> str:
    lines = _header_lines(report) + _scorecard_lines(report) + _facts_lines(report) + _backtest_lines(report, marks)
    lines += _tracking_lines(report, ready_limit, marks)
    lines += ["", "Advisory only: research output, not orders."]
    return "\n".join(lines) + "\n"
