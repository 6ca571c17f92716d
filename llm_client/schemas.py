"""The answer each LLM stage must give, as pydantic models.

The JSON schema of each model is sent as Ollama's ``format=`` (structured output) and every
reply is validated against the same model; bump ``SCHEMA_VERSION`` whenever a model changes,
so cached answers for the old shape are not reused.
"""

from __future__ import annotations

import copy
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator, model_validator

SCHEMA_VERSION = "4"


class MarketAnalysis(BaseModel):
    """Stage 1: what the market data of one ticker on one decision date says.

    String lengths are part of the schema sent as ``format=``, so the server's grammar bounds them
    (and with them the tokens generated).
    """

    model_config = ConfigDict(extra="forbid")

    trend: Literal["up", "down", "sideways"]
    regime: Literal["bull", "bear", "range", "volatile"]
    support: float = Field(gt=0, description="price level below the close that should hold")
    resistance: float = Field(gt=0, description="price level above the close that caps it")
    sentiment_score: float = Field(ge=-1, le=1, description="-1 very bearish .. 1 very bullish")
    summary: str = Field(min_length=1, max_length=80)

    @model_validator(mode="after")
    def _support_below_resistance(self, info: ValidationInfo) -> MarketAnalysis:
        if self.support > self.resistance:
            raise ValueError(f"support ({self.support}) must not be above resistance ({self.resistance})")
        close = (info.context or {}).get("close")
        if close is not None and not self.support < close < self.resistance:
            raise ValueError(
                f"support ({self.support}) must be below and resistance ({self.resistance}) above the close ({close})"
            )
        return self


class TradingSignal(BaseModel):
    """Stage 2: an advisory action for one ticker on one decision date."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["BUY", "SELL", "HOLD"]
    confidence: float = Field(ge=0, le=1)
    horizon: Literal["1w", "1m", "3m"]
    rationale: str = Field(min_length=1, max_length=80)


class RiskAssessment(BaseModel):
    """Stage 3: the risk of the signalled portfolio on one decision date.

    ``max_position_size`` is checked against the cap passed as validation context
    (``{"max_position_size": 0.25}``), never silently clipped.
    """

    model_config = ConfigDict(extra="forbid")

    risk_score: float = Field(ge=0, le=1, description="0 calm .. 1 extreme risk")
    volatility_regime: Literal["low", "normal", "high", "extreme"]
    max_position_size: float = Field(ge=0, le=1, description="largest recommended weight of one position")
    concerns: list[Annotated[str, StringConstraints(min_length=1, max_length=60)]] = Field(max_length=3)

    @field_validator("max_position_size")
    @classmethod
    def _within_cap(cls, value: float, info: ValidationInfo) -> float:
        cap = (info.context or {}).get("max_position_size")
        if cap is not None and value > cap:
            raise ValueError(f"max_position_size {value} is above the cap of {cap}")
        return value


class RecalledReturn(BaseModel):
    """The recall probe: a ticker's total return over one past calendar month, from memory alone.

    A whole number of percent: the server's grammar bounds an integer's digits, while a decimal
    number let the embedded 135M model write digits until its token budget ran out (25 of 44
    answers cut off). A month of ±0.4 % is 0 here.
    """

    model_config = ConfigDict(extra="forbid")

    total_return_percent: int = Field(ge=-100, le=100, description="total return over the month, in whole percent")


def json_schema(model: type[BaseModel], context: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON schema sent as ``format=``, with the validation context's bounds written in.

    A position cap becomes the maximum of ``max_position_size``; a ``close`` becomes the exclusive
    maximum of ``support`` and the exclusive minimum of ``resistance``. The server's grammar then
    keeps the model inside the bounds that validation checks anyway.
    """
    schema = copy.deepcopy(model.model_json_schema())
    properties = schema.get("properties", {})
    context = context or {}
    if context.get("max_position_size") is not None and "max_position_size" in properties:
        properties["max_position_size"]["maximum"] = context["max_position_size"]
    if context.get("close") is not None and "support" in properties:
        properties["support"]["exclusiveMaximum"] = context["close"]
        properties["resistance"]["exclusiveMinimum"] = context["close"]
    return schema
