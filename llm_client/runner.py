"""Run one LLM stage over its requests: availability check, cache, bounded concurrency, logging.

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
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel
from tqdm import tqdm

from warehouse_core.ollama_host import resolve_host

from .cache import CACHEABLE_STATUSES, ResponseCache, cache_key
from .client import (
    LlmUnavailableError,
    ModelInfo,
    Outcome,
    ask_structured,
    make_client,
    normalize_model_name,
    probe_model,
)
from .prompts import Messages, prompt_hash
from .schemas import SCHEMA_VERSION, json_schema
from .settings import LlmSettings, Stage

logger = logging.getLogger(__name__)

PROGRESS_LOG_SECONDS = 5.0

META_COLUMNS = (
    "model",
    "model_digest",
    "prompt_hash",
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
    """Counters logged at the end of a stage."""

    decisions: int = 0
    cache_hits: int = 0
    calls: int = 0
    failures: int = 0
    completion_tokens: int = 0
    model_seconds: float = 0.0

    def count_call(self, outcome: Outcome) -> None:
        self.calls += 1
        self.failures += outcome.status != "ok"
        self.completion_tokens += outcome.completion_tokens or 0
        self.model_seconds += outcome.model_ns / 1e9

    def summary(self, name: str, requests: Sequence[StageRequest], wall_seconds: float) -> str:
        statuses: dict[str, int] = {}
        for request in requests:
            assert request.result is not None
            statuses[request.result.status] = statuses.get(request.result.status, 0) + 1
        rate = self.completion_tokens / self.model_seconds if self.model_seconds > 0 else 0.0
        return (
            f"{name}: {self.decisions} decisions, {self.cache_hits} cache hits, {self.calls} LLM calls, "
            f"{self.failures} failures, {rate:.1f} tokens/s, {wall_seconds:.1f} s; statuses {statuses}"
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
    """Produce one row per request (same order). Raises only with ``fail_fast`` when the LLM is unavailable.

    ``model`` and ``host`` default to the settings' (``host`` resolved by ``warehouse_core``).
    ``upstream_unavailable``: the previous stage already warned that the LLM is unavailable, so
    this stage reports the same condition at INFO level (one clear warning per build).
    """
    started = time.perf_counter()
    model = normalize_model_name(model or settings.model)
    host = resolve_host(host or settings.host)
    requests = [replace(request) for request in requests]  # own copies: results are filled in below
    client = make_client(host, timeout=settings.timeouts[spec.stage])
    info = _available_model(spec, requests, settings, client, model, host, upstream_unavailable)
    if info is None:
        return [_row(spec, request, model, None, settings.blind) for request in requests]
    stats = StageStats(decisions=len(requests))
    with ResponseCache(settings.cache_file()) if settings.use_cache else nullcontext() as cache:
        _use_cache(spec, requests, settings, info, cache, stats)
        pending = [request for request in requests if request.result is None]
        logger.info(
            "%s: %d decisions, %d cache hits, %d LLM calls to make with %s (%s) at %s",
            spec.name,
            len(requests),
            stats.cache_hits,
            len(pending),
            info.name,
            info.digest[:12],
            host,
        )
        if pending:
            _ask_pending(spec, pending, settings, client, info, cache, stats)
    logger.info("%s", stats.summary(spec.name, requests, time.perf_counter() - started))
    return [_row(spec, request, model, info.digest, settings.blind) for request in requests]


def _available_model(
    spec: StageSpec,
    requests: Sequence[StageRequest],
    settings: LlmSettings,
    client: Any,
    model: str,
    host: str,
    upstream_unavailable: bool,
) -> ModelInfo | None:
    """The model to ask, or None after marking every request 'llm_unavailable' (and saying why, once)."""
    if settings.enable_llm:
        try:
            return probe_model(client, model, settings.connection_retries, settings.backoff_seconds, host)
        except LlmUnavailableError as exc:
            if settings.fail_fast:
                raise RuntimeError(f"{spec.name}: {exc} (var llm_fail_fast = true)") from exc
            reason = str(exc)
        if upstream_unavailable:
            logger.info(
                "%s: LLM still unavailable (warned above), %d rows marked llm_unavailable", spec.name, len(requests)
            )
        else:
            logger.warning("%s: LLM unavailable, %d rows marked llm_unavailable: %s", spec.name, len(requests), reason)
    else:
        reason = "LLM stages disabled (var enable_llm = false)"
        if upstream_unavailable:
            logger.info("%s: LLM stages disabled, %d rows marked llm_unavailable", spec.name, len(requests))
        else:
            logger.warning("%s: %s; %d rows marked llm_unavailable", spec.name, reason, len(requests))
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
    spec: StageSpec, request: StageRequest, settings: LlmSettings, info: ModelInfo, cache: ResponseCache | None
) -> None:
    """Keep an answer the model gave ('ok' or 'invalid_output'); never a refusal, timeout or outage."""
    outcome = request.result
    if cache is None or outcome is None or outcome.status not in CACHEABLE_STATUSES:
        return
    about = {
        "stage": spec.stage,
        "model": info.name,
        "model_digest": info.digest,
        "prompt_hash": request.prompt_hash,
        "schema_version": SCHEMA_VERSION,
        "options_json": json.dumps(_key_options(settings, spec.stage, request), sort_keys=True),
    }
    cache.put(request.cache_key or "", outcome, about)


def _ask_pending(
    spec: StageSpec,
    pending: Sequence[StageRequest],
    settings: LlmSettings,
    client: Any,
    info: ModelInfo,
    cache: ResponseCache | None,
    stats: StageStats,
) -> None:
    """Ask the model for every pending request, at most ``concurrency`` at a time.

    When the server or model goes away mid-run, the requests not yet sent are marked
    'llm_unavailable' at once instead of each waiting through its backoffs.
    """
    progress = Progress(spec.name, len(pending))
    gone: list[str] = []

    def record(request: StageRequest, outcome: Outcome) -> bool:
        request.result = outcome
        stats.count_call(outcome)
        if outcome.status != "ok":
            logger.info("%s: %s for %s: %s", spec.name, outcome.status, request.keys, outcome.error)
        _store(spec, request, settings, info, cache)
        progress.advance()
        if outcome.server_unavailable and not gone:
            gone.append(outcome.error or "LLM became unavailable")
            if settings.fail_fast:
                raise RuntimeError(f"{spec.name}: {gone[0]} (var llm_fail_fast = true)")
        return not gone

    try:
        never_sent = run_bounded(
            pending, _asker(spec, settings, client, info), settings.concurrency, record, spec.stage
        )
    finally:
        progress.close()
    for request in never_sent:
        request.result = Outcome("llm_unavailable", error=gone[0])
    if gone:
        logger.warning("%s: LLM became unavailable during the run: %s", spec.name, gone[0])


def _asker(spec: StageSpec, settings: LlmSettings, client: Any, info: ModelInfo) -> Callable[[StageRequest], Outcome]:
    """The function a worker thread runs for one request."""
    options = settings.ollama_options(spec.stage)

    def ask(request: StageRequest) -> Outcome:
        return ask_structured(
            client,
            model=info.name,
            messages=request.messages,
            response_model=spec.response_model,
            schema=json_schema(spec.response_model, request.validation),
            options=options,
            max_retries=settings.max_retries,
            connection_retries=settings.connection_retries,
            backoff_seconds=settings.backoff_seconds,
            validation_context=request.validation,
        )

    return ask


def run_bounded(
    requests: Sequence[StageRequest],
    ask: Callable[[StageRequest], Outcome],
    concurrency: int,
    on_result: Callable[[StageRequest, Outcome], bool],
    thread_prefix: str,
) -> list[StageRequest]:
    """Run ``ask`` over ``requests`` in order, at most ``concurrency`` at once.

    ``on_result`` runs on the calling thread as each request finishes; when it returns False no
    further request is sent (those in flight still finish). Returns the requests never sent.
    """
    queue = deque(requests)
    sending = True
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=thread_prefix) as pool:
        running: dict[Future[Outcome], StageRequest] = {}
        while running or (sending and queue):
            while sending and queue and len(running) < concurrency:
                request = queue.popleft()
                running[pool.submit(ask, request)] = request
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                sending = on_result(running.pop(future), future.result()) and sending
    return list(queue)


def _row(spec: StageSpec, request: StageRequest, model: str, digest: str | None, blind: bool) -> dict[str, Any]:
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
        blind_mode=blind,
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
