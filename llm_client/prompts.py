"""Prompt builders: one function per stage, from point-in-time context rows only.

A context row is one row of ``int_llm_context`` as a dict. A named prompt shows the ticker, the
date and price levels as traded. A blind prompt (the blind twin ``llm:<model>:blind``) shows
nothing that identifies the asset or the period: the ticker becomes its neutral ``asset_label``,
the date ``day <decision_day>`` (business days since the decision window opened), and every price
level is rebased so that the first close shown is 100 (``price_scale``); returns, volatility, RSI
and drawdown are scale-free and stay. The prompts show no volume and no calendar date at all.
So a model that remembers how a stock went on in a given month cannot look it up.

``recall_messages`` is the recall probe's question: a ticker and a calendar month, nothing else.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

SYSTEM_PROMPT = "Equity analyst. The data ends at the close of the decision day. Reply in JSON."
RECALL_SYSTEM_PROMPT = "Financial historian. Answer from memory. Reply in JSON."
BLIND_BASE = 100.0
"""A blind prompt's first close shown: every price level is divided by that close and times this."""
PRICE_LEVELS = ("close", "range_low", "range_high", "sma_short", "sma_medium", "sma_long")
"""The context columns that are price levels (on the decision date's price scale)."""

Messages = list[dict[str, str]]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _pct(value: Any) -> str:
    return "n/a" if _missing(value) else f"{float(value) * 100:+.1f}%"


def _share(value: Any) -> str:
    return "n/a" if _missing(value) else f"{float(value) * 100:.1f}%"


def _num(value: Any, digits: int = 2) -> str:
    return "n/a" if _missing(value) else f"{float(value):.{digits}f}"


def price_scale(context: Mapping[str, Any], blind: bool) -> float:
    """The factor from the context's price levels to the prompt's: 1 named; blind, ``BLIND_BASE`` over
    the first close shown (the oldest of ``recent_closes``, else the decision close)."""
    if not blind:
        return 1.0
    closes = context.get("recent_closes")
    first = closes[0] if closes is not None and len(closes) and not _missing(closes[0]) else context["close"]
    return BLIND_BASE / float(first)


def shown(context: Mapping[str, Any], blind: bool) -> Mapping[str, Any]:
    """The context as the prompt shows it: unchanged named; blind, every price level rebased."""
    if not blind:
        return context
    scale = price_scale(context, blind)
    rebased = {name: None if _missing(context[name]) else float(context[name]) * scale for name in PRICE_LEVELS}
    closes = context.get("recent_closes")
    if closes is not None:
        rebased["recent_closes"] = [None if _missing(c) else float(c) * scale for c in closes]
    return {**context, **rebased}


def shown_analysis(analysis: Mapping[str, Any] | None, scale: float) -> Mapping[str, Any] | None:
    """A stored analysis (levels on the decision date's price scale) as a prompt of that scale shows it."""
    if analysis is None or scale == 1.0:
        return analysis
    return {**analysis, "support": analysis["support"] * scale, "resistance": analysis["resistance"] * scale}


def subject(context: Mapping[str, Any], blind: bool) -> str:
    """How the prompt names the asset."""
    return str(context["asset_label"]) if blind else str(context["ticker"])


def when(context: Mapping[str, Any], blind: bool) -> str:
    """How the prompt names the decision date."""
    return f"day {int(context['decision_day'])}" if blind else str(context["decision_date"])[:10]


def market_block(context: Mapping[str, Any], blind: bool) -> str:
    """The market facts of one (ticker, decision date), as compact lines."""
    context = shown(context, blind)
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
    close = _num(shown(context, blind)["close"])
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
    context = shown(context, blind)
    return (
        f"{subject(context, blind)}, close of {when(context, blind)}: close {_num(context['close'])}; "
        f"returns 5d {_pct(context['return_5d'])}, 20d {_pct(context['return_20d'])}, 60d {_pct(context['return_60d'])}; "
        f"RSI {_num(context['rsi'], 0)}; volatility {_share(context['volatility_annualized'])}/yr; "
        f"drawdown {_pct(context['drawdown'])}."
    )


def signal_messages(context: Mapping[str, Any], analysis: Mapping[str, Any] | None, blind: bool) -> Messages:
    """Stage 2 prompt: the key market facts plus the stage-1 analysis (if it succeeded), whose levels are
    on the decision date's price scale (a blind prompt rebases them like the context's)."""
    user = (
        key_facts(context, blind)
        + "\n"
        + _analysis_line(shown_analysis(analysis, price_scale(context, blind)))
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


MONTH_NAMES = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
"""English month names, whatever the process locale (``%B`` follows it)."""


def recall_messages(ticker: str, month: date) -> Messages:
    """The recall probe's question: one ticker and one past calendar month, no market data at all."""
    when = f"{MONTH_NAMES[month.month - 1]} {month.year}"
    user = (
        f"{ticker}, {when}: what was the stock's total return over that calendar month, in percent?"
        "\nJSON: total_return_percent (a whole number, -100..100)."
    )
    return [{"role": "system", "content": RECALL_SYSTEM_PROMPT}, {"role": "user", "content": user}]


def prompt_text(messages: Messages) -> str:
    """The canonical JSON of the messages: what the warehouse keeps as ``prompt_messages`` (exact, auditable)."""
    return json.dumps(messages, sort_keys=True, separators=(",", ":"))


def prompt_hash(messages: Messages) -> str:
    """SHA-256 of the canonical JSON of the messages (so ``sha256(prompt_messages) == prompt_hash``)."""
    return hashlib.sha256(prompt_text(messages).encode()).hexdigest()
