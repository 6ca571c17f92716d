"""Settings of the LLM stages, validated.

The values come from dbt vars only (models/llm/_llm.yml passes them in as the ``llm_settings``
config of each Python model); there are deliberately no defaults here, so a var that is not
passed through is an error rather than a silently different value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from warehouse_core.paths import llm_cache_path

Stage = Literal["analysis", "signal", "risk"]


class LlmSettings(BaseModel):
    """Every switch and threshold of the LLM stages (see the `vars:` of dbt_project.yml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enable_llm: bool
    fail_fast: bool
    model: str = Field(min_length=1)
    blind: bool
    concurrency: int = Field(ge=1, le=64)
    timeouts: dict[Stage, float]
    max_retries: int = Field(ge=0, le=10)
    connection_retries: int = Field(ge=0, le=10)
    backoff_seconds: float = Field(ge=0)
    seed: int
    temperature: float = Field(ge=0)
    num_ctx: int = Field(ge=256)
    num_predict: dict[Stage, int]
    max_position_size: float = Field(gt=0, le=1)
    use_cache: bool
    cache_path: str | None
    """Var ``llm_cache_path``; None means ``$WAREHOUSE_DIR/llm_cache.duckdb`` (see ``cache_file``)."""
    host: str | None
    """Var ``llm_host``; None means ``$OLLAMA_HOST``, then the default (``warehouse_core.ollama_host``)."""

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LlmSettings:
        """Build from the ``llm_settings`` dict a dbt Python model gets from ``dbt.config.get``."""
        return cls.model_validate(config)

    def ollama_options(self, stage: Stage) -> dict[str, Any]:
        """Ollama ``options`` for one stage: deterministic decoding with a bounded reply."""
        return {
            "temperature": self.temperature,
            "seed": self.seed,
            "num_ctx": self.num_ctx,
            "num_predict": self.num_predict[stage],
        }

    def cache_file(self) -> Path:
        """The cache file, by the one rule of ``warehouse_core.paths`` (relative = from the project folder)."""
        return llm_cache_path(self.cache_path)
