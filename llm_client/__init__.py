"""Shared LLM client of the three dbt Python models in models/llm/.

Pydantic schemas per stage (``schemas``), prompt builders over point-in-time context
(``prompts``), a typed wrapper of the official ``ollama`` client with validation, re-asks,
timeouts and backoff (``client``), a response cache that survives ``--full-refresh``
(``cache``), and the stage runner with bounded concurrency, progress and statistics
(``runner``, ``stages``). ``dbt_support`` holds the glue for the dbt models.
"""

from .schemas import SCHEMA_VERSION, MarketAnalysis, RiskAssessment, TradingSignal
from .settings import LlmSettings

__all__ = ["SCHEMA_VERSION", "LlmSettings", "MarketAnalysis", "RiskAssessment", "TradingSignal"]
