"""Self-contained HTML report: one file, inline CSS and SVG, no JavaScript, no network.

What a reader wants first comes first: the headline (which strategies show an edge, and the reason that
matters most), the header (capital, windows, cash share), the scorecard (verdicts with their p-values),
each strategy's facts in sentences, one chart of every strategy's PORTFOLIO equity against its
buy-and-hold yardstick and a calibration chart per LLM model; then, collapsed, each strategy's
per-ticker table and charts, and signal tracking.
"""

from __future__ import annotations

import bisect
import html
from collections.abc import Callable, Sequence
from datetime import date

from tqdm import tqdm

from report.charts import (
    BUY_HOLD_COLOR,
    YARDSTICK_DASH,
    Line,
    Mark,
    calibration_chart,
    equity_and_drawdown_chart,
    equity_axis,
    legend,
    strategy_colors,
    time_chart,
)
from report.data import (
    PORTFOLIO,
    BuildSettings,
    DailyPoint,
    EquityPoint,
    Report,
    ScorecardRow,
    SignalMark,
    TickerSummary,
)
from report.story import headline, strategy_facts, validity_phrase
from report.wording import (
    NO_TRADES_NOTE,
    VERDICT_MEANING,
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
)

Colors = dict[str, tuple[str, str]]
DailyLoader = Callable[[str, str], list[DailyPoint]]
SignalLoader = Callable[[str, str], list[SignalMark]]

STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d1d1f;background:#f4f5f7}
main{padding:18px 28px 40px;max-width:1800px;margin:0 auto}
h1{font-size:24px;margin:4px 0 2px}
.headline{font-size:17px;font-weight:600;margin:8px 0 4px;padding:10px 14px;background:#fff;border-left:5px solid #1f77b4;border-radius:4px}
.stories{display:grid;grid-template-columns:repeat(auto-fit,minmax(400px,1fr));gap:4px 24px}
.stories h3{margin:6px 0 2px}ul.story{margin:2px 0 6px;padding-left:18px;font-size:13px;line-height:1.45}h2{font-size:19px;margin:26px 0 8px}h3{font-size:15px;margin:14px 0 6px}
.card{background:#fff;border:1px solid #e2e4e8;border-radius:8px;padding:12px 16px;margin:10px 0}
.note{color:#555;font-size:13px;line-height:1.45}.muted{color:#777}
.facts{display:flex;flex-wrap:wrap;gap:6px 28px;font-size:14px;margin:6px 0 10px}.facts b{font-weight:600}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:13px}table.wide{width:100%}
th,td{padding:4px 9px;text-align:right;border-bottom:1px solid #eceef1;white-space:nowrap}
th{background:#f7f8fa;font-weight:600;position:sticky;top:0}
th:first-child,td:first-child{text-align:left}
td.reason{text-align:left;white-space:normal;min-width:200px;color:#444;font-size:12px}
th{white-space:normal;vertical-align:bottom}
tr.why td{white-space:normal;text-align:left;color:#555;font-size:12px;padding:0 9px 6px 28px;border-bottom:1px solid #e2e4e8}
tr:has(+tr.why) td{border-bottom:none}
tr.notrade td{color:#888;background:#fbfbf3}
.verdict{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:12px;color:#fff}
.edge{background:#1e8e3e}.no_edge{background:#c5221f}.insufficient_data{background:#8a8f98}
.sig{font-weight:700;color:#1e8e3e}
.valid{color:#1e8e3e;font-weight:600}.invalid{color:#c5221f}
.bar{display:inline-block;height:9px;background:#c9d3e3;border-radius:2px;vertical-align:middle;margin-right:6px}
.overview{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:14px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:12px}
figure{margin:0;background:#fff;border:1px solid #e2e4e8;border-radius:8px;padding:8px 10px}
figcaption{font-size:13px;font-weight:600;margin:0 0 4px}
svg.chart{width:100%;height:auto;display:block}svg.square{max-width:520px;margin:0 auto}
svg .grid{stroke:#eceef1;stroke-width:1}svg .tick{font-size:11px;fill:#666}
svg .axis{font-size:12px;fill:#333;font-weight:600}svg .count{font-size:10px;fill:#444}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px;margin:6px 0 2px}
.legend i{display:inline-block;width:22px;margin-right:6px;vertical-align:middle}
details{background:#fff;border:1px solid #e2e4e8;border-radius:8px;margin:8px 0;padding:6px 12px}
details>summary{cursor:pointer;font-size:15px;padding:4px 0}
details details{border-color:#eceef1;background:#fafbfc}
.missing{background:#fff4e5;border:1px solid #f0c36d;border-radius:8px;padding:10px 14px;font-weight:600}
"""


def _esc(text: object) -> str:
    return html.escape(str(text))


def _verdict(verdict: str) -> str:
    return (
        f'<span class="verdict {verdict}" title="{_esc(VERDICT_MEANING.get(verdict, verdict))}">{_esc(verdict)}</span>'
    )


def _p_cell(value: float | None, bar: float | None = 0.05) -> str:
    """A p-value cell, green when it passes ``bar`` (None: descriptive, never green)."""
    text = _esc(p_value(value).removeprefix("p="))
    passes = value is not None and bar is not None and value < bar
    return f'<td class="sig">{text}</td>' if passes else f"<td>{text}</td>"


def _points(value: float | None) -> str:
    """A hit-rate difference in points: 0.041 -> '4.1 pts'."""
    return "n/a" if value is None else f"{value * 100:.1f} pts"


def _table(head: Sequence[str], rows: Sequence[str], wide: bool = False) -> str:
    header = "".join(f"<th>{h}</th>" for h in head)
    table = '<table class="wide">' if wide else "<table>"
    return f'<div class="scroll">{table}<thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _header_section(report: Report) -> str:
    header = report.header
    rows = [
        f"<tr><td>{_esc(w.strategy)}</td><td>{w.start_date} .. {w.end_date}</td><td>{w.trading_days}</td>"
        f"<td>{w.tickers}</td><td>{pct(w.mean_gross_exposure)}</td>"
        f'<td><span class="bar" style="width:{(w.cash_share or 0) * 90:.0f}px"></span>{pct(w.cash_share)}</td></tr>'
        for w in header.windows
    ]
    return (
        '<section class="card"><div class="facts">'
        f"<span><b>Capital</b> {_esc(capital_phrase(header))}</span>"
        f"<span><b>Position cap</b> {_esc(cap_phrase(header))}</span>"
        f"<span><b>Confidence</b> {_esc(threshold_phrase(header))}</span>"
        f"<span><b>Strategies</b> {len(report.strategies)}</span>"
        f"<span><b>Signals tracked</b> {report.tracking.total_signals}</span></div>"
        + _table(("Strategy", "Window (PORTFOLIO)", "Days", "Tickers", "Mean gross exposure", "Cash share"), rows)
        + f'<p class="note">Cash share = 1 − mean gross exposure of the PORTFOLIO rows. {_esc(cash_note(header))} '
        f"{_esc(settings_phrase(header))}</p></section>"
    )


SCORECARD_HEAD = (
    "Strategy",
    "Verdict",
    "Signals",
    "Hit rate",
    "At random times",
    "Adjusted p",
    "Raw p",
    "Smallest detectable edge",
    "Portfolio p",
    "SPA p",
    "PSR",
    "DSR",
    "Alpha/yr [90% CI]",
    "Sharpe",
    "Brier",
)
HEALTH_HEAD = (
    "LLM strategy",
    "Decisions",
    "ok",
    "invalid output",
    "timeout",
    "unavailable",
    "Latency p50 ms",
    "p95 ms",
    "Tokens/s",
    "BUY/SELL/HOLD %",
    "Mean confidence",
)


def _scorecard_row(r: ScorecardRow, colors: Colors) -> str:
    color = colors.get(r.strategy, ("#000", ""))[0]
    return (
        f'<tr><td><i style="color:{color}">■</i> {_esc(r.strategy)}</td><td>{_verdict(r.verdict)}</td>'
        f"<td>{r.signals if r.signals is not None else 'n/a'}</td><td>{pct(r.hit_rate)}</td>"
        f"<td>{pct(r.random_timing_hit_rate)}</td>{_p_cell(r.signal_timing_adjusted_p_value)}"
        f"{_p_cell(r.signal_timing_p_value)}<td>{_points(r.minimum_detectable_effect)}</td>"
        f"{_p_cell(r.portfolio_timing_p_value, 0.5)}{_p_cell(r.spa_p_value, None)}<td>{num(r.probabilistic_sharpe)}</td>"
        f"<td>{num(r.deflated_sharpe)}</td><td>{_esc(alpha_with_interval(r))}</td><td>{num(r.sharpe_ratio)}</td>"
        f"<td>{num(r.brier_score, 3)}</td></tr>"
        + (
            f'<tr class="why"><td colspan="{len(SCORECARD_HEAD)}">{_esc(r.verdict_reason)}</td></tr>'
            if r.verdict_reason
            else ""
        )
    )


def _health_row(r: ScorecardRow) -> str:
    return (
        f"<tr><td>{_esc(r.strategy)}</td><td>{r.decisions}</td><td>{r.ok_count or 0}</td>"
        f"<td>{r.invalid_output_count or 0}</td><td>{r.timeout_count or 0}</td><td>{r.llm_unavailable_count or 0}</td>"
        f"<td>{num(r.latency_p50_ms, 0)}</td><td>{num(r.latency_p95_ms, 0)}</td>"
        f"<td>{num(r.completion_tokens_per_second, 1)}</td><td>{action_mix(r)}</td><td>{num(r.mean_confidence)}</td></tr>"
    )


def _scorecard_section(report: Report, colors: Colors) -> str:
    title = "<h2>Scorecard: could luck explain the record?</h2>"
    if report.scorecard is None:
        return f'{title}<p class="missing">{_esc(report.scorecard_missing or "no scorecard: run dbt build")}</p>'
    rows = [_scorecard_row(r, colors) for r in report.scorecard]
    health = [_health_row(r) for r in report.scorecard if r.decisions is not None]
    family = next((r.spa_family_p_value for r in report.scorecard if r.spa_family_p_value is not None), None)
    family_note = f" Family-wise SPA over every strategy: {p_value(family)}." if family is not None else ""
    return (
        f'{title}<section class="card">{_table(SCORECARD_HEAD, rows, wide=True)}<p class="note">'
        "<b>edge</b> when the signals were right more often than the same signals at random times (the market's "
        "outcomes moved in blocks, the strategy's decisions untouched), with a p-value adjusted for every strategy "
        "judged here below 0.05 (Adjusted p), and the portfolio beat the median random timing of its own positions "
        "(Portfolio p below 0.5). Smallest detectable edge: the hit-rate points above random timing the test finds "
        "with 80 % power on this many signals; a no_edge with a large one means the data could not show less. "
        "Green: a p-value that passes its bar. SPA p (vs buy-and-hold), PSR, DSR, alpha and Brier are descriptive "
        f"(Brier: 0 is perfect, 0.25 is a coin).{family_note}"
        "</p>"
        + (f"<h3>LLM output health (signal stage)</h3>{_table(HEALTH_HEAD, health)}" if health else "")
        + "</section>"
    )


def _yardsticks(series: dict[str, list[tuple[date, float]]], colors: Colors) -> list[Line]:
    """Each strategy's buy-and-hold yardstick, dotted in the strategy's colour and labelled with it. Strategies
    whose yardsticks are the same series (the same window: an LLM model and its un-sized twin) share one
    line, labelled with all of them and coloured like the first."""
    owners: dict[tuple, list[str]] = {}
    for strategy, points in series.items():
        if points:
            key = (points[0][0], points[-1][0], len(points), round(points[-1][1], 6))
            owners.setdefault(key, []).append(strategy)
    lines = []
    for strategies in owners.values():
        label = "buy-and-hold basket of " + (
            "every strategy" if len(strategies) == len(series) > 1 else " and ".join(strategies)
        )
        lines.append(Line(label, colors[strategies[0]][0], series[strategies[0]], dash=YARDSTICK_DASH, width=1.6))
    return lines


def _rebased(points: list[EquityPoint], start: date, end: date, capital: float) -> tuple[list, list]:
    """Equity and buy-and-hold from ``start`` to ``end``, both rebased to ``capital`` at the close before ``start``."""
    before = [p for p in points if p.date < start]
    base, base_bh = (before[-1].equity, before[-1].buy_hold_equity) if before else (capital, capital)
    inside = [p for p in points if start <= p.date <= end]
    return (
        [(p.date, p.equity / base * capital) for p in inside],
        [(p.date, p.buy_hold_equity / base_bh * capital) for p in inside],
    )


def _common_window_chart(report: Report, portfolio: dict[str, list[EquityPoint]], colors: Colors) -> str:
    """Every strategy over the days all of them were backtested, rebased: a fair side-by-side."""
    windows = [w for w in report.header.windows if portfolio.get(w.strategy)]
    if len({(w.start_date, w.end_date) for w in windows}) < 2:
        return ""
    start, end = max(w.start_date for w in windows), min(w.end_date for w in windows)
    if start >= end:
        return ""
    capital = report.header.capital[0] if report.header.capital else 1.0
    lines, baskets = [], {}
    for w in windows:
        equity, buy_hold = _rebased(portfolio[w.strategy], start, end, capital)
        color, dash = colors[w.strategy]
        lines.append(Line(w.strategy, color, equity, dash))
        baskets[w.strategy] = buy_hold
    yardsticks = _yardsticks(baskets, colors)
    chart = time_chart(
        [*yardsticks, *lines],
        "common window",
        lambda v: f"{v:,.0f}",
        y_title="Equity, rebased (log scale)",
        log=True,
        height=380,
        width=560,
    )
    keys = [(ln.label, ln.color, ln.dash) for ln in [*lines, *yardsticks]]
    return (
        f"<figure><figcaption>The window every strategy shares ({start} .. {end}), each rebased to {capital:,.0f} "
        f"(log scale)</figcaption>{chart}{legend(keys)}</figure>"
    )


def _calibration_figure(report: Report, colors: Colors) -> str:
    groups: dict[str, list[tuple[float, float, int]]] = {}
    for b in report.calibration:
        groups.setdefault(b.strategy, []).append((b.mean_confidence, b.hit_rate, b.signals))
    caption = (
        "<figcaption>Calibration: stated confidence vs realised hit rate, per LLM model (and signals file)</figcaption>"
    )
    if not groups:
        return f'<figure>{caption}<p class="note">No decided signal with a stated confidence yet.</p></figure>'
    buckets = max(b.bucket for b in report.calibration) + 1
    least = report.settings.min_bucket_signals
    few = sum(b.too_few for b in report.calibration)
    note = (
        f'<p class="note">Decided signals in equal-width confidence buckets (var analysis_confidence_buckets, '
        f"top bucket {buckets}); dot area and n = decided signals in the bucket. <b>Hollow dashed dot: too few</b>, "
        f"fewer than {least} decided signals (var analysis_min_bucket_signals; {few} such bucket{'s' if few != 1 else ''} "
        "here): its hit rate says little, so the line skips it. On the dashed diagonal a model's confidence "
        "means what it says.</p>"
    )
    keys = [(s, *colors.get(s, ("#000", ""))) for s in groups]
    return f"<figure>{caption}{calibration_chart(groups, colors, least)}{legend(keys)}{note}</figure>"


def _overview_section(report: Report, portfolio: dict[str, list[EquityPoint]], colors: Colors) -> str:
    strategies = [s for s in report.strategies if portfolio.get(s)]
    lines = [Line(s, colors[s][0], [(p.date, p.equity) for p in portfolio[s]], colors[s][1]) for s in strategies]
    yardsticks = _yardsticks({s: [(p.date, p.buy_hold_equity) for p in portfolio[s]] for s in strategies}, colors)
    capital = report.header.capital[0] if len(report.header.capital) == 1 else None
    main = time_chart(
        [*yardsticks, *lines],
        "PORTFOLIO equity",
        lambda v: f"{v:,.0f}",
        y_title=equity_axis(capital),
        log=True,
        height=360,
    )
    keys = [(ln.label, ln.color, ln.dash) for ln in [*lines, *yardsticks]]
    first = (
        "<figure><figcaption>PORTFOLIO equity of every strategy against its own buy-and-hold basket (dotted, "
        "same colour; log scale: equal heights are equal percentage moves)</figcaption>"
        f"{main}{legend(keys)}</figure>"
        if lines
        else '<p class="note">No PORTFOLIO rows in fct_backtest_daily.</p>'
    )
    rest = _common_window_chart(report, portfolio, colors) + _calibration_figure(report, colors)
    return f'<h2>Overview</h2>{first}<div class="overview" style="margin-top:14px">{rest}</div>'


SUMMARY_HEAD = (
    "Ticker",
    "Total%",
    "Annual%",
    "Buy&amp;hold annual%",
    "vs B&amp;H%",
    "Sharpe",
    "Sortino",
    "MaxDD%",
    "Win rate%",
    "Trades",
    "Time in market%",
    "Valid",
    "Note",
)


def _summary_row(r: TickerSummary, settings: BuildSettings) -> str:
    valid = (
        '<span class="valid">valid</span>'
        if r.is_valid
        else f'<span class="invalid">{_esc(validity_phrase(r, settings))}</span>'
    )
    notrade = r.trades == 0
    return (
        f"<tr{' class=notrade' if notrade else ''}><td>{_esc(r.ticker)}</td><td>{pct(r.total_return, 2)}</td>"
        f"<td>{pct(r.annual_return, 2)}</td><td>{pct(r.buy_hold_annual_return, 2)}</td><td>{pct(r.alpha_vs_buy_hold, 2)}</td>"
        f"<td>{num(r.sharpe_ratio)}</td><td>{num(r.sortino_ratio)}</td><td>{pct(r.max_drawdown, 2)}</td>"
        f"<td>{pct(r.win_rate, 2)}</td><td>{r.trades}</td><td>{pct(r.exposure, 2)}</td><td class='reason'>{valid}</td>"
        f"<td class='reason'>{NO_TRADES_NOTE if notrade else ''}</td></tr>"
    )


def _ticker_figure(
    strategy: str, row: TickerSummary, daily: DailyLoader, signals: SignalLoader, threshold: float | None
) -> str:
    """Equity against buy-and-hold (with the signals) and drawdown of one (strategy, ticker) row."""
    points = daily(strategy, row.ticker)
    if not points:
        return ""
    equity = [
        Line("buy and hold", BUY_HOLD_COLOR, [(p.date, p.buy_hold_equity) for p in points], dash="5 4", width=1.4),
        Line("strategy", "#1f77b4", [(p.date, p.equity) for p in points]),
    ]
    drawdown = [
        Line("buy and hold drawdown", BUY_HOLD_COLOR, [(p.date, p.buy_hold_drawdown) for p in points], "5 4", 1.2),
        Line("strategy drawdown", "#d62728", [(p.date, p.drawdown) for p in points], width=1.4),
    ]
    marks = _marks(points, signals(strategy, row.ticker), threshold) if row.ticker != PORTFOLIO else []
    chart = equity_and_drawdown_chart(
        equity, drawdown, f"{strategy} / {row.ticker}", equity_axis(row.initial_capital, short=True), marks
    )
    caption = _esc(row.ticker) + (f" <span class='muted'>({NO_TRADES_NOTE})</span>" if row.trades == 0 else "")
    return f"<figure><figcaption>{caption}</figcaption>{chart}</figure>"


def _marks(points: list[DailyPoint], signals: list[SignalMark], threshold: float | None) -> list[Mark]:
    """Each signal on the buy-and-hold line at its date (the last day on or before it; the first day if
    earlier), hollow when its confidence is below the threshold (the backtest ignores it)."""
    days = [p.date for p in points]
    marks = []
    for s in signals:
        at = points[max(0, bisect.bisect_right(days, s.signal_date) - 1)]
        acted = threshold is None or s.confidence >= threshold
        tip = f"{s.signal_date} {s.action} confidence {s.confidence:.2f}: {s.outcome}" + ("" if acted else " (ignored)")
        marks.append(Mark(at.date, at.buy_hold_equity, s.action, tip, acted))
    return marks


def _chart_key(threshold: float | None, capital: float) -> str:
    below = f"hollow: confidence below {threshold:g}, ignored by the backtest" if threshold is not None else ""
    return legend(
        [
            ("strategy equity", "#1f77b4", ""),
            ("buy and hold", BUY_HOLD_COLOR, "5"),
            ("strategy drawdown", "#d62728", ""),
        ]
    ) + (
        f'<p class="note">Signals on the buy-and-hold line: <b style="color:#2ca02c">▲</b> BUY '
        f'<b style="color:#d62728">▼</b> SELL <b style="color:#ff7f0e">●</b> HOLD; {below}. Equity starts at '
        f"{capital:,.0f} (initial_capital); drawdown is the fall from the running peak, in percent.</p>"
    )


def _strategy_section(
    report: Report, strategy: str, daily: DailyLoader, signals: SignalLoader, ticker_charts: int
) -> str:
    rows = [r for r in report.summary if r.strategy == strategy]
    if not rows:
        return ""
    verdict = next((r.verdict for r in report.scorecard or [] if r.strategy == strategy), None)
    portfolio = next((r for r in rows if r.ticker == PORTFOLIO), None)
    tickers = [r for r in rows if r.ticker != PORTFOLIO]
    facts = (
        f" · PORTFOLIO {pct(portfolio.total_return)} total, {pct(portfolio.alpha_vs_buy_hold)}/yr vs buy-and-hold, "
        f"{portfolio.trades} trades"
        if portfolio
        else ""
    )
    shown = tickers if ticker_charts < 0 else tickers[:ticker_charts]
    threshold = report.header.confidence_threshold
    figures = "".join(_ticker_figure(strategy, r, daily, signals, threshold) for r in shown)
    more = (
        f'<p class="note">Charts for the first {len(shown)} of {len(tickers)} tickers (--ticker-charts); '
        "the table lists every ticker.</p>"
        if len(shown) < len(tickers)
        else ""
    )
    return (
        f"<details><summary><b>{_esc(strategy)}</b> {_verdict(verdict) if verdict else ''}"
        f'<span class="muted">{_esc(facts)} · {len(tickers)} tickers</span></summary>'
        + _table(SUMMARY_HEAD, [_summary_row(r, report.settings) for r in rows], wide=True)
        + _chart_key(threshold, rows[0].initial_capital)
        + (
            f'<div class="grid">{_ticker_figure(strategy, portfolio, daily, signals, threshold)}</div>'
            if portfolio
            else ""
        )
        + (
            f"<details><summary>Per-ticker charts ({len(shown)})</summary>{more}<div class='grid'>{figures}</div></details>"
            if shown
            else ""
        )
        + "</details>"
    )


def _facts_section(report: Report, colors: Colors) -> str:
    """Each strategy's numbers explained in sentences (report.story.strategy_facts)."""
    items = [
        f'<div><h3><i style="color:{colors.get(s, ("#000", ""))[0]}">■</i> {_esc(s)}</h3><ul class="story">'
        + "".join(f"<li>{_esc(fact)}</li>" for fact in strategy_facts(report, s))
        + "</ul></div>"
        for s in report.strategies
    ]
    return f"<h2>What the numbers say</h2><section class='card stories' id='facts'>{''.join(items)}</section>"


def _tracking_section(report: Report) -> str:
    t = report.tracking
    rate = pct(t.validation_rate)
    by_strategy = [
        f"<tr><td>{_esc(s.strategy)}</td><td>{s.total}</td><td>{s.validated}</td><td>{s.pending}</td><td>{s.ready}</td></tr>"
        for s in t.by_strategy
    ]
    by_ticker = [
        f"<tr><td>{_esc(k.ticker)}</td><td>{k.total}</td><td>{k.validated}</td><td>{pct(k.avg_return)}</td></tr>"
        for k in t.by_ticker
    ]
    ready = "".join(f"<li>{_esc(s)}</li>" for s in t.ready_for_paper_trading[:500])
    return (
        "<h2>Signal tracking</h2><section class='card'>"
        f"<p>Total signals {t.total_signals} · hits {t.validated_signals} · pending {t.pending_signals} · "
        f"hit rate of decided signals {rate} · ready for paper trading {t.ready_for_trading}</p>"
        + _table(("Strategy", "Signals", "Hits", "Pending", "Ready"), by_strategy)
        + f"<details><summary>By ticker ({len(t.by_ticker)})</summary>"
        + _table(("Ticker", "Signals", "Hits", "Avg return of following the signal"), by_ticker)
        + "</details>"
        + (f"<details><summary>Signals ready for paper trading</summary><ul>{ready}</ul></details>" if ready else "")
        + "</section>"
    )


def render_html(
    report: Report,
    portfolio: dict[str, list[EquityPoint]],
    daily: DailyLoader,
    signals: SignalLoader,
    ticker_charts: int = -1,
) -> str:
    """``portfolio`` holds each strategy's PORTFOLIO equity; ``daily`` and ``signals`` load one
    (strategy, ticker)'s rows on demand; ``ticker_charts`` caps the per-ticker charts per strategy (-1: all)."""
    colors = strategy_colors(report.strategies)
    charts = sum(1 if r.ticker == PORTFOLIO else 0 for r in report.summary) + sum(
        min(n, ticker_charts) if ticker_charts >= 0 else n for n in _tickers_per_strategy(report).values()
    )
    with tqdm(total=charts, desc="report charts", unit="chart", disable=None) as bar:

        def counted(strategy: str, ticker: str) -> list[DailyPoint]:
            bar.update()
            return daily(strategy, ticker)

        sections = "".join(_strategy_section(report, s, counted, signals, ticker_charts) for s in report.strategies)
    return "\n".join(
        [
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
            "<meta name='viewport' content='width=device-width, initial-scale=1'><title>Backtest and signal report</title>",
            f"<style>{STYLE}</style></head><body><main>",
            "<h1>Backtest and signal report</h1>",
            f'<p class="headline" id="headline">{_esc(headline(report))}</p>',
            f"<p class='note'>Warehouse {_esc(report.warehouse)}. Advisory only: research output, not orders. Returns "
            "are fractions of equity shown in percent; a signal acts from the next trading day.</p>",
            _header_section(report),
            _scorecard_section(report, colors),
            _facts_section(report, colors),
            _overview_section(report, portfolio, colors),
            f"<h2>Strategies and tickers</h2>{sections}",
            _tracking_section(report),
            "</main></body></html>",
        ]
    )


def _tickers_per_strategy(report: Report) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in report.summary:
        if row.ticker != PORTFOLIO:
            counts[row.strategy] = counts.get(row.strategy, 0) + 1
    return counts
