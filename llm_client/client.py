"""A thin typed layer over the official ``ollama`` client.

One function per call: ``probe_model`` (is the server up, is the model there, what is its
digest) and ``ask_structured`` (one validated structured answer, with bounded re-asks that
feed the validation error back to the model). Connection errors are retried with exponential
backoff; timeouts are not (a stage timeout is already long).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import ollama
from pydantic import BaseModel, ValidationError

logger = logging.getLogger(__name__)

Status = Literal["ok", "invalid_output", "llm_unavailable", "timeout"]


class LlmUnavailableError(RuntimeError):
    """Ollama cannot be reached, or it does not have the requested model."""


@dataclass(frozen=True)
class ModelInfo:
    """The model a stage runs on, as the server lists it."""

    name: str
    digest: str


@dataclass(frozen=True)
class Outcome:
    """The end result of asking for one structured answer (after any re-asks)."""

    status: Status
    answer: dict[str, Any] | None
    raw_text: str | None
    error: str | None
    attempts: int
    latency_ms: int
    prompt_tokens: int
    completion_tokens: int
    model_ns: int
    """Time the server reports for prompt evaluation plus generation, summed over attempts."""
    cacheable: bool = True
    """False when the server refused the request (HTTP 4xx): the model never answered, so
    replaying the refusal from the cache on later builds would be wrong."""


def normalize_model_name(name: str) -> str:
    """``llama3`` means ``llama3:latest`` to Ollama."""
    name = name.strip()
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def make_client(host: str | None, timeout: float) -> ollama.Client:
    """An ``ollama.Client``; ``host=None`` lets it read ``OLLAMA_HOST`` like the ollama CLI."""
    return ollama.Client(host=host, timeout=timeout)


def with_backoff(call: Callable[[], Any], retries: int, backoff_seconds: float, what: str) -> Any:
    """Run ``call``, retrying connection errors (and 5xx replies) with exponential backoff."""
    delay = backoff_seconds
    for attempt in range(retries + 1):
        try:
            return call()
        except httpx.TimeoutException:
            raise  # the caller records a timeout; never retried here
        except (ConnectionError, httpx.TransportError) as exc:  # refused, reset mid-reply, protocol errors
            error: Exception = exc
        except ollama.ResponseError as exc:
            if exc.status_code < 500:
                raise
            error = exc
        if attempt == retries:
            raise LlmUnavailableError(f"{what} failed after {retries + 1} attempts: {error}") from error
        logger.info("%s failed (%s); retrying in %.1f s", what, error, delay)
        time.sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")


def probe_model(client: ollama.Client, model: str, retries: int, backoff_seconds: float, host: str) -> ModelInfo:
    """Check that the server answers and lists ``model``; return its digest.

    Raises :class:`LlmUnavailableError` with a reason a user can act on.
    """
    wanted = normalize_model_name(model)
    try:
        # one quick retry only: a refused connection at start-up is not worth a long backoff
        listing = with_backoff(client.list, min(retries, 1), backoff_seconds, f"listing the models at {host}")
    except LlmUnavailableError as exc:
        raise LlmUnavailableError(f"Ollama is unreachable at {host}: {exc.__cause__ or exc}") from exc
    except (ollama.ResponseError, httpx.HTTPError) as exc:
        raise LlmUnavailableError(f"Ollama at {host} answered /api/tags with an error: {exc}") from exc
    available = {normalize_model_name(m.model or ""): m for m in listing.models}
    entry = available.get(wanted)
    if entry is None:
        names = ", ".join(sorted(available)) or "none"
        raise LlmUnavailableError(
            f"model {wanted!r} is not available at {host} (installed: {names}); "
            f"run `ollama pull {wanted}` or set --vars 'llm_model: ...'"
        )
    return ModelInfo(name=wanted, digest=entry.digest or "")


def _validate(
    response_model: type[BaseModel], text: str, context: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, str | None]:
    """Parse and validate one reply; return (answer, None) or (None, error message)."""
    try:
        parsed = response_model.model_validate_json(text, context=context)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'reply'}: {err['msg']}" for err in exc.errors()[:5]
        )
        return None, f"invalid reply: {problems}"
    return parsed.model_dump(mode="json"), None


def ask_structured(
    client: ollama.Client,
    *,
    model: str,
    messages: list[dict[str, str]],
    response_model: type[BaseModel],
    schema: dict[str, Any],
    options: dict[str, Any],
    max_retries: int,
    connection_retries: int,
    backoff_seconds: float,
    validation_context: dict[str, Any] | None = None,
) -> Outcome:
    """Ask for one answer matching ``response_model``; re-ask with the error up to ``max_retries`` times.

    Never raises for model or server trouble: the outcome's status says what happened
    ('ok', 'invalid_output' with the last raw text, 'timeout', 'llm_unavailable').
    """
    conversation = list(messages)
    started = time.perf_counter()
    prompt_tokens = completion_tokens = model_ns = 0
    raw_text: str | None = None
    error: str | None = None
    attempts = 0

    def outcome(status: Status, answer: dict[str, Any] | None = None, cacheable: bool = True) -> Outcome:
        return Outcome(
            status=status,
            answer=answer,
            raw_text=raw_text,
            error=error,
            attempts=attempts,
            latency_ms=round((time.perf_counter() - started) * 1000),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            model_ns=model_ns,
            cacheable=cacheable,
        )

    for _ in range(max_retries + 1):
        attempts += 1
        try:
            reply = with_backoff(
                lambda conversation=conversation: client.chat(
                    model=model, messages=conversation, format=schema, options=options, stream=False
                ),
                connection_retries,
                backoff_seconds,
                f"chat with {model}",
            )
        except httpx.TimeoutException as exc:
            error = f"no reply within the stage timeout ({type(exc).__name__})"
            return outcome("timeout")
        except LlmUnavailableError as exc:
            error = str(exc)
            return outcome("llm_unavailable")
        except ollama.ResponseError as exc:
            error = f"Ollama refused the request (HTTP {exc.status_code}): {exc.error}"
            return outcome("llm_unavailable" if exc.status_code == 404 else "invalid_output", cacheable=False)
        prompt_tokens += reply.prompt_eval_count or 0
        completion_tokens += reply.eval_count or 0
        model_ns += (reply.prompt_eval_duration or 0) + (reply.eval_duration or 0)
        raw_text = reply.message.content or ""
        answer, error = _validate(response_model, raw_text, validation_context)
        if answer is not None:
            return outcome("ok", answer)
        if reply.done_reason == "length":
            error = f"{error} (reply cut at num_predict={options.get('num_predict')} tokens)"
        conversation = [
            *messages,
            {"role": "assistant", "content": raw_text},
            {
                "role": "user",
                "content": f"That reply was rejected: {error}. Answer again with only the JSON object, "
                "fixing exactly these problems.",
            },
        ]
    return outcome("invalid_output")


def schema_fingerprint(schema: dict[str, Any]) -> str:
    """Canonical JSON of a schema (for cache keys)."""
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))
