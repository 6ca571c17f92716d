"""The model writes the fields in schema order, and the prompts list them in that order.

The server's grammar is built from the JSON schema's properties in order, so the order of the
pydantic fields decides whether a model writes its decision before or after its reasoning.
benchmarks/judgement_probe.py compared both orders; the decision-first order kept here won
(docs/embedded-models.md, "Judgement probe and field order").
"""

from __future__ import annotations

import json

import ollama
import pytest
from pydantic import BaseModel

from embedded_ollama.catalog import EMBEDDED_MODEL_NAME
from llm_client.prompts import analysis_messages, signal_messages
from llm_client.schemas import MarketAnalysis, TradingSignal, json_schema

CONTEXT = {
    "ticker": "MSFT",
    "asset_label": "ASSET_1",
    "decision_date": "2012-06-29",
    "decision_day": 84,
    "close": 30.59,
    "recent_closes": [29.8, 30.1, 30.0, 30.35, 30.59],
    "range_low": 28.5,
    "range_high": 31.2,
    "return_1d": 0.008,
    "return_5d": 0.026,
    "return_20d": 0.041,
    "return_60d": -0.02,
    "volatility_annualized": 0.22,
    "rsi": 58,
    "drawdown": -0.08,
    "sma_short": 29.9,
    "sma_medium": 30.2,
    "sma_long": 29.1,
}


def _prompt_field_order(text: str, fields: list[str]) -> list[str]:
    return sorted(fields, key=text.index)


@pytest.mark.parametrize(
    ("model", "decision", "reason"),
    [(MarketAnalysis, "trend", "summary"), (TradingSignal, "action", "rationale")],
)
def test_schema_and_prompt_list_the_fields_in_the_measured_order(
    model: type[BaseModel], decision: str, reason: str
) -> None:
    fields = list(json_schema(model, {"close": 30.59}).get("properties", {}))
    assert fields == list(model.model_fields)
    assert fields.index(decision) < fields.index(reason)  # the order that won on the judgement probe
    prompt = (
        analysis_messages(CONTEXT, blind=False) if model is MarketAnalysis else signal_messages(CONTEXT, None, False)
    )[-1]["content"].split("JSON:", 1)[1]
    assert _prompt_field_order(prompt, fields) == fields  # the prompt lists the fields in schema order


@pytest.mark.model
def test_a_real_reply_writes_its_fields_in_schema_order(ollama_host: str) -> None:
    client = ollama.Client(host=ollama_host)
    for model, messages, context in [
        (MarketAnalysis, analysis_messages(CONTEXT, blind=False), {"close": 30.59}),
        (TradingSignal, signal_messages(CONTEXT, None, blind=False), None),
    ]:
        reply = client.chat(
            model=EMBEDDED_MODEL_NAME,
            messages=messages,
            format=json_schema(model, context),
            options={"temperature": 0, "seed": 42, "num_predict": 200},
        )
        text = reply.message.content or ""
        assert list(json.loads(text)) == list(model.model_fields), text
        model.model_validate_json(text, context=context)  # validation unchanged
