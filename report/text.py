"""Plain-text report in the seed's layout: SUMMARY BY TICKER per strategy, then signal tracking."""

from __future__ import annotations

from report.data import Report

RULE = "-" * 80


def _pct(value: float | None, width: int) -> str:
    return f"{value * 100:>{width}.2f}" if value is not None else f"{'n/a':>{width}}"


def _num(value: float | None, width: int) -> str:
    return f"{value:>{width}.2f}" if value is not None else f"{'n/a':>{width}}"


def _backtest_lines(report: Report, marks: tuple[str, str]) -> list[str]:
    """One SUMMARY BY TICKER table per strategy."""
    lines: list[str] = []
    for strategy in report.strategies:
        rows = [r for r in report.summary if r.strategy == strategy]
        if not rows:
            continue
        first = rows[0]
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
            lines.append(
                f"{r.ticker:<10}{_pct(r.total_return, 9)}{_pct(r.annual_return, 10)}{_pct(r.alpha_vs_buy_hold, 9)}"
                f"{_num(r.sharpe_ratio, 8)}{_pct(r.max_drawdown, 9)}{r.trades:>8d}{marks[0] if r.is_valid else marks[1]:>8}"
            )
    return lines


def render_text(report: Report, ready_limit: int = 50, marks: tuple[str, str] = ("✅", "❌")) -> str:
    lines = _backtest_lines(report, marks)
    t = report.tracking
    rate = f"{t.validation_rate * 100:.1f}%" if t.validation_rate is not None else "n/a"
    lines += [
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
        f"{'Strategy':<34}{'Total':>8}{'Validated':>12}{'Pending':>10}{'Ready':>8}",
        RULE,
    ]
    for s in t.by_strategy:
        lines.append(f"{s.strategy:<34}{s.total:>8d}{s.validated:>12d}{s.pending:>10d}{s.ready:>8d}")
    lines += [
        "",
        "PERFORMANCE BY TICKER",
        RULE,
        f"{'Ticker':<10}{'Total':>8}{'Validated':>12}{'Avg Return':>16}",
        RULE,
    ]
    for k in t.by_ticker:
        avg = f"{k.avg_return * 100:+.1f}%" if k.avg_return is not None else "n/a"
        lines.append(f"{k.ticker:<10}{k.total:>8d}{k.validated:>12d}{avg:>16}")
    lines += ["", f"{marks[0]} SIGNALS READY FOR PAPER TRADING", RULE]
    if not t.ready_for_paper_trading:
        lines.append("  (none: no validated signal from a strategy/ticker whose backtest is valid)")
    for signal_id in t.ready_for_paper_trading[:ready_limit]:
        lines.append(f"  - {signal_id}")
    if len(t.ready_for_paper_trading) > ready_limit:
        lines.append(f"  ... and {len(t.ready_for_paper_trading) - ready_limit} more (--format json lists all)")
    lines.append("")
    lines.append("Advisory only: research output, not orders.")
    return "\n".join(lines[1:]) + "\n"
