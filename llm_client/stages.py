"""The LLM stages as functions from context rows to typed DataFrames.

The dbt Python models in models/llm/ only fetch their inputs, build ``LlmSettings`` from their
config and call one of these, so the logic is testable without dbt. Every stage asks each model of
``settings.models`` in turn and keeps their rows side by side (keyed by model): a model's signals
are given that model's analyses, its risk assessments that model's signals.

Each model is asked as each twin of ``settings.blind_modes()`` (named, and with the memorisation
check also blind), the twins' rows side by side keyed by ``blind_mode``; a twin's signals are given
the same twin's analyses, its risk assessments the same twin's signals. ``return_recall`` is the
recall probe (memorisation check only): each model asked for a ticker's return over a past month.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .prompts import analysis_messages, price_scale, recall_messages, risk_messages, shown, signal_messages
from .runner import META_COLUMNS, StageRequest, StageSpec, run_models
from .schemas import MarketAnalysis, RecalledReturn, RiskAssessment, TradingSignal
from .settings import LlmSettings

Row = Mapping[str, Any]

META_DTYPES: dict[str, str] = {
    "model": "string",
    "model_digest": "string",
    "prompt_hash": "string",
    "prompt_messages": "string",
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

RECALL_DTYPES: dict[str, str] = {
    "ticker": "string",
    "month": "date32[pyarrow]",
    "recalled_return": "Float64",
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


TwinKey = tuple[bool, str, str]


def _twin_key(row: Row) -> TwinKey:
    """(blind_mode, ticker, decision date) of a previous stage's row."""
    return bool(row["blind_mode"]), *_key(row)


def _by_model(rows: Sequence[Row], model: str, status: str | None = None) -> dict[TwinKey, Row]:
    """One model's rows of a previous stage by (blind_mode, ticker, decision date), optionally of one status only."""
    return {
        _twin_key(row): row for row in rows if row["model"] == model and (status is None or row["status"] == status)
    }


def _flatten(rows: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every model's rows, model after model in the order the settings list them."""
    return [row for model_rows in rows.values() for row in model_rows]


def _analysis_requests(context: Sequence[Row], blind_modes: Sequence[bool]) -> list[StageRequest]:
    """One model's analysis requests: every row, as each twin. A blind twin's answer is bounded by the
    close it is shown (rebased), so its support and resistance are on that scale."""
    return [
        StageRequest(
            keys={"ticker": row["ticker"], "decision_date": row["decision_date"]},
            messages=analysis_messages(row, blind),
            blind=blind,
            validation={"close": float(shown(row, blind)["close"])},
        )
        for blind in blind_modes
        for row in sorted(context, key=_key)
    ]


def _to_price_scale(rows: list[dict[str, Any]], context: Sequence[Row]) -> None:
    """Blind answers' support and resistance back on the decision date's price scale (the named rows' scale)."""
    scales = {_key(row): price_scale(row, True) for row in context}
    for row in rows:
        if row["blind_mode"] and row["status"] == "ok":
            scale = scales[_key(row)]
            row["support"], row["resistance"] = row["support"] / scale, row["resistance"] / scale


def market_analysis(context: Sequence[Row], settings: LlmSettings) -> pd.DataFrame:
    """Stage 1: one analysis per (model, twin, ticker, decision date)."""
    spec = StageSpec("llm_market_analysis", "analysis", MarketAnalysis)
    batches = {model: _analysis_requests(context, settings.blind_modes()) for model in settings.models}
    rows = _flatten(run_models(spec, batches, settings))
    _to_price_scale(rows, context)
    order = ["ticker", "decision_date", *MarketAnalysis.model_fields, *_meta_order()]
    return _frame(rows, ANALYSIS_DTYPES, order)


def _signal_requests(
    context: Sequence[Row], analyses: dict[TwinKey, Row], blind_modes: Sequence[bool]
) -> list[StageRequest]:
    """One model's signal requests, each twin's given the same twin's analysis of the row when it succeeded."""
    requests = []
    for blind in blind_modes:
        for row in sorted(context, key=_key):
            analysis = analyses.get((blind, *_key(row)))
            usable = analysis if analysis is not None and analysis["status"] == "ok" else None
            requests.append(
                StageRequest(
                    keys={
                        "ticker": row["ticker"],
                        "decision_date": row["decision_date"],
                        "analysis_status": analysis["status"] if analysis is not None else None,
                    },
                    messages=signal_messages(row, usable, blind),
                    blind=blind,
                )
            )
    return requests


def signal_generation(context: Sequence[Row], analyses: Sequence[Row], settings: LlmSettings) -> pd.DataFrame:
    """Stage 2: one signal per (model, twin, ticker, decision date), given the same model's and twin's analysis."""
    batches = {
        model: _signal_requests(context, _by_model(analyses, model), settings.blind_modes())
        for model in settings.models
    }
    spec = StageSpec("llm_signal_generation", "signal", TradingSignal)
    upstream = _unavailable_models(analyses, settings.models)
    rows = _flatten(run_models(spec, batches, settings, upstream_unavailable=upstream))
    order = ["ticker", "decision_date", "analysis_status", *TradingSignal.model_fields, *_meta_order()]
    return _frame(rows, SIGNAL_DTYPES, order)


def _risk_requests(context: Sequence[Row], signals: dict[TwinKey, Row], settings: LlmSettings) -> list[StageRequest]:
    """One model's risk requests: per twin, one per decision date over every ticker decided that day."""
    by_date: dict[str, list[Row]] = {}
    for row in sorted(context, key=_key):
        by_date.setdefault(str(row["decision_date"])[:10], []).append(row)
    requests = []
    for blind in settings.blind_modes():
        for day in sorted(by_date):
            rows = by_date[day]
            positions = [(row, signals.get((blind, *_key(row)))) for row in rows]
            requests.append(
                StageRequest(
                    keys={
                        "decision_date": rows[0]["decision_date"],
                        "tickers": ",".join(str(r["ticker"]) for r in rows),
                        "signals_used": sum(1 for _, s in positions if s is not None),
                    },
                    messages=risk_messages(positions, blind, settings.max_position_size),
                    blind=blind,
                    validation={"max_position_size": settings.max_position_size},
                )
            )
    return requests


def risk_assessment(context: Sequence[Row], signals: Sequence[Row], settings: LlmSettings) -> pd.DataFrame:
    """Stage 3: one assessment per (model, twin, decision date) over that model's and twin's signals of the day."""
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


def return_recall(months: Sequence[Row], risk: Sequence[Row], settings: LlmSettings) -> pd.DataFrame:
    """The recall probe: one question per (model, ticker, month) of ``months`` (``int_llm_recall_months``),
    asked with no market data: the ticker's total return over that calendar month. Only with the
    memorisation check (an empty table otherwise: no call). ``risk`` is the last stage's rows, to tell
    models already reported unavailable (said at info level here)."""
    order = ["ticker", "month", "recalled_return", *_meta_order()]
    if not settings.memorization_check:
        return _frame([], RECALL_DTYPES, order)
    ordered = sorted(months, key=lambda row: (str(row["ticker"]), str(row["month"])))
    batches = {
        model: [
            StageRequest(
                keys={"ticker": row["ticker"], "month": row["month"]},
                messages=recall_messages(row["ticker"], row["month"]),
            )
            for row in ordered
        ]
        for model in settings.models
    }
    spec = StageSpec("llm_return_recall", "recall", RecalledReturn)
    upstream = _unavailable_models(risk, settings.models)
    rows = _flatten(run_models(spec, batches, settings, upstream_unavailable=upstream))
    for row in rows:
        percent = row.pop("total_return_percent")
        row["recalled_return"] = None if percent is None else percent / 100
    return _frame(rows, RECALL_DTYPES, order)


def _meta_order() -> list[str]:
    return list(META_COLUMNS)
