"""Settings of the LLM stages, validated.

The values come from dbt vars only (models/llm/_llm.yml passes them in as the ``llm_settings``
config of each Python model); there are deliberately no defaults here, so a var that is not
passed through is an error rather than a silently different value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from warehouse_core.ollama_host import HostSetting, resolve_hosts
from warehouse_core.paths import llm_cache_path

from .client import normalize_model_name

Stage = Literal["analysis", "signal", "risk", "recall"]


def model_names(models: list[str] | str | None, model: str | None = None) -> list[str]:
    """The models a build asks, as Ollama names them (``llama3`` is ``llama3:latest``).

    ``model`` (var ``llm_model``, the one-model alias) wins when set; else ``models`` (var
    ``llm_models``: a list, or one comma-separated string). Raises ``ValueError`` when the list is
    empty or names a model twice.
    """
    if model and model.strip():
        return [normalize_model_name(model)]
    if isinstance(models, str):
        models = models.split(",")
    names = [normalize_model_name(name) for name in models or () if name and name.strip()]
    if not names:
        raise ValueError("var llm_models is empty: name at least one Ollama model, e.g. --llm-model smollm2:135m")
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"var llm_models names {', '.join(twice)} more than once: list each model once")
    return names


class LlmSettings(BaseModel):
    """Every switch and threshold of the LLM stages (see the `vars:` of dbt_project.yml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enable_llm: bool
    fail_fast: bool
    models: list[str] = Field(min_length=1)
    """The models to ask, in order, as Ollama names them: var ``llm_model`` when set, else var ``llm_models``."""
    model: str | None
    """Var ``llm_model``: the one-model alias. When set it wins over ``llm_models``."""
    blind: bool
    """Var ``llm_blind``: ask only the blind twin (strategy ``llm:<model>:blind``), never the named one."""
    memorization_check: bool
    """Var ``llm_memorization_check``: ask every model twice, named and blind, and run the recall probe."""
    concurrency: int = Field(ge=1, le=64)
    """Requests in flight at once per host that does not say ``host=N``."""
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
    """Var ``llm_host``; None means ``$OLLAMA_HOSTS``, ``$OLLAMA_HOST``, then the default (``warehouse_core.ollama_host``)."""
    hosts: list[str] | None
    """Var ``llm_hosts``: several Ollama hosts, each ``host`` or ``host=N``; wins over ``llm_host``."""
    host_down_seconds: float = Field(ge=0)
    """Var ``llm_host_down_seconds``: how long a host that failed gets no new request."""

    @model_validator(mode="before")
    @classmethod
    def _one_list_of_models(cls, data: Any) -> Any:
        """``models`` becomes the list the build asks: ``llm_model`` when set, else ``llm_models``."""
        if isinstance(data, dict):
            data = {**data, "models": model_names(data.get("models"), data.get("model"))}
        return data

    @field_validator("hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        return value.split(",") if isinstance(value, str) else value

    @model_validator(mode="after")
    def _hosts_parse(self) -> LlmSettings:
        self.host_settings()  # a bad ``host=N`` or a host given twice fails here, before any request
        return self

    @model_validator(mode="after")
    def _one_twin_switch(self) -> LlmSettings:
        if self.blind and self.memorization_check:
            raise ValueError(
                "vars llm_blind (the blind twin only) and llm_memorization_check (both twins) are both true: "
                "set llm_blind false to ask both, or llm_memorization_check false to ask the blind twin only"
            )
        return self

    def blind_modes(self) -> list[bool]:
        """The twins asked, as their ``blind_mode``: named only (default), named and blind (the
        memorisation check), or blind only (``llm_blind``)."""
        if self.memorization_check:
            return [False, True]
        return [self.blind]

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LlmSettings:
        """Build from the ``llm_settings`` dict a dbt Python model gets from ``dbt.config.get``."""
        return cls.model_validate(config)

    def host_settings(self) -> list[HostSetting]:
        """The hosts to use, each with its concurrency (``host=N``, else var ``llm_concurrency``)."""
        return [
            HostSetting(entry.url, entry.concurrency or self.concurrency)
            for entry in resolve_hosts(self.hosts, self.host)
        ]

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
