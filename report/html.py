"""Self-contained HTML report: tables plus inline SVG charts (no JavaScript, no network).

Per strategy and ticker (and the portfolio): equity curve against buy-and-hold, drawdown, and for
tickers the price with the strategy's BUY / SELL / HOLD signals marked.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from datetime import date

from report.data import DailyPoint, Report, SignalMark, TickerSummary

WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_Y = 860, 220, 70, 16, 22
MAX_POINTS = 900
COLORS = {"strategy": "#1f77b4", "buy_hold": "#999999", "drawdown": "#d62728", "price": "#444444"}
MARKERS = {"BUY": ("#2ca02c", "▲"), "SELL": ("#d62728", "▼"), "HOLD": ("#ff7f0e", "●")}

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#222;max-width:980px}
table{border-collapse:collapse;margin:8px 0 18px;font-size:13px}
th,td{padding:3px 9px;text-align:right;border-bottom:1px solid #eee}
th:first-child,td:first-child{text-align:left}
.valid{color:#2ca02c;font-weight:bold}.invalid{color:#d62728}
svg{background:#fcfcfc;border:1px solid #eee;margin:4px 0 12px}
.note{color:#666;font-size:12px}
h3{margin-bottom:2px}
"""


def _thin(points: Sequence[DailyPoint]) -> list[DailyPoint]:
    step = max(1, len(points) // MAX_POINTS)
    thinned = list(points[::step])
    if points and thinned[-1] is not points[-1]:
        thinned.append(points[-1])
    return thinned


def _scales(
    dates: Sequence[date], values: Sequence[float]
) -> tuple[Callable[[date], float], Callable[[float], float], float, float]:
    d0, d1 = dates[0].toordinal(), max(dates[-1].toordinal(), dates[0].toordinal() + 1)
    lo, hi = min(values), max(values)
    if hi - lo < 1e-12:
        lo, hi = lo - 1, hi + 1
    x = lambda d: PAD_LEFT + (d.toordinal() - d0) / (d1 - d0) * (WIDTH - PAD_LEFT - PAD_RIGHT)  # noqa: E731
    y = lambda v: PAD_Y + (hi - v) / (hi - lo) * (HEIGHT - 2 * PAD_Y)  # noqa: E731
    return x, y, lo, hi


def _axes(title: str, dates: Sequence[date], lo: float, hi: float, fmt: Callable[[float], str]) -> str:
    return (
        f'<text x="{PAD_LEFT}" y="14" font-size="12" font-weight="bold">{html.escape(title)}</text>'
        f'<text x="{PAD_LEFT - 6}" y="{PAD_Y + 4}" font-size="10" text-anchor="end">{fmt(hi)}</text>'
        f'<text x="{PAD_LEFT - 6}" y="{HEIGHT - PAD_Y + 4}" font-size="10" text-anchor="end">{fmt(lo)}</text>'
        f'<text x="{PAD_LEFT}" y="{HEIGHT - 5}" font-size="10">{dates[0]}</text>'
        f'<text x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 5}" font-size="10" text-anchor="end">{dates[-1]}</text>'
        f'<line x1="{PAD_LEFT}" y1="{PAD_Y}" x2="{PAD_LEFT}" y2="{HEIGHT - PAD_Y}" stroke="#ccc"/>'
    )


def _polyline(points: Sequence[tuple[float, float]], color: str, width: float = 1.4, dash: str = "") -> str:
    coords = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<polyline fill="none" stroke="{color}" stroke-width="{width}"{dash_attr} points="{coords}"/>'


def _legend(items: Sequence[tuple[str, str]]) -> str:
    out, x = [], WIDTH - PAD_RIGHT - 150 * len(items)
    for label, color in items:
        out.append(
            f'<rect x="{x}" y="6" width="12" height="3" fill="{color}"/><text x="{x + 16}" y="11" font-size="10">{html.escape(label)}</text>'
        )
        x += 150
    return "".join(out)


def _svg(body: str) -> str:
    return f'<svg width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">{body}</svg>'


def _log(value: float) -> float:
    return math.log10(max(value, 1e-9))


def equity_chart(points: Sequence[DailyPoint], title: str) -> str:
    """Log scale: equal heights are equal percentage moves over a decade of compounding."""
    pts = _thin(points)
    dates = [p.date for p in pts]
    x, y, lo, hi = _scales(dates, [_log(p.equity) for p in pts] + [_log(p.buy_hold_equity) for p in pts])
    return _svg(
        _axes(title + " (log scale)", dates, lo, hi, lambda v: f"{10**v:,.0f}")
        + _polyline([(x(p.date), y(_log(p.buy_hold_equity))) for p in pts], COLORS["buy_hold"], dash="4 3")
        + _polyline([(x(p.date), y(_log(p.equity))) for p in pts], COLORS["strategy"])
        + _legend([("strategy equity", COLORS["strategy"]), ("buy and hold", COLORS["buy_hold"])])
    )


def drawdown_chart(points: Sequence[DailyPoint], title: str) -> str:
    pts = _thin(points)
    dates = [p.date for p in pts]
    x, y, lo, hi = _scales(dates, [p.drawdown for p in pts] + [p.buy_hold_drawdown for p in pts] + [0.0])
    area = [(x(dates[0]), y(0.0))] + [(x(p.date), y(p.drawdown)) for p in pts] + [(x(dates[-1]), y(0.0))]
    coords = " ".join(f"{px:.1f},{py:.1f}" for px, py in area)
    return _svg(
        _axes(title, dates, lo, hi, lambda v: f"{v * 100:.0f}%")
        + f'<polygon points="{coords}" fill="{COLORS["drawdown"]}" fill-opacity="0.25" stroke="{COLORS["drawdown"]}" stroke-width="1"/>'
        + _polyline([(x(p.date), y(p.buy_hold_drawdown)) for p in pts], COLORS["buy_hold"], width=1.0, dash="4 3")
        + _legend([("strategy drawdown", COLORS["drawdown"]), ("buy and hold", COLORS["buy_hold"])])
    )


def signal_chart(points: Sequence[DailyPoint], signals: Sequence[SignalMark], title: str) -> str:
    priced = [p for p in points if p.adj_close is not None]
    if not priced:
        return ""
    pts = _thin(priced)
    dates = [p.date for p in pts]
    x, y, lo, hi = _scales(dates, [_log(p.adj_close) for p in pts])
    by_date = {p.date: p.adj_close for p in priced}
    marks = []
    for s in signals:
        price = by_date.get(s.signal_date)
        if price is None and s.signal_date < priced[0].date:
            price = priced[0].adj_close  # the window starts the day after the first signal
        if price is None:
            continue
        color, glyph = MARKERS.get(s.action, ("#000", "?"))
        tip = html.escape(f"{s.signal_date} {s.action} conf {s.confidence:.2f} {s.outcome}")
        marks.append(
            f'<text x="{x(s.signal_date):.1f}" y="{y(_log(price)) + (12 if s.action == "SELL" else -4):.1f}" font-size="10" '
            f'fill="{color}" text-anchor="middle"><title>{tip}</title>{glyph}</text>'
        )
    return _svg(
        _axes(title + " (log scale)", dates, lo, hi, lambda v: f"{10**v:,.2f}")
        + _polyline([(x(p.date), y(_log(p.adj_close))) for p in pts], COLORS["price"], width=1.0)
        + "".join(marks)
        + _legend([("adj close", COLORS["price"]), ("▲ BUY ▼ SELL ● HOLD", "#fff")])
    )


def _summary_table(rows: Sequence[TickerSummary]) -> str:
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "Ticker",
            "Total%",
            "Annual%",
            "Buy&amp;hold annual%",
            "vs B&H%",
            "Sharpe",
            "Sortino",
            "MaxDD%",
            "Win rate%",
            "Trades",
            "Exposure%",
            "Valid",
        )
    )
    body = []
    for r in rows:

        def pct(v: float | None) -> str:
            return f"{v * 100:.2f}" if v is not None else "n/a"

        def num(v: float | None) -> str:
            return f"{v:.2f}" if v is not None else "n/a"

        valid = '<span class="valid">valid</span>' if r.is_valid else '<span class="invalid">not valid</span>'
        body.append(
            f"<tr><td>{html.escape(r.ticker)}</td><td>{pct(r.total_return)}</td><td>{pct(r.annual_return)}</td>"
            f"<td>{pct(r.buy_hold_annual_return)}</td><td>{pct(r.alpha_vs_buy_hold)}</td><td>{num(r.sharpe_ratio)}</td>"
            f"<td>{num(r.sortino_ratio)}</td><td>{pct(r.max_drawdown)}</td><td>{pct(r.win_rate)}</td>"
            f"<td>{r.trades}</td><td>{pct(r.exposure)}</td><td>{valid}</td></tr>"
        )
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def render_html(
    report: Report,
    daily: Callable[[str, str], list[DailyPoint]],
    signals: Callable[[str, str], list[SignalMark]],
) -> str:
    """``daily`` and ``signals`` load one (strategy, ticker)'s rows from the marts on demand."""
    t = report.tracking
    rate = f"{t.validation_rate * 100:.1f}%" if t.validation_rate is not None else "n/a"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Backtest report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Backtest and signal tracking report</h1>",
        f"<p class='note'>Warehouse {html.escape(report.warehouse)}. Advisory only: research output, not orders. "
        "Returns are fractions of equity shown in percent; a signal acts from the next trading day.</p>",
        "<h2>Signal tracking</h2>",
        f"<p>Total signals {t.total_signals} &middot; validated {t.validated_signals} &middot; pending {t.pending_signals}"
        f" &middot; validation rate {rate} &middot; ready for paper trading {t.ready_for_trading}</p>",
    ]
    if t.ready_for_paper_trading:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in t.ready_for_paper_trading[:200])
        parts.append(f"<details><summary>Signals ready for paper trading</summary><ul>{items}</ul></details>")
    for strategy in report.strategies:
        rows = [r for r in report.summary if r.strategy == strategy]
        if not rows:
            continue
        parts.append(f"<h2>Strategy {html.escape(strategy)}</h2>{_summary_table(rows)}")
        for r in rows:
            points = daily(strategy, r.ticker)
            if not points:
                continue
            parts.append(f"<h3>{html.escape(r.ticker)}</h3>")
            parts.append(equity_chart(points, f"{strategy} / {r.ticker}: equity vs buy and hold"))
            parts.append(drawdown_chart(points, f"{strategy} / {r.ticker}: drawdown"))
            if r.ticker != "PORTFOLIO":
                parts.append(
                    signal_chart(points, signals(strategy, r.ticker), f"{strategy} / {r.ticker}: price and signals")
                )
    parts.append("</body></html>")
    return "\n".join(parts)
