"""The three LLM stages as functions from context rows to typed DataFrames.

The dbt Python models in models/llm/ only fetch their inputs, build ``LlmSettings`` from their
config and call one of these, so the logic is testable without dbt. Every stage asks each model of
``settings.models`` in turn and keeps their rows side by side (keyed by model): a model's signals
are given that model's analyses, its risk assessments that model's signals.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .prompts import analysis_messages, risk_messages, signal_messages
from .runner import META_COLUMNS, StageRequest, StageSpec, run_models
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


def _unavailable_models(rows: Sequence[Row], models: Sequence[str]) -> set[str]:
    """Models whose rows in the previous stage exist and are all 'llm_unavailable' (already warned about)."""
    return {
        model
        for model in models
        if (statuses := [row["status"] for row in rows if row["model"] == model])
        and all(status == "llm_unavailable" for status in statuses)
    }


def _key(row: Row) -> tuple[str, str]:
    return str(row["ticker"]), str(row["decision_date"])[:10]


def _by_model(rows: Sequence[Row], model: str, status: str | None = None) -> dict[tuple[str, str], Row]:
    """One model's rows of a previous stage by (ticker, decision date), optionally of one status only."""
    return {_key(row): row for row in rows if row["model"] == model and (status is None or row["status"] == status)}


def _flatten(rows: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every model's rows, model after model in the order the settings list them."""
    return [row for model_rows in rows.values() for row in model_rows]


def market_analysis(context: Sequence[Row], settings: LlmSettings) -> pd.DataFrame:
    """Stage 1: one analysis per (model, ticker, decision date)."""
    spec = StageSpec("llm_market_analysis", "analysis", MarketAnalysis)
    ordered = sorted(context, key=_key)
    batches = {
        model: [
            StageRequest(
                keys={"ticker": row["ticker"], "decision_date": row["decision_date"]},
                messages=analysis_messages(row, settings.blind),
                validation={"close": float(row["close"])},
            )
            for row in ordered
        ]
        for model in settings.models
    }
    rows = _flatten(run_models(spec, batches, settings))
    order = ["ticker", "decision_date", *MarketAnalysis.model_fields, *_meta_order()]
    return _frame(rows, ANALYSIS_DTYPES, order)


def _signal_requests(context: Sequence[Row], analyses: dict[tuple[str, str], Row], blind: bool) -> list[StageRequest]:
    """One model's signal requests, each given that model's analysis of the row when it succeeded."""
    requests = []
    for row in sorted(context, key=_key):
        analysis = analyses.get(_key(row))
        usable = analysis if analysis is not None and analysis["status"] == "ok" else None
        requests.append(
            StageRequest(
                keys={
                    "ticker": row["ticker"],
                    "decision_date": row["decision_date"],
                    "analysis_status": analysis["status"] if analysis is not None else None,
                },
                messages=signal_messages(row, usable, blind),
            )
        )
    return requests


def signal_generation(context: Sequence[Row], analyses: Sequence[Row], settings: LlmSettings) -> pd.DataFrame:
    """Stage 2: one signal per (model, ticker, decision date), given the same model's analysis."""
    batches = {
        model: _signal_requests(context, _by_model(analyses, model), settings.blind) for model in settings.models
    }
    spec = StageSpec("llm_signal_generation", "signal", TradingSignal)
    upstream = _unavailable_models(analyses, settings.models)
    rows = _flatten(run_models(spec, batches, settings, upstream_unavailable=upstream))
    order = ["ticker", "decision_date", "analysis_status", *TradingSignal.model_fields, *_meta_order()]
    return _frame(rows, SIGNAL_DTYPES, order)


def _risk_requests(
    context: Sequence[Row], signals: dict[tuple[str, str], Row], settings: LlmSettings
) -> list[StageRequest]:
    """One model's risk requests: one per decision date over every ticker decided that day."""
    by_date: dict[str, list[Row]] = {}
    for row in sorted(context, key=_key):
        by_date.setdefault(str(row["decision_date"])[:10], []).append(row)
    requests = []
    for day in sorted(by_date):
        rows = by_date[day]
        positions = [(row, signals.get(_key(row))) for row in rows]
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
    return requests


def risk_assessment(context: Sequence[Row], signals: Sequence[Row], settings: LlmSettings) -> pd.DataFrame:
    """Stage 3: one assessment per (model, decision date) over that model's signals of the day."""
    batches = {
        model: _risk_requests(context, _by_model(signals, model, status="ok"), settings) for model in settings.models
    }
    spec = StageSpec("llm_risk_assessment", "risk", RiskAssessment)
    upstream = _unavailable_models(signals, settings.models)
    rows = _flatten(run_models(spec, batches, settings, upstream_unavailable=upstream))
    for row in rows:
        if row["concerns"] is not None:
            row["concerns"] = json.dumps(row["concerns"])
    order = ["decision_date", "tickers", "signals_used", *RiskAssessment.model_fields, *_meta_order()]
    return _frame(rows, RISK_DTYPES, order)


def _meta_order() -> list[str]:
    return list(META_COLUMNS)
