"""The scorecard's verdict: is there evidence that the strategy's timing is skill, and if not, why.

* ``insufficient_data``: too little to judge either way: no backtest portfolio, fewer decided
  signals than ``min_signals``, a portfolio window shorter than ``min_trading_days``, fewer trades
  than ``min_trades`` or invested days than ``min_invested_days``, or decisions spread over too short
  a span for the random-timing test (signal_stats.random_timing);
* ``edge``: its signals were right more often than the same signals at random times, with a
  family-wise adjusted p-value below ``significance`` (every strategy in the scorecard is a trial),
  and its portfolio did at least as well as the median random timing of the same positions (its
  random-timing p-value below ``max_portfolio_p_value``);
* ``no_edge``: otherwise.

PSR, DSR, SPA against buy-and-hold and the alpha interval are descriptive columns: they answer "did
it make money / beat a fully invested basket", not "is its timing skill".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from signal_stats.random_timing import blocks_before
from signal_stats.settings import ScorecardSettings

EDGE, NO_EDGE, INSUFFICIENT_DATA = "edge", "no_edge", "insufficient_data"


def missing(value: Any) -> bool:
    """None, NaN or pandas NA."""
    return value is None or value != value


def p_text(value: float) -> str:
    return f"{value:.2g}" if value >= 0.001 else f"{value:.1e}"


def _percent(value: float) -> str:
    return f"{100 * value:.1f} %"


def shortfalls(row: Mapping[str, Any], settings: ScorecardSettings) -> list[str]:
    """Why the data are too few to judge (empty when they suffice), in the order a user fixes them."""
    found = []
    if not missing(row.get("decisions")) and row.get("ok_count") == 0:
        found.append(f"0 of {int(row['decisions'])} LLM decisions ok")
    if missing(row["trading_days"]):
        return [*found, "no backtest portfolio rows"]
    minimums = [
        ("signals", settings.min_signals, "decided signals", "scorecard_min_signals"),
        ("trading_days", settings.min_trading_days, "trading days", "min_trading_days"),
        ("trades", settings.min_trades, "trades", "scorecard_min_trades"),
        ("invested_days", settings.min_invested_days, "days invested", "scorecard_min_invested_days"),
    ]
    for column, minimum, what, var in minimums:
        if int(row[column]) < minimum:
            found.append(f"{int(row[column])} {what} < {minimum} ({var})")
    if int(row["signals"]) > 0 and (missing(row.get("timed_signals")) or row["timed_signals"] == 0):
        found.append(
            "its signals span too few trading days to meet the market's outcomes at other times "
            f"(random timing needs {random_timing_span(settings)} days on a ticker)"
        )
    elif not found and missing(row.get("portfolio_timing_p_value")):
        found.append(f"its portfolio window is too short to time at random (needs {random_timing_span(settings)} days)")
    return found


def random_timing_span(settings: ScorecardSettings) -> int:
    """The shortest span (trading days) whose decisions the random-timing test can move."""
    before = blocks_before(settings.block_days, settings.decision_lookback_days, settings.horizon_days)
    return 2 * (before + 1) * settings.block_days


def _strategies(count: Any) -> str:
    return "1 strategy" if int(count) == 1 else f"{int(count)} strategies"


def _signals_phrase(row: Mapping[str, Any]) -> str:
    return (
        f"signals right {_percent(row['hit_rate'])} of the time against "
        f"{_percent(row['random_timing_hit_rate'])} for the same signals at random times "
        f"(p {p_text(row['signal_timing_p_value'])}, "
        f"{p_text(row['signal_timing_adjusted_p_value'])} adjusted for {_strategies(row['random_timing_family_size'])} tried)"
    )


def _portfolio_phrase(row: Mapping[str, Any]) -> str:
    return (
        f"portfolio {_percent(row['portfolio_mean_return'])}/yr against a median "
        f"{_percent(row['random_timing_mean_return'])}/yr for the same positions at random times "
        f"(p {p_text(row['portfolio_timing_p_value'])})"
    )


def verdict(row: Mapping[str, Any], settings: ScorecardSettings) -> tuple[str, str]:
    """(verdict, verdict_reason) of one scorecard row, the reason in words a trader reads."""
    found = shortfalls(row, settings)
    if found:
        reason = "too little to judge: " + "; ".join(found)
        raw = row.get("signal_timing_p_value")
        if not missing(raw) and raw < settings.significance:
            reason += (
                f"; its signals alone beat random timing ({_percent(row['hit_rate'])} right against "
                f"{_percent(row['random_timing_hit_rate'])}, p {p_text(raw)} before any family-wise adjustment)"
            )
        return INSUFFICIENT_DATA, reason
    signals_pass = row["signal_timing_adjusted_p_value"] < settings.significance
    if not signals_pass:
        return NO_EDGE, (
            f"luck explains it: {_signals_phrase(row)}, not below {settings.significance:g}; "
            f"only an edge of {100 * row['minimum_detectable_effect']:.1f} hit-rate points or more "
            f"would show with {100 * settings.power:.0f} % power"
        )
    if row["portfolio_timing_p_value"] >= settings.max_portfolio_p_value:
        if row["portfolio_timing_p_value"] == 1.0:
            why = "its positions never change in a way timing could matter (e.g. it never sells: trading it is buy-and-hold)"
        else:
            why = "the edge does not survive trading (confidence threshold, sizing, costs)"
        return NO_EDGE, f"{_signals_phrase(row)}, but {_portfolio_phrase(row)}: {why}"
    return EDGE, f"{_signals_phrase(row)}; {_portfolio_phrase(row)}"
