"""Numbers and sentences the text and HTML reports share, so both say the same thing the same way."""

from __future__ import annotations

import math

from report.data import ReportHeader, ScorecardRow

NO_TRADES_NOTE = "no trades: figures are cash vs buy-and-hold"
VERDICT_MEANING = {
    "edge": "edge: its signals beat the same signals at random times after adjusting for every strategy tried, "
    "and its portfolio beat the median random timing of its positions",
    "no_edge": "no_edge: random timing of the same decisions does as well, or the edge does not survive trading",
    "insufficient_data": "insufficient_data: too few decided signals, trades, invested days or years to judge",
}


def pct(value: float | None, digits: int = 1) -> str:
    """0.521 -> '52.1%'; None -> 'n/a'."""
    return "n/a" if value is None else f"{value * 100:.{digits}f}%"


def num(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def p_value(value: float | None) -> str:
    """A p-value as people read them: 'p=0.71', 'p<0.001' (a bootstrap p of 0 means below 1/reps)."""
    if value is None:
        return "p=n/a"
    return "p<0.001" if value < 0.001 else f"p={value:.3f}" if value < 0.01 else f"p={value:.2f}"


def alpha_with_interval(row: ScorecardRow) -> str:
    """'-3.10% [-8.00, +2.00]': alpha vs buy-and-hold per year with its bootstrap interval."""
    if row.alpha is None:
        return "n/a"
    if row.alpha_ci_low is None or row.alpha_ci_high is None:
        return f"{row.alpha * 100:+.2f}%"
    return f"{row.alpha * 100:+.2f}% [{row.alpha_ci_low * 100:+.2f}, {row.alpha_ci_high * 100:+.2f}]"


def timing_phrase(row: ScorecardRow) -> str:
    """'hit 61.0% vs 50.2% at random times, adj p=0.003 (raw p<0.001, 6 tried), MDE 4.0 pts': what the
    verdict decided on, the family-wise adjusted p-value first."""
    if row.random_timing_hit_rate is None:
        return f"hit {pct(row.hit_rate)}, random timing n/a"
    adjusted = (
        "n/a (not judged)"
        if row.signal_timing_adjusted_p_value is None
        else p_value(row.signal_timing_adjusted_p_value)[2:]
    )
    tried = f", {row.random_timing_family_size} tried" if row.random_timing_family_size else ""
    mde = "" if row.minimum_detectable_effect is None else f", MDE {row.minimum_detectable_effect * 100:.1f} pts"
    return (
        f"hit {pct(row.hit_rate)} vs {pct(row.random_timing_hit_rate)} at random times, adj p={adjusted} "
        f"(raw {p_value(row.signal_timing_p_value)}{tried}){mde}"
    )


def action_mix(row: ScorecardRow) -> str:
    shares = (row.buy_share, row.sell_share, row.hold_share)
    if all(s is None for s in shares):
        return "n/a"
    return "/".join(f"{(s or 0) * 100:.0f}" for s in shares)


def capital_phrase(header: ReportHeader) -> str:
    if not header.capital:
        return "no portfolio backtest"
    return " and ".join(f"{c:,.0f}" for c in header.capital) + " per backtest (initial_capital)"


def cap_phrase(header: ReportHeader) -> str:
    cap = "unknown" if header.position_cap is None else pct(header.position_cap, 0)
    return f"{cap} of the portfolio per ticker (var max_position_size)"


def threshold_phrase(header: ReportHeader) -> str:
    threshold = "unknown" if header.confidence_threshold is None else f"{header.confidence_threshold:g}"
    return f"signals below confidence {threshold} do not trade (var confidence_threshold)"


def settings_phrase(header: ReportHeader) -> str:
    return f"Vars read from {header.settings_source}: pass the build's --vars to `python -m report` if it had any."


def cash_note(header: ReportHeader) -> str:
    """Why the portfolio is mostly cash, so nobody reads the diluted figures as an error."""
    shares = [w.cash_share for w in header.windows if w.cash_share is not None]
    spread = f" (here {pct(min(shares))} to {pct(max(shares))} of the days' equity)" if shares else ""
    if header.position_cap:
        cap = pct(header.position_cap, 0)
        full = math.ceil(1 / header.position_cap - 1e-9)
        why = (
            f"Each ticker's weight is capped at {cap} (max_position_size), so a portfolio holds cash whenever "
            f"fewer than {full} tickers are in the market; with few tickers, or a strategy that is often out, "
            "most of the portfolio is cash"
        )
    else:
        why = "Each ticker's weight is capped (max_position_size), so a portfolio holds cash when few tickers are in the market"
    return (
        f"{why}{spread}. Cash earns the risk-free rate, so portfolio returns, volatility and alpha are diluted on "
        "purpose: compare a PORTFOLIO row with its capped buy-and-hold basket over the same window, not with a single stock."
    )
