"""Run one LLM stage over its requests, model by model: availability, cache, fan-out over hosts, logging.

Every request yields exactly one row, in input order, whatever happens: the answer's fields when
the status is 'ok', nulls plus the reason otherwise. Nothing is ever defaulted to a neutral answer.
Statuses (see :class:`llm_client.client.Outcome`): 'ok', 'invalid_output' (the model replied and the
reply failed validation), 'timeout', 'llm_unavailable' (no reply: server unreachable, model
missing, LLM disabled, or this request refused by the server with an HTTP 4xx).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel
from tqdm import tqdm

from warehouse_core.ollama_host import HostSetting, resolve_host

from .cache import CACHEABLE_STATUSES, ResponseCache, cache_key
from .client import LlmUnavailableError, ModelInfo, Outcome, ask_structured, normalize_model_name
from .hosts import Host, HostPool, dispatch
from .prompts import Messages, prompt_hash, prompt_text
from .routing import Listing, ModelRoute, list_hosts, open_pool, route_model
from .schemas import SCHEMA_VERSION, json_schema
from .settings import LlmSettings, Stage

logger = logging.getLogger(__name__)

PROGRESS_LOG_SECONDS = 5.0

META_COLUMNS = (
    "model",
    "model_digest",
    "prompt_hash",
    "prompt_messages",
    "blind_mode",
    "status",
    "error",
    "raw_response",
    "attempts",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "created_at",
)


@dataclass(frozen=True)
class StageSpec:
    """What a stage asks for."""

    name: str
    """Model name used in log lines, e.g. ``llm_market_analysis``."""
    stage: Stage
    response_model: type[BaseModel]


@dataclass
class StageRequest:
    """One row to produce: its key columns and prompt, and, as the stage runs, its cache key and result."""

    keys: dict[str, Any]
    messages: Messages
    blind: bool = False
    """True for a blind-twin prompt (nothing identifies the asset or the period): the row's ``blind_mode``."""
    validation: dict[str, Any] = field(default_factory=dict)
    """Validation context of the answer (e.g. the close that support and resistance must bracket,
    the position cap); it also shapes the JSON schema sent as ``format=``, so it is in the cache key."""
    prompt_hash: str = field(init=False)
    cache_key: str | None = field(default=None, init=False)
    result: Outcome | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.prompt_hash = prompt_hash(self.messages)


@dataclass
class StageStats:
    """Counters logged at the end of a stage, per model."""

    decisions: int = 0
    cache_hits: int = 0
    calls: int = 0
    failures: int = 0
    completion_tokens: int = 0
    model_seconds: float = 0.0
    calls_per_host: dict[str, int] = field(default_factory=dict)

    def count_call(self, outcome: Outcome, host: str) -> None:
        self.calls += 1
        self.failures += outcome.status != "ok"
        self.completion_tokens += outcome.completion_tokens or 0
        self.model_seconds += outcome.model_ns / 1e9
        self.calls_per_host[host] = self.calls_per_host.get(host, 0) + 1

    def summary(self, name: str, model: str, requests: Sequence[StageRequest], wall_seconds: float) -> str:
        statuses: dict[str, int] = {}
        for request in requests:
            assert request.result is not None
            statuses[request.result.status] = statuses.get(request.result.status, 0) + 1
        rate = self.completion_tokens / self.model_seconds if self.model_seconds > 0 else 0.0
        hosts = f"; calls per host {self.calls_per_host}" if len(self.calls_per_host) > 1 else ""
        return (
            f"{name}: {self.decisions} decisions, {self.cache_hits} cache hits, {self.calls} LLM calls, "
            f"{self.failures} failures, {rate:.1f} tokens/s, {wall_seconds:.1f} s; model {model}; statuses {statuses}"
            f"{hosts}"
        )


class Progress:
    """A tqdm bar plus a log line with the rate and ETA every few seconds (dbt's log has no bar)."""

    def __init__(self, name: str, total: int) -> None:
        self.name, self.total, self.done = name, total, 0
        self.started = self.last_log = time.perf_counter()
        self.bar = tqdm(total=total, desc=name, unit="call", leave=False, disable=None)

    def advance(self) -> None:
        self.done += 1
        self.bar.update(1)
        now = time.perf_counter()
        if self.done < self.total and now - self.last_log >= PROGRESS_LOG_SECONDS:
            elapsed = now - self.started
            eta = elapsed / self.done * (self.total - self.done)
            logger.info(
                "%s: %d/%d calls done, %.2f calls/s, ETA %.0f s",
                self.name,
                self.done,
                self.total,
                self.done / elapsed,
                eta,
            )
            self.last_log = now

    def close(self) -> None:
        self.bar.close()


def run_stage(
    spec: StageSpec,
    requests: Sequence[StageRequest],
    settings: LlmSettings,
    *,
    upstream_unavailable: bool = False,
    model: str | None = None,
    host: str | None = None,
) -> list[dict[str, Any]]:
    """One model's rows (same order as ``requests``): :func:`run_models` for a single model.

    ``model`` defaults to the first of the settings' models; ``host``, when given, replaces the
    settings' hosts (resolved by ``warehouse_core``).
    """
    name = normalize_model_name(model or settings.models[0])
    hosts = [HostSetting(resolve_host(host), settings.concurrency)] if host else None
    upstream = {name} if upstream_unavailable else set()
    return run_models(spec, {name: requests}, settings, upstream_unavailable=upstream, hosts=hosts)[name]


def run_models(
    spec: StageSpec,
    batches: Mapping[str, Sequence[StageRequest]],
    settings: LlmSettings,
    *,
    upstream_unavailable: Collection[str] = (),
    hosts: Sequence[HostSetting] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """One row per request for each model of ``batches`` (model name -> its requests, same order).

    Models run one after the other (all of one model's requests, then the next: a server that
    keeps one model in memory loads each once), each over the hosts that serve it. A model no
    host serves gets 'llm_unavailable' rows and the others go on; with ``fail_fast`` it stops the
    stage instead. ``upstream_unavailable``: models the previous stage already warned about (this
    stage says so at INFO level: one warning per model per build).
    """
    pool = open_pool(settings, spec.stage, hosts)
    loud = spec.stage == "analysis"  # the first stage warns about hosts; the later ones say it at info level
    listings = list_hosts(pool, settings, spec.name, loud) if settings.enable_llm else {}
    own = {model: [replace(request) for request in requests] for model, requests in batches.items()}
    routes = {
        model: _available_model(spec, model, requests, settings, pool, listings, model in upstream_unavailable, loud)
        for model, requests in own.items()
    }
    rows: dict[str, list[dict[str, Any]]] = {}
    needs_cache = settings.use_cache and any(route is not None for route in routes.values())
    with ResponseCache(settings.cache_file()) if needs_cache else nullcontext() as cache:
        for model, requests in own.items():
            route = routes[model]
            if route is not None:
                _run_model(spec, requests, settings, route, pool, cache)
            digest = route.info.digest if route is not None else None
            rows[model] = [_row(spec, request, model, digest) for request in requests]
    return rows


def _run_model(
    spec: StageSpec,
    requests: Sequence[StageRequest],
    settings: LlmSettings,
    route: ModelRoute,
    pool: HostPool,
    cache: ResponseCache | None,
) -> None:
    """Fill in every request's result for one model: from the cache, else from its hosts."""
    started = time.perf_counter()
    stats = StageStats(decisions=len(requests))
    _use_cache(spec, requests, settings, route.info, cache, stats)
    pending = [request for request in requests if request.result is None]
    logger.info(
        "%s: %d decisions, %d cache hits, %d LLM calls to make with %s (%s) at %s",
        spec.name,
        len(requests),
        stats.cache_hits,
        len(pending),
        route.info.name,
        route.info.digest[:12],
        ", ".join(f"{host.url} (x{host.concurrency})" for host in route.hosts),
    )
    if pending:
        _ask_pending(spec, pending, settings, route, pool, cache, stats)
    logger.info("%s", stats.summary(spec.name, route.info.name, requests, time.perf_counter() - started))


def _available_model(
    spec: StageSpec,
    model: str,
    requests: Sequence[StageRequest],
    settings: LlmSettings,
    pool: HostPool,
    listings: dict[str, Listing],
    upstream_unavailable: bool,
    loud: bool,
) -> ModelRoute | None:
    """The model's route, or None after marking its requests 'llm_unavailable' (and saying why, once)."""
    if settings.enable_llm:
        try:
            return route_model(spec.name, model, pool, listings, loud)
        except LlmUnavailableError as exc:
            if settings.fail_fast:
                raise RuntimeError(f"{spec.name}: {exc} (var llm_fail_fast = true)") from exc
            reason = str(exc)
        if upstream_unavailable:
            logger.info(
                "%s: LLM still unavailable for %s (warned above), %d rows marked llm_unavailable",
                spec.name,
                model,
                len(requests),
            )
        else:
            logger.warning(
                "%s: LLM unavailable for %s, %d rows marked llm_unavailable: %s",
                spec.name,
                model,
                len(requests),
                reason,
            )
    else:
        reason = "LLM stages disabled (var enable_llm = false)"
        if upstream_unavailable:
            logger.info(
                "%s: LLM stages disabled, %d rows of %s marked llm_unavailable", spec.name, len(requests), model
            )
        else:
            logger.warning("%s: %s; %d rows of %s marked llm_unavailable", spec.name, reason, len(requests), model)
    for request in requests:
        request.result = Outcome("llm_unavailable", error=reason)
    return None


def _key_options(settings: LlmSettings, stage: Stage, request: StageRequest) -> dict[str, Any]:
    """Everything besides model, prompt and schema version that decides the answer."""
    return {**settings.ollama_options(stage), "max_retries": settings.max_retries, "validation": request.validation}


def _use_cache(
    spec: StageSpec,
    requests: Sequence[StageRequest],
    settings: LlmSettings,
    info: ModelInfo,
    cache: ResponseCache | None,
    stats: StageStats,
) -> None:
    """Give every request its cache key; replay the answers the cache holds."""
    for request in requests:
        options = _key_options(settings, spec.stage, request)
        request.cache_key = cache_key(info.digest, request.prompt_hash, SCHEMA_VERSION, options)
        if cache is not None:
            request.result = cache.get(request.cache_key)
            stats.cache_hits += request.result is not None


def _store(
    spec: StageSpec,
    requests: Sequence[StageRequest],
    settings: LlmSettings,
    info: ModelInfo,
    cache: ResponseCache | None,
) -> None:
    """Keep the answers the model gave ('ok' or 'invalid_output'), never a refusal, timeout or outage:
    one transaction for the requests that finished together."""
    if cache is None:
        return
    entries = []
    for request in requests:
        outcome = request.result
        if outcome is None or outcome.status not in CACHEABLE_STATUSES:
            continue
        about = {
            "stage": spec.stage,
            "model": info.name,
            "model_digest": info.digest,
            "prompt_hash": request.prompt_hash,
            "schema_version": SCHEMA_VERSION,
            "options_json": json.dumps(_key_options(settings, spec.stage, request), sort_keys=True),
        }
        entries.append((request.cache_key or "", outcome, about))
    cache.put_many(entries)


def _ask_pending(
    spec: StageSpec,
    pending: Sequence[StageRequest],
    settings: LlmSettings,
    route: ModelRoute,
    pool: HostPool,
    cache: ResponseCache | None,
    stats: StageStats,
) -> None:
    """Ask the model for every pending request over its hosts (see :func:`llm_client.hosts.dispatch`).

    Answers are cached here, on the coordinating thread (the cache file allows one writer). When
    every host of the model has failed, the requests not yet answered are marked 'llm_unavailable'
    at once instead of each waiting through its backoffs (or, with ``fail_fast``, the stage stops).
    """
    progress = Progress(f"{spec.name} {route.info.name}", len(pending))

    def record(results: list[tuple[StageRequest, Outcome, Host]]) -> None:
        for request, outcome, host in results:
            request.result = outcome
            stats.count_call(outcome, host.url)
            if outcome.status != "ok":
                logger.info("%s: %s for %s: %s", spec.name, outcome.status, request.keys, outcome.error)
        _store(spec, [request for request, _, _ in results], settings, route.info, cache)
        for _ in results:  # counted once stored: "n calls done" means n answers a kill cannot lose
            progress.advance()

    try:
        ask = _asker(spec, settings, route.info)
        unanswered, failure = dispatch(pending, pool, route.hosts, ask, record, spec.stage)
    finally:
        progress.close()
    if not unanswered:
        return
    failure = failure or "no healthy Ollama host left"
    reason = failure if len(route.hosts) == 1 else f"every Ollama host of {route.info.name} failed, the last: {failure}"
    if settings.fail_fast:
        raise RuntimeError(f"{spec.name}: {reason} (var llm_fail_fast = true)")
    for request in unanswered:
        request.result = Outcome("llm_unavailable", error=reason)
    logger.warning("%s: LLM became unavailable during the run: %s", spec.name, reason)


def _asker(spec: StageSpec, settings: LlmSettings, info: ModelInfo) -> Callable[[StageRequest, Host, bool], Outcome]:
    """The function a worker thread runs for one request on one host.

    Connection retries with backoff only on the last healthy host: with another host to go to, a
    failed host hands its request over at once.
    """
    options = settings.ollama_options(spec.stage)

    def ask(request: StageRequest, host: Host, alone: bool) -> Outcome:
        return ask_structured(
            host.client,
            model=info.name,
            messages=request.messages,
            response_model=spec.response_model,
            schema=json_schema(spec.response_model, request.validation),
            options=options,
            max_retries=settings.max_retries,
            connection_retries=settings.connection_retries if alone else 0,
            backoff_seconds=settings.backoff_seconds,
            validation_context=request.validation,
        )

    return ask


def _row(spec: StageSpec, request: StageRequest, model: str, digest: str | None) -> dict[str, Any]:
    """The table row of one request: key columns, the answer's fields (null unless 'ok'), metadata."""
    outcome = request.result
    assert outcome is not None
    answer = outcome.answer if outcome.status == "ok" and outcome.answer else {}
    row = dict(request.keys)
    row.update({name: answer.get(name) for name in spec.response_model.model_fields})
    row.update(
        model=model,
        model_digest=digest,
        prompt_hash=request.prompt_hash,
        prompt_messages=prompt_text(request.messages),
        blind_mode=request.blind,
        status=outcome.status,
        error=outcome.error,
        raw_response=outcome.raw_text if outcome.status != "ok" else None,
        attempts=outcome.attempts,
        latency_ms=outcome.latency_ms,
        prompt_tokens=outcome.prompt_tokens,
        completion_tokens=outcome.completion_tokens,
        created_at=outcome.created_at,
    )
    return row
