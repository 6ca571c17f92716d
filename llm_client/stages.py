"""The three LLM stages as functions from context rows to typed DataFrames.

The dbt Python models in models/llm/ only fetch their inputs, build ``LlmSettings`` from their
config and call one of these, so the logic is testable without dbt.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .prompts import analysis_messages, risk_messages, signal_messages
from .runner import META_COLUMNS, StageRequest, StageSpec, run_stage
from .schemas import MarketAnalysis, RiskAssessment, TradingSignal
from .settings import LlmSettings

Row = Mapping[str, Any]

META_DTYPES: dict[str, str] = {
    "model": "string",
    "model_digest": "string",
    "prompt_hash": "string",
    "blind_mode": "boolean",
    "status": "string",
    "error": "string",
    "raw_response": "string",
    "attempts": "Int64",
    "latency_ms": "Int64",
    "prompt_tokens": "Int64",
    "completion_tokens": "Int64",
}

ANALYSIS_DTYPES: dict[str, str] = {
    "ticker": "string",
    "trend": "string",
    "regime": "string",
    "support": "Float64",
    "resistance": "Float64",
    "sentiment_score": "Float64",
    "summary": "string",
}

SIGNAL_DTYPES: dict[str, str] = {
    "ticker": "string",
    "analysis_status": "string",
    "action": "string",
    "confidence": "Float64",
    "horizon": "string",
    "rationale": "string",
}

RISK_DTYPES: dict[str, str] = {
    "tickers": "string",
    "signals_used": "Int64",
    "risk_score": "Float64",
    "volatility_regime": "string",
    "max_position_size": "Float64",
    "concerns": "string",
}


def _frame(rows: list[dict[str, Any]], dtypes: dict[str, str], order: Sequence[str]) -> pd.DataFrame:
    """A DataFrame with fixed column order and nullable dtypes (so all-null columns keep their type)."""
    frame = pd.DataFrame(rows, columns=list(order))
    for column, dtype in {**dtypes, **META_DTYPES}.items():
        frame[column] = frame[column].astype(dtype)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True).astype("datetime64[us, UTC]")
    return frame


def _all_unavailable(rows: Sequence[Row]) -> bool:
    """True when the previous stage produced rows and every one of them is 'llm_unavailable'."""
    return bool(rows) and all(row["status"] == "llm_unavailable" for row in rows)


def _key(row: Row) -> tuple[str, str]:
    return str(row["ticker"]), str(row["decision_date"])[:10]


def market_analysis(context: Sequence[Row], settings: LlmSettings) -> pd.DataFrame:
    """Stage 1: one analysis per (ticker, decision date)."""
    spec = StageSpec("llm_market_analysis", "analysis", MarketAnalysis)
    requests = [
        StageRequest(
            keys={"ticker": row["ticker"], "decision_date": row["decision_date"]},
            messages=analysis_messages(row, settings.blind),
            validation={"close": float(row["close"])},
        )
        for row in sorted(context, key=_key)
    ]
    rows = run_stage(spec, requests, settings)
    order = ["ticker", "decision_date", *MarketAnalysis.model_fields, *_meta_order()]
    return _frame(rows, ANALYSIS_DTYPES, order)


def signal_generation(context: Sequence[Row], analyses: Sequence[Row], settings: LlmSettings) -> pd.DataFrame:
    """Stage 2: one signal per (ticker, decision date), given that date's analysis when it succeeded."""
    by_key = {_key(a): a for a in analyses}
    requests = []
    for row in sorted(context, key=_key):
        analysis = by_key.get(_key(row))
        usable = analysis if analysis is not None and analysis["status"] == "ok" else None
        requests.append(
            StageRequest(
                keys={
                    "ticker": row["ticker"],
                    "decision_date": row["decision_date"],
                    "analysis_status": analysis["status"] if analysis is not None else None,
                },
                messages=signal_messages(row, usable, settings.blind),
            )
        )
    spec = StageSpec("llm_signal_generation", "signal", TradingSignal)
    rows = run_stage(spec, requests, settings, upstream_unavailable=_all_unavailable(analyses))
    order = ["ticker", "decision_date", "analysis_status", *TradingSignal.model_fields, *_meta_order()]
    return _frame(rows, SIGNAL_DTYPES, order)


def risk_assessment(context: Sequence[Row], signals: Sequence[Row], settings: LlmSettings) -> pd.DataFrame:
    """Stage 3: one assessment per decision date over every ticker decided that day."""
    signal_by_key = {_key(s): s for s in signals if s["status"] == "ok"}
    by_date: dict[str, list[Row]] = {}
    for row in sorted(context, key=_key):
        by_date.setdefault(str(row["decision_date"])[:10], []).append(row)
    requests = []
    for day in sorted(by_date):
        rows = by_date[day]
        positions = [(row, signal_by_key.get(_key(row))) for row in rows]
        requests.append(
            StageRequest(
                keys={
                    "decision_date": rows[0]["decision_date"],
                    "tickers": ",".join(str(r["ticker"]) for r in rows),
                    "signals_used": sum(1 for _, s in positions if s is not None),
                },
                messages=risk_messages(positions, settings.blind, settings.max_position_size),
                validation={"max_position_size": settings.max_position_size},
            )
        )
    spec = StageSpec("llm_risk_assessment", "risk", RiskAssessment)
    rows = run_stage(spec, requests, settings, upstream_unavailable=_all_unavailable(signals))
    for row in rows:
        if row["concerns"] is not None:
            row["concerns"] = json.dumps(row["concerns"])
    order = ["decision_date", "tickers", "signals_used", *RiskAssessment.model_fields, *_meta_order()]
    return _frame(rows, RISK_DTYPES, order)


def _meta_order() -> list[str]:
    return list(META_COLUMNS)
