"""The scorecard's verdict: is there evidence of an edge, and if not, which test says so.

* ``insufficient_data``: no backtest portfolio, fewer decided signals than ``min_signals``, or a
  backtest window shorter than ``min_trading_days``: too little to judge either way;
* ``edge``: every test passes: the hit rate beats both no-skill base rates (always-BUY's and the
  strategy's own action mix's), SPA says the daily returns beat buy-and-hold's, and the PSR is
  above ``min_probabilistic_sharpe``, each p-value below ``significance``;
* ``no_edge``: otherwise. An undefined figure (e.g. no Sharpe ratio for constant returns) fails its test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from signal_stats.settings import ScorecardSettings

EDGE, NO_EDGE, INSUFFICIENT_DATA = "edge", "no_edge", "insufficient_data"


def _missing(value: Any) -> bool:
    return value is None or value != value  # None, NaN or pandas NA


def _p_text(value: float, resolution: float | None = None) -> str:
    """A p-value for the reason text; a bootstrap p-value of 0 reads "< 1/reps", its resolution."""
    if resolution is not None and value < resolution:
        return f"< {resolution:.3g}"
    return f"{value:.3g}"


def _p_value_failure(name: str, value: Any, significance: float) -> str | None:
    if _missing(value):
        return f"{name} undefined"
    if value >= significance:
        return f"{name} {_p_text(value)} >= {significance:g}"
    return None


def _shortfalls(row: Mapping[str, Any], settings: ScorecardSettings) -> list[str]:
    """Why the data are too few to judge (empty when they suffice)."""
    found = []
    if not _missing(row.get("decisions")) and row.get("ok_count") == 0:
        found.append(f"0 of {int(row['decisions'])} LLM decisions ok")
    if _missing(row["trading_days"]):
        return [*found, "no backtest portfolio rows"]
    signals, trading_days = int(row["signals"]), int(row["trading_days"])
    if signals < settings.min_signals:
        found.append(f"{signals} decided signals < {settings.min_signals}")
    if trading_days < settings.min_trading_days:
        found.append(f"{trading_days} trading days < {settings.min_trading_days}")
    return found


def _failures(row: Mapping[str, Any], settings: ScorecardSettings) -> list[str]:
    """The tests an edge needs that this row does not pass."""
    failures = [
        _p_value_failure("hit-rate p (vs always-BUY)", row["hit_rate_p_value"], settings.significance),
        _p_value_failure("hit-rate p (vs action mix)", row["matched_hit_rate_p_value"], settings.significance),
        _p_value_failure("SPA p", row["spa_p_value"], settings.significance),
    ]
    psr = row["probabilistic_sharpe"]
    if _missing(psr):
        failures.append("PSR undefined")
    elif psr <= settings.min_probabilistic_sharpe:
        failures.append(f"PSR {psr:.3f} <= {settings.min_probabilistic_sharpe:g}")
    return [failure for failure in failures if failure is not None]


def verdict(row: Mapping[str, Any], settings: ScorecardSettings) -> tuple[str, str]:
    """(verdict, verdict_reason) of one scorecard row."""
    shortfalls = _shortfalls(row, settings)
    if shortfalls:
        return INSUFFICIENT_DATA, "; ".join(shortfalls)
    failures = _failures(row, settings)
    if failures:
        return NO_EDGE, "; ".join(failures)
    return EDGE, (
        f"all tests pass: hit-rate p {_p_text(row['hit_rate_p_value'])} and {_p_text(row['matched_hit_rate_p_value'])}, "
        f"SPA p {_p_text(row['spa_p_value'], 1 / settings.bootstrap_reps)}, PSR {row['probabilistic_sharpe']:.3f}"
    )
