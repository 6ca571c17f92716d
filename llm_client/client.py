"""A thin typed layer over the official ``ollama`` client.

One function per call: ``probe_model`` (is the server up, is the model there, what is its
digest) and ``ask_structured`` (one validated structured answer, with bounded re-asks that
feed the validation error back to the model). Connection errors are retried with exponential
backoff; timeouts are not (a stage timeout is already long).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
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


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Outcome:
    """What asking for one structured answer came to (after any re-asks), or why nothing was asked.

    ``status`` means one thing each: 'ok' (a valid answer), 'invalid_output' (the model replied and
    the reply failed validation, re-asks included), 'timeout' (no reply within the stage timeout),
    'llm_unavailable' (no reply could be had: server unreachable, model missing, LLM disabled, or
    the server refused this request with an HTTP 4xx, which ``error`` says).
    """

    status: Status
    answer: dict[str, Any] | None = None
    raw_text: str | None = None
    error: str | None = None
    attempts: int = 0
    latency_ms: int | None = None
    """None when no request was made."""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    model_ns: int = 0
    """Time the server reports for prompt evaluation plus generation, summed over attempts."""
    created_at: datetime = field(default_factory=_now)
    server_unavailable: bool = False
    """True when the server or the model cannot be reached at all, so asking the other requests
    of the stage is pointless; False for a refusal of this one request."""


def normalize_model_name(name: str) -> str:
    """``llama3`` means ``llama3:latest`` to Ollama."""
    name = name.strip()
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def make_client(host: str, timeout: float) -> ollama.Client:
    """An ``ollama.Client`` for ``host`` (a base URL from ``warehouse_core.ollama_host.resolve_host``)."""
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


def list_models(client: ollama.Client, retries: int, backoff_seconds: float, host: str) -> dict[str, str]:
    """The models ``host`` serves, ``{name: digest}`` (names normalised).

    Raises :class:`LlmUnavailableError` with a reason a user can act on.
    """
    try:
        # one quick retry only: a refused connection at start-up is not worth a long backoff
        listing = with_backoff(client.list, min(retries, 1), backoff_seconds, f"listing the models at {host}")
    except LlmUnavailableError as exc:
        raise LlmUnavailableError(f"Ollama is unreachable at {host}: {exc.__cause__ or exc}") from exc
    except (ollama.ResponseError, httpx.HTTPError) as exc:
        raise LlmUnavailableError(f"Ollama at {host} answered /api/tags with an error: {exc}") from exc
    return {normalize_model_name(m.model or ""): m.digest or "" for m in listing.models}


def missing_model(available: dict[str, str], model: str, host: str, hint: str | None = None) -> str:
    """Why ``model`` cannot be had at ``host``, and what to do: ``hint`` (the server's own word, see
    :func:`install_hint`) or the ``ollama pull`` command."""
    names = ", ".join(sorted(available)) or "none"
    advice = hint or f"run `ollama pull {model}` there, or leave it out of var llm_models"
    return f"model {model!r} is not available at {host} (installed: {names}); {advice}"


def find_model(available: dict[str, str], model: str, host: str) -> ModelInfo:
    """``model`` in a listing of :func:`list_models`, or :class:`LlmUnavailableError` saying what to do."""
    wanted = normalize_model_name(model)
    if wanted not in available:
        raise LlmUnavailableError(missing_model(available, wanted, host))
    return ModelInfo(name=wanted, digest=available[wanted])


def install_hint(client: ollama.Client, model: str) -> str | None:
    """What the server says about a model it does not list, when that names how to install it (the
    embedded server: ``install it with `bin/setup --model ...` ``); None otherwise (Ollama: pull)."""
    try:
        client.show(normalize_model_name(model))
    except ollama.ResponseError as exc:
        return exc.error if "install" in (exc.error or "") else None
    except (ConnectionError, httpx.HTTPError, ValueError):  # ValueError: a reply that is not Ollama's (pydantic)
        return None  # a hint only: never a reason to fail
    return None


def probe_model(client: ollama.Client, model: str, retries: int, backoff_seconds: float, host: str) -> ModelInfo:
    """Check that the server answers and lists ``model``; return its digest.

    Raises :class:`LlmUnavailableError` with a reason a user can act on.
    """
    return find_model(list_models(client, retries, backoff_seconds, host), model, host)


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


@dataclass
class _Attempts:
    """What the attempts at one answer added up to."""

    started: float = field(default_factory=time.perf_counter)
    count: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_ns: int = 0
    raw_text: str | None = None

    def add(self, reply: Any) -> str:
        """Count one reply; return its text."""
        self.prompt_tokens += reply.prompt_eval_count or 0
        self.completion_tokens += reply.eval_count or 0
        self.model_ns += (reply.prompt_eval_duration or 0) + (reply.eval_duration or 0)
        self.raw_text = reply.message.content or ""
        return self.raw_text

    def outcome(
        self, status: Status, error: str | None = None, answer: dict[str, Any] | None = None, unavailable: bool = False
    ) -> Outcome:
        return Outcome(
            status=status,
            answer=answer,
            raw_text=self.raw_text,
            error=error,
            attempts=self.count,
            latency_ms=round((time.perf_counter() - self.started) * 1000),
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            model_ns=self.model_ns,
            server_unavailable=unavailable,
        )


def _failed_call(error: Exception, attempts: _Attempts) -> Outcome:
    """The outcome of a chat request that got no reply to validate."""
    if isinstance(error, httpx.TimeoutException):
        return attempts.outcome("timeout", f"no reply within the stage timeout ({type(error).__name__})")
    if isinstance(error, ollama.ResponseError):
        # 404: the model is gone for every request; any other 4xx refuses this request only
        refusal = f"Ollama refused the request (HTTP {error.status_code}): {error.error}"
        return attempts.outcome("llm_unavailable", refusal, unavailable=error.status_code == 404)
    return attempts.outcome("llm_unavailable", str(error), unavailable=True)


def _re_ask(messages: list[dict[str, str]], raw_text: str, error: str) -> list[dict[str, str]]:
    """The conversation for the next attempt: the rejected reply and what was wrong with it."""
    return [
        *messages,
        {"role": "assistant", "content": raw_text},
        {
            "role": "user",
            "content": f"That reply was rejected: {error}. Answer again with only the JSON object, "
            "fixing exactly these problems.",
        },
    ]


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

    Never raises for model or server trouble: the outcome's status says what happened.
    """
    attempts = _Attempts()
    conversation = list(messages)
    error = ""
    for _ in range(max_retries + 1):
        attempts.count += 1
        try:
            reply = with_backoff(
                lambda conversation=conversation: client.chat(
                    model=model, messages=conversation, format=schema, options=options, stream=False
                ),
                connection_retries,
                backoff_seconds,
                f"chat with {model}",
            )
        except (httpx.TimeoutException, LlmUnavailableError, ollama.ResponseError) as exc:
            return _failed_call(exc, attempts)
        raw_text = attempts.add(reply)
        answer, error = _validate(response_model, raw_text, validation_context)
        if answer is not None:
            return attempts.outcome("ok", answer=answer)
        if reply.done_reason == "length":
            error = f"{error} (reply cut at num_predict={options.get('num_predict')} tokens)"
        conversation = _re_ask(messages, raw_text, error)
    return attempts.outcome("invalid_output", error)
