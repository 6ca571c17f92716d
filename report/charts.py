"""Inline SVG charts for the HTML report: no JavaScript, no network.

Every chart has a viewBox and no fixed size, so it scales with the width of the box it sits in.
Coordinates are rounded to whole viewBox units and long series are thinned to about one point per
unit of width: a chart never carries more detail than it can show, which keeps pages of hundreds
of tickers small.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from warehouse_core.strategy_names import is_unsized_twin

PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#393b79",
    "#ad494a",
    "#637939",
    "#8c6d31",
    "#7b4173",
    "#3182bd",
    "#e6550d",
)
DASHES = ("", "6 3", "2 2")  # after the palette is used up, lines repeat colours with a dash
BUY_HOLD_COLOR = "#7f7f7f"
YARDSTICK_DASH = "1.5 3"  # a strategy's buy-and-hold yardstick: dotted, in the strategy's own colour
MARKERS = {"BUY": "#2ca02c", "SELL": "#d62728", "HOLD": "#ff7f0e"}
WIDTH = 960
# room for the value labels and the axis titles (y title rotated at the left, x title under the dates)
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 78, 14, 10, 38


@dataclass(frozen=True)
class Line:
    """One series of a time chart."""

    label: str
    color: str
    points: Sequence[tuple[date, float]]
    dash: str = ""
    width: float = 1.8


@dataclass(frozen=True)
class Mark:
    """A signal drawn on a line: a triangle up (BUY), down (SELL) or a dot (HOLD), with a tooltip;
    hollow when the backtest ignores it (confidence below the threshold)."""

    day: date
    value: float
    action: str
    tip: str
    acted: bool = True


@dataclass(frozen=True)
class Frame:
    """Maps (date, value) to viewBox coordinates inside one panel."""

    first: int
    last: int
    low: float
    high: float
    top: float
    height: float
    log: bool
    width: int = WIDTH

    def x(self, day: date) -> float:
        return PAD_LEFT + (day.toordinal() - self.first) / (self.last - self.first) * (
            self.width - PAD_LEFT - PAD_RIGHT
        )

    def y(self, value: float) -> float:
        v = _log(value) if self.log else value
        return self.top + (self.high - v) / (self.high - self.low) * self.height


UNSIZED_TWIN_DASH = "4 4"


def strategy_colors(strategies: Sequence[str]) -> dict[str, tuple[str, str]]:
    """(colour, dash) per strategy, stable for a given list: the same strategy looks the same on every chart.
    An un-sized twin (``llm:<model>:no_risk``) is dashed: when the risk stage changed nothing its curve
    lies on the sized one's, and the gaps keep both visible."""
    styles = {}
    for i, s in enumerate(strategies):
        dash = DASHES[(i // len(PALETTE)) % len(DASHES)]
        styles[s] = (PALETTE[i % len(PALETTE)], dash or (UNSIZED_TWIN_DASH if is_unsized_twin(s) else ""))
    return styles


def thin(points: Sequence, max_points: int = WIDTH) -> list:
    """Every n-th point (plus the last) so that at most about ``max_points`` remain."""
    step = max(1, math.ceil(len(points) / max_points))
    kept = list(points[::step])
    if points and kept[-1] is not points[-1]:
        kept.append(points[-1])
    return kept


def _log(value: float) -> float:
    return math.log10(max(value, 1e-9))


def _frame(
    lines: Sequence[Line], top: float, height: float, log: bool, floor: float | None = None, width: int = WIDTH
) -> Frame:
    days = [d for line in lines for d, _ in line.points]
    values = [(_log(v) if log else v) for line in lines for _, v in line.points]
    if floor is not None:
        values.append(floor)
    first, last = min(days).toordinal(), max(days).toordinal()
    low, high = min(values), max(values)
    pad = (high - low) * 0.04 or 1.0
    return Frame(first, max(last, first + 1), low - pad, high + pad, top, height, log, width)


def _nice_ticks(low: float, high: float, log: bool, most: int) -> list[float]:
    """At most ``most`` round tick values between low and high (in log10 units when ``log``: 1-2-5
    steps per decade, thinned to powers of ten when too many, or round values of the data when the
    range is narrower than that)."""
    if log:
        ticks = [
            (math.log10(m * 10**e), m)
            for e in range(math.floor(low) - 1, math.ceil(high) + 1)
            for m in (1, 2, 5)
            if low <= math.log10(m * 10**e) <= high
        ]
        if len(ticks) > most:
            powers = [t for t in ticks if t[1] == 1]
            ticks = powers if 3 <= len(powers) <= most else ticks[:: math.ceil(len(ticks) / most)]
        if len(ticks) >= 3:
            return [t for t, _ in ticks]
        return [math.log10(v) for v in _linear_ticks(10**low, 10**high, most) if v > 0]
    return _linear_ticks(low, high, most)


def _linear_ticks(low: float, high: float, most: int) -> list[float]:
    step = 10 ** math.floor(math.log10((high - low) / most or 1))
    step *= next(m for m in (1, 2, 5, 10, 20) if (high - low) / (step * m) <= most)
    return [k * step for k in range(math.ceil(low / step), math.floor(high / step) + 1)]


def _y_title(frame: Frame, title: str) -> str:
    """The value axis' title, rotated, left of the value labels."""
    middle = frame.top + frame.height / 2
    return (
        f'<text x="14" y="{middle:.0f}" class="axis" text-anchor="middle" '
        f'transform="rotate(-90 14 {middle:.0f})">{html.escape(title)}</text>'
    )


def _x_title(frame: Frame, title: str) -> str:
    """The date axis' title, under the date labels."""
    middle = PAD_LEFT + (frame.width - PAD_LEFT - PAD_RIGHT) / 2
    return f'<text x="{middle:.0f}" y="{frame.top + frame.height + 32:.0f}" class="axis" text-anchor="middle">{html.escape(title)}</text>'


def _axes(frame: Frame, fmt: Callable[[float], str], date_labels: bool) -> str:
    """Horizontal grid with value labels, and year (or month) ticks along the bottom."""
    out = []
    right = frame.width - PAD_RIGHT
    for tick in _nice_ticks(frame.low, frame.high, frame.log, most=max(2, int(frame.height // 40))):
        y = frame.top + (frame.high - tick) / (frame.high - frame.low) * frame.height
        label = fmt(10**tick if frame.log else tick)
        out.append(
            f'<line x1="{PAD_LEFT}" y1="{y:.0f}" x2="{right}" y2="{y:.0f}" class="grid"/>'
            f'<text x="{PAD_LEFT - 5}" y="{y + 4:.0f}" class="tick" text-anchor="end">{label}</text>'
        )
    if date_labels:
        out.append(_date_ticks(frame))
    return "".join(out)


def _date_ticks(frame: Frame) -> str:
    first, last = date.fromordinal(frame.first), date.fromordinal(frame.last)
    years = last.year - first.year
    if years >= 2:
        step = max(1, math.ceil(years / 10))
        ticks = [date(y, 1, 1) for y in range(first.year + 1, last.year + 1, step)]
        label = lambda d: str(d.year)  # noqa: E731
    else:
        months = [(first.year + (first.month + k) // 12, (first.month + k) % 12 + 1) for k in range(years * 12 + 13)]
        ticks = [date(y, m, 1) for y, m in months if first < date(y, m, 1) <= last][::2]
        label = lambda d: d.strftime("%Y-%m")  # noqa: E731
    bottom = frame.top + frame.height
    return "".join(
        f'<line x1="{frame.x(d):.0f}" y1="{frame.top}" x2="{frame.x(d):.0f}" y2="{bottom:.0f}" class="grid"/>'
        f'<text x="{frame.x(d):.0f}" y="{bottom + 15:.0f}" class="tick" text-anchor="middle">{label(d)}</text>'
        for d in ticks
    )


def _polyline(frame: Frame, line: Line) -> str:
    coords = " ".join(f"{frame.x(d):.0f},{frame.y(v):.0f}" for d, v in thin(line.points, frame.width))
    dash = f' stroke-dasharray="{line.dash}"' if line.dash else ""
    return (
        f'<polyline fill="none" stroke="{line.color}" stroke-width="{line.width}"{dash} points="{coords}">'
        f"<title>{html.escape(line.label)}</title></polyline>"
    )


def _mark(frame: Frame, mark: Mark) -> str:
    x, y = frame.x(mark.day), frame.y(mark.value)
    color = MARKERS.get(mark.action, "#000")
    paint = f'fill="{color}"' if mark.acted else f'fill="#fff" stroke="{color}"'
    if mark.action == "BUY":
        shape = f'<path d="M{x:.0f} {y + 3:.0f}l5 9h-10z" {paint}>'
    elif mark.action == "SELL":
        shape = f'<path d="M{x:.0f} {y - 3:.0f}l5 -9h-10z" {paint}>'
    else:
        shape = f'<circle cx="{x:.0f}" cy="{y:.0f}" r="3.5" {paint}>'
    closing = "</path>" if shape.startswith("<path") else "</circle>"
    return f"{shape}<title>{html.escape(mark.tip)}</title>{closing}"


DATE_AXIS = "Date (trading days)"


def equity_axis(capital: float | None, short: bool = False) -> str:
    """The equity axis' title: its unit is the backtest's capital (no currency is recorded). ``short``
    for a small panel, whose caption or key says where equity starts."""
    if short:
        return "Equity (log scale)"
    start = f"starts at {capital:,.0f}" if capital else "capital units"
    return f"Equity ({start}; log scale)"


def time_chart(
    lines: Sequence[Line],
    title: str,
    fmt: Callable[[float], str],
    y_title: str,
    log: bool = False,
    height: int = 300,
    width: int = WIDTH,
) -> str:
    """Lines over time on one panel (log scale: equal heights are equal percentage moves), with both
    axes titled. ``width`` and ``height`` are viewBox units: a chart meant for a narrow box gets a
    narrower viewBox, so its text stays legible."""
    drawn = [line for line in lines if line.points]
    if not drawn:
        return ""
    frame = _frame(drawn, PAD_TOP, height - PAD_TOP - PAD_BOTTOM, log, width=width)
    body = _axes(frame, fmt, date_labels=True) + "".join(_polyline(frame, line) for line in drawn)
    body += _y_title(frame, y_title) + _x_title(frame, DATE_AXIS)
    return _svg(body, width, height, title)


def equity_and_drawdown_chart(
    equity: Sequence[Line],
    drawdown: Sequence[Line],
    title: str,
    y_title: str,
    marks: Sequence[Mark] = (),
    width: int = 640,
) -> str:
    """Equity (log scale, with signals marked) on top and a drawdown strip below, sharing the dates;
    every axis titled."""
    if not any(line.points for line in equity):
        return ""
    top = _frame(equity, PAD_TOP, 170, log=True, width=width)
    strip = _frame(drawdown, PAD_TOP + 190, 70, log=False, floor=0.0, width=width)
    strip = Frame(top.first, top.last, strip.low, 0.0, strip.top, strip.height, False, width)
    body = _axes(top, lambda v: f"{v:,.0f}", date_labels=False) + "".join(_polyline(top, line) for line in equity)
    body += "".join(_mark(top, m) for m in marks) + _y_title(top, y_title)
    body += _axes(strip, lambda v: f"{v * 100:.0f}%", date_labels=True)
    body += "".join(_polyline(strip, line) for line in drawdown)
    body += _y_title(strip, "Drawdown (%)") + _x_title(strip, DATE_AXIS)
    return _svg(body, width, PAD_TOP + 190 + 70 + PAD_BOTTOM, title)


def calibration_chart(
    groups: dict[str, list[tuple[float, float, int]]], colors: dict[str, tuple[str, str]], min_signals: int
) -> str:
    """Stated confidence (x) against realised hit rate (y) per strategy; the diagonal is perfect calibration.
    ``groups`` maps a strategy to its buckets' (mean confidence, hit rate, decided signals). Each dot says
    its count (n=...); a bucket with fewer than ``min_signals`` is a hollow dashed circle (the caller's note
    says "too few") whose tooltip says so, and is left out of the strategy's line: one or two signals make a hit rate of 0 % or 100 % that means nothing."""
    size, pad = 420, 46
    scale = lambda v: pad + v * (size - 2 * pad)  # noqa: E731
    flip = lambda v: size - scale(v)  # noqa: E731
    out = [
        f'<line x1="{scale(0)}" y1="{flip(0)}" x2="{scale(1)}" y2="{flip(1)}" stroke="#999" stroke-dasharray="4 3"/>'
    ]
    for k in range(6):
        v = k / 5
        out.append(
            f'<line x1="{scale(0)}" y1="{flip(v):.0f}" x2="{scale(1)}" y2="{flip(v):.0f}" class="grid"/>'
            f'<text x="{scale(0) - 5}" y="{flip(v) + 4:.0f}" class="tick" text-anchor="end">{v:.0%}</text>'
            f'<text x="{scale(v):.0f}" y="{size - pad + 16}" class="tick" text-anchor="middle">{v:.0%}</text>'
        )
    out.append(f'<text x="{size / 2}" y="{size - 8}" class="axis" text-anchor="middle">Stated confidence (%)</text>')
    out.append(
        f'<text x="12" y="{size / 2}" class="axis" text-anchor="middle" transform="rotate(-90 12 {size / 2})">'
        "Realised hit rate (%)</text>"
    )
    for strategy, buckets in groups.items():
        color, dash = colors.get(strategy, ("#000", ""))
        enough = [(c, h) for c, h, n in buckets if n >= min_signals]
        coords = " ".join(f"{scale(c):.0f},{flip(h):.0f}" for c, h in enough)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        if len(enough) > 1:
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.8"{dash_attr} points="{coords}"/>')
        for c, h, n in buckets:
            few = n < min_signals
            label = f"n={n}"
            tip = html.escape(
                f"{strategy}: confidence {c:.2f}, hit rate {h:.0%}, {n} decided signals"
                + (f" (fewer than {min_signals}: too few to read)" if few else "")
            )
            radius = min(2.5 + 1.5 * math.sqrt(n), 14)
            paint = (
                f'fill="#fff" stroke="{color}" stroke-dasharray="2 2"'
                if few
                else f'fill="{color}" fill-opacity="0.55" stroke="{color}"'
            )
            out.append(
                f'<circle cx="{scale(c):.0f}" cy="{flip(h):.0f}" r="{radius:.1f}" {paint}><title>{tip}</title></circle>'
                f'<text x="{scale(c) + radius + 3:.0f}" y="{flip(h) + 4:.0f}" class="count">{label}</text>'
            )
    return (
        f'<svg class="chart square" viewBox="0 0 {size} {size}" xmlns="http://www.w3.org/2000/svg" role="img">'
        f"<title>Calibration: stated confidence vs realised hit rate</title>{''.join(out)}</svg>"
    )


def _svg(body: str, width: int, height: float, title: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height:.0f}" xmlns="http://www.w3.org/2000/svg" role="img">'
        f"<title>{html.escape(title)}</title>{body}</svg>"
    )


def _border(dash: str) -> str:
    return "dotted" if dash == YARDSTICK_DASH else "dashed" if dash else "solid"


def legend(items: Sequence[tuple[str, str, str]]) -> str:
    """An HTML legend under a chart: (label, colour, dash) per line; wraps with the page width."""
    spans = "".join(
        f'<span><i style="border-top:3px {_border(dash)} {color}"></i>{html.escape(label)}</span>'
        for label, color, dash in items
    )
    return f'<div class="legend">{spans}</div>'
