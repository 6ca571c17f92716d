"""Run one LLM stage over its requests: availability check, cache, bounded concurrency, logging.

Every request yields exactly one row, whatever happens: the answer's fields when the status is
'ok', nulls plus the reason otherwise. Nothing is ever defaulted to a neutral answer.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel
from tqdm import tqdm

from .cache import CACHEABLE_STATUSES, ResponseCache, cache_key
from .client import (
    LlmUnavailableError,
    ModelInfo,
    Outcome,
    Status,
    ask_structured,
    make_client,
    normalize_model_name,
    probe_model,
)
from .prompts import Messages, prompt_hash
from .schemas import SCHEMA_VERSION, json_schema
from .settings import LlmSettings, Stage

logger = logging.getLogger(__name__)

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
    validation_context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StageRequest:
    """One row to produce: its key columns and the prompt (None when the row cannot be asked)."""

    keys: dict[str, Any]
    messages: Messages | None
    skip_status: Status | None = None
    skip_error: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    """Per-request validation context (e.g. the close that support and resistance must bracket);
    it also shapes the JSON schema sent as ``format=``, so it is part of the cache key."""


@dataclass
class StageStats:
    """Counters logged at the end of a stage."""

    decisions: int = 0
    cache_hits: int = 0
    calls: int = 0
    failures: int = 0
    completion_tokens: int = 0
    model_seconds: float = 0.0
    wall_seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)

    def summary(self, name: str) -> str:
        rate = self.completion_tokens / self.model_seconds if self.model_seconds > 0 else 0.0
        return (
            f"{name}: {self.decisions} decisions, {self.cache_hits} cache hits, {self.calls} LLM calls, "
            f"{self.failures} failures, {rate:.1f} tokens/s, {self.wall_seconds:.1f} s; statuses {self.statuses}"
        )


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _row(
    request: StageRequest,
    fields: Sequence[str],
    settings: LlmSettings,
    digest: str | None,
    phash: str | None,
    record: dict[str, Any],
) -> dict[str, Any]:
    answer = json.loads(record["answer_json"]) if record.get("answer_json") else {}
    row = dict(request.keys)
    row.update({name: answer.get(name) for name in fields})
    row.update(
        model=normalize_model_name(settings.model),
        model_digest=digest,
        prompt_hash=phash,
        blind_mode=settings.blind,
        status=record["status"],
        error=record.get("error"),
        raw_response=record.get("raw_text") if record["status"] != "ok" else None,
        attempts=record.get("attempts", 0),
        latency_ms=record.get("latency_ms"),
        prompt_tokens=record.get("prompt_tokens"),
        completion_tokens=record.get("completion_tokens"),
        created_at=record.get("created_at") or _now(),
    )
    return row


def _record(
    outcome: Outcome, spec: StageSpec, info: ModelInfo, phash: str, options_json: str, key: str
) -> dict[str, Any]:
    return {
        "cache_key": key,
        "stage": spec.stage,
        "model": info.name,
        "model_digest": info.digest,
        "prompt_hash": phash,
        "schema_version": SCHEMA_VERSION,
        "options_json": options_json,
        "status": outcome.status,
        "answer_json": json.dumps(outcome.answer, sort_keys=True) if outcome.answer is not None else None,
        "raw_text": outcome.raw_text,
        "error": outcome.error,
        "attempts": outcome.attempts,
        "latency_ms": outcome.latency_ms,
        "prompt_tokens": outcome.prompt_tokens,
        "completion_tokens": outcome.completion_tokens,
        "model_ns": outcome.model_ns,
        "created_at": _now(),
    }


def _unavailable_rows(
    spec: StageSpec, requests: Sequence[StageRequest], settings: LlmSettings, reason: str
) -> list[dict[str, Any]]:
    fields = list(spec.response_model.model_fields)
    return [
        _row(
            r,
            fields,
            settings,
            None,
            prompt_hash(r.messages) if r.messages is not None else None,
            {"status": r.skip_status or "llm_unavailable", "error": r.skip_error or reason},
        )
        for r in requests
    ]


def run_stage(
    spec: StageSpec,
    requests: Sequence[StageRequest],
    settings: LlmSettings,
    upstream_unavailable: bool = False,
) -> list[dict[str, Any]]:
    """Produce one row per request (same order). Raises only with ``fail_fast`` when the LLM is unavailable.

    ``upstream_unavailable``: the previous stage already warned that the LLM is unavailable, so
    this stage reports the same condition at INFO level (one clear warning per build).
    """
    started = time.perf_counter()
    stats = StageStats(decisions=len(requests))
    fields = list(spec.response_model.model_fields)
    host = settings.resolved_host()

    if not settings.enable_llm:
        if upstream_unavailable:
            logger.info("%s: LLM stages disabled, %d rows marked llm_unavailable", spec.name, len(requests))
        else:
            logger.warning(
                "%s: LLM stages are disabled (var enable_llm = false); %d rows marked llm_unavailable",
                spec.name,
                len(requests),
            )
        return _unavailable_rows(spec, requests, settings, "LLM stages disabled (var enable_llm = false)")

    client = make_client(settings.host, timeout=settings.timeouts[spec.stage])
    try:
        info = probe_model(client, settings.model, settings.connection_retries, settings.backoff_seconds, host)
    except LlmUnavailableError as exc:
        if settings.fail_fast:
            raise RuntimeError(f"{spec.name}: {exc} (var llm_fail_fast = true)") from exc
        if upstream_unavailable:
            logger.info(
                "%s: LLM still unavailable (warned above), %d rows marked llm_unavailable", spec.name, len(requests)
            )
        else:
            logger.warning("%s: LLM unavailable, %d rows marked llm_unavailable: %s", spec.name, len(requests), exc)
        return _unavailable_rows(spec, requests, settings, str(exc))

    options = settings.ollama_options(spec.stage)
    contexts = [{**spec.validation_context, **r.context} for r in requests]
    key_options = [{**options, "max_retries": settings.max_retries, "validation": context} for context in contexts]
    hashes = [prompt_hash(r.messages) if r.messages is not None else None for r in requests]
    keys = [
        cache_key(info.digest, h, SCHEMA_VERSION, ko) if h is not None else None
        for h, ko in zip(hashes, key_options, strict=True)
    ]
    records: list[dict[str, Any] | None] = [None] * len(requests)
    for i, request in enumerate(requests):
        if request.messages is None:
            records[i] = {"status": request.skip_status or "invalid_output", "error": request.skip_error}

    cache = ResponseCache(settings.resolved_cache_path()) if settings.use_cache else None
    try:
        if cache is not None:
            for i, key in enumerate(keys):
                if key is not None and records[i] is None:
                    hit = cache.get(key)
                    if hit is not None:
                        records[i] = hit
                        stats.cache_hits += 1
        pending = [i for i, r in enumerate(records) if r is None]
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
            _call_pending(
                spec,
                requests,
                settings,
                info,
                client,
                contexts,
                options,
                key_options,
                hashes,
                keys,
                records,
                pending,
                cache,
                stats,
            )
    finally:
        if cache is not None:
            cache.close()

    rows = []
    for i, request in enumerate(requests):
        record = records[i]
        assert record is not None
        status = record["status"]
        stats.statuses[status] = stats.statuses.get(status, 0) + 1
        rows.append(_row(request, fields, settings, info.digest, hashes[i], record))
    stats.wall_seconds = time.perf_counter() - started
    logger.info("%s", stats.summary(spec.name))
    return rows


def _call_pending(
    spec: StageSpec,
    requests: Sequence[StageRequest],
    settings: LlmSettings,
    info: ModelInfo,
    client: Any,
    contexts: list[dict[str, Any]],
    options: dict[str, Any],
    key_options: list[dict[str, Any]],
    hashes: list[str | None],
    keys: list[str | None],
    records: list[dict[str, Any] | None],
    pending: list[int],
    cache: ResponseCache | None,
    stats: StageStats,
) -> None:
    """Ask the model for every pending request, at most ``concurrency`` at a time."""
    started = time.perf_counter()
    last_log = started
    done = 0
    unavailable: str | None = None
    progress = tqdm(total=len(pending), desc=spec.name, unit="call", leave=False, disable=None)
    with ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix=spec.stage) as pool:
        futures: dict[Future[Outcome], int] = {}
        queue = list(reversed(pending))

        def submit_next() -> None:
            i = queue.pop()
            messages = requests[i].messages
            assert messages is not None
            futures[
                pool.submit(
                    ask_structured,
                    client,
                    model=info.name,
                    messages=messages,
                    response_model=spec.response_model,
                    schema=json_schema(spec.response_model, contexts[i]),
                    options=options,
                    max_retries=settings.max_retries,
                    connection_retries=settings.connection_retries,
                    backoff_seconds=settings.backoff_seconds,
                    validation_context=contexts[i],
                )
            ] = i

        while queue and len(futures) < settings.concurrency:
            submit_next()
        while futures:
            finished, _ = wait(list(futures), return_when=FIRST_COMPLETED)
            for future in finished:
                i = futures.pop(future)
                outcome = future.result()
                options_json = json.dumps(key_options[i], sort_keys=True)
                record = _record(outcome, spec, info, hashes[i] or "", options_json, keys[i] or "")
                records[i] = record
                stats.calls += 1
                stats.completion_tokens += outcome.completion_tokens
                stats.model_seconds += outcome.model_ns / 1e9
                if outcome.status != "ok":
                    stats.failures += 1
                    logger.info("%s: %s for %s: %s", spec.name, outcome.status, requests[i].keys, outcome.error)
                if outcome.status == "llm_unavailable" and unavailable is None:
                    unavailable = outcome.error or "LLM became unavailable"
                if cache is not None and outcome.status in CACHEABLE_STATUSES and outcome.cacheable:
                    cache.put(record)
                done += 1
                progress.update(1)
            now = time.perf_counter()
            if (futures or queue) and now - last_log >= 5.0:
                elapsed = now - started
                eta = elapsed / done * (len(pending) - done) if done else float("nan")
                logger.info(
                    "%s: %d/%d calls done, %.2f calls/s, ETA %.0f s",
                    spec.name,
                    done,
                    len(pending),
                    done / elapsed,
                    eta,
                )
                last_log = now
            if unavailable is not None:
                # the server went away mid-run: do not wait for backoffs on every remaining row
                if settings.fail_fast:
                    raise RuntimeError(f"{spec.name}: {unavailable} (var llm_fail_fast = true)")
                for i in queue:
                    records[i] = {"status": "llm_unavailable", "error": unavailable}
                queue.clear()
            while queue and len(futures) < settings.concurrency:
                submit_next()
    progress.close()
    if unavailable is not None:
        logger.warning("%s: LLM became unavailable during the run: %s", spec.name, unavailable)
