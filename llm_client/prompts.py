"""Prompt builders: one function per stage, from point-in-time context rows only.

A context row is one row of ``int_llm_context`` as a dict. In blind mode the ticker becomes
its neutral ``asset_label`` and the date becomes ``day <decision_day>`` (business days since
the decision window opened), so the model cannot look the answer up in what it remembers.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

SYSTEM_PROMPT = "Equity analyst. The data ends at the close of the decision day. Reply in JSON."

Messages = list[dict[str, str]]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _pct(value: Any) -> str:
    return "n/a" if _missing(value) else f"{float(value) * 100:+.1f}%"


def _share(value: Any) -> str:
    return "n/a" if _missing(value) else f"{float(value) * 100:.1f}%"


def _num(value: Any, digits: int = 2) -> str:
    return "n/a" if _missing(value) else f"{float(value):.{digits}f}"


def subject(context: Mapping[str, Any], blind: bool) -> str:
    """How the prompt names the asset."""
    return str(context["asset_label"]) if blind else str(context["ticker"])


def when(context: Mapping[str, Any], blind: bool) -> str:
    """How the prompt names the decision date."""
    return f"day {int(context['decision_day'])}" if blind else str(context["decision_date"])[:10]


def market_block(context: Mapping[str, Any], blind: bool) -> str:
    """The market facts of one (ticker, decision date), as compact lines."""
    closes = context.get("recent_closes")
    closes_text = " ".join(_num(c) for c in closes) if closes is not None and len(closes) else "n/a"
    return "\n".join(
        [
            f"{subject(context, blind)}, close of {when(context, blind)}.",
            f"Closes, oldest first: {closes_text}.",
            f"Recent range {_num(context['range_low'])}-{_num(context['range_high'])}. "
            f"Returns 1d {_pct(context['return_1d'])}, 5d {_pct(context['return_5d'])}, "
            f"20d {_pct(context['return_20d'])}, 60d {_pct(context['return_60d'])}.",
            f"Volatility {_share(context['volatility_annualized'])}/yr, RSI {_num(context['rsi'], 0)}, "
            f"drawdown {_pct(context['drawdown'])}. SMA short {_num(context['sma_short'])}, "
            f"medium {_num(context['sma_medium'])}, long {_num(context['sma_long'])}.",
        ]
    )


def analysis_messages(context: Mapping[str, Any], blind: bool) -> Messages:
    """Stage 1 prompt."""
    close = _num(context["close"])
    user = (
        market_block(context, blind)
        + f"\nJSON: trend (up|down|sideways), regime (bull|bear|range|volatile), support (below {close}), "
        f"resistance (above {close}), sentiment_score (-1 bearish..1 bullish), summary (your outlook)."
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def _analysis_line(analysis: Mapping[str, Any] | None) -> str:
    if analysis is None:
        return "Analysis: not available."
    return (
        f"Analysis: trend {analysis['trend']}, regime {analysis['regime']}, support {_num(analysis['support'])}, "
        f"resistance {_num(analysis['resistance'])}, sentiment {_num(analysis['sentiment_score'])}. {analysis['summary']}"
    )


def key_facts(context: Mapping[str, Any], blind: bool) -> str:
    """The few market facts the signal stage repeats next to the analysis (one line)."""
    return (
        f"{subject(context, blind)}, close of {when(context, blind)}: close {_num(context['close'])}; "
        f"returns 5d {_pct(context['return_5d'])}, 20d {_pct(context['return_20d'])}, 60d {_pct(context['return_60d'])}; "
        f"RSI {_num(context['rsi'], 0)}; volatility {_share(context['volatility_annualized'])}/yr; "
        f"drawdown {_pct(context['drawdown'])}."
    )


def signal_messages(context: Mapping[str, Any], analysis: Mapping[str, Any] | None, blind: bool) -> Messages:
    """Stage 2 prompt: the key market facts plus the stage-1 analysis (if it succeeded)."""
    user = (
        key_facts(context, blind)
        + "\n"
        + _analysis_line(analysis)
        + "\nJSON: action (BUY|SELL|HOLD), confidence (0..1), horizon (1w|1m|3m), rationale (your reason)."
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def _position_line(context: Mapping[str, Any], signal: Mapping[str, Any] | None, blind: bool) -> str:
    advice = "no signal" if signal is None else f"{signal['action']} (confidence {_num(signal['confidence'])})"
    return (
        f"- {subject(context, blind)}: {advice}; volatility {_share(context['volatility_annualized'])}/yr, "
        f"drawdown {_pct(context['drawdown'])}, 20d return {_pct(context['return_20d'])}"
    )


def risk_messages(
    positions: Sequence[tuple[Mapping[str, Any], Mapping[str, Any] | None]],
    blind: bool,
    max_position_size: float,
) -> Messages:
    """Stage 3 prompt: every ticker of one decision date with its signal (or none)."""
    first = positions[0][0]
    lines = [f"Portfolio at the close of {when(first, blind)}:"]
    lines += [_position_line(context, signal, blind) for context, signal in positions]
    lines.append(
        "JSON: risk_score (0 calm..1 extreme), volatility_regime (low|normal|high|extreme), "
        f"max_position_size (largest weight of one position, at most {max_position_size}), concerns (up to 3)."
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "\n".join(lines)}]


def prompt_hash(messages: Messages) -> str:
    """SHA-256 of the canonical JSON of the messages."""
    return hashlib.sha256(json.dumps(messages, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
