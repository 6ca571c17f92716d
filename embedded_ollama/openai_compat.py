"""OpenAI's shapes on ``/v1``, translated to and from Ollama's as Ollama's own middleware does.

A ``/v1/chat/completions`` or ``/v1/completions`` request becomes an ``/api/chat`` or
``/api/generate`` request (:func:`chat_request`, :func:`completion_request`) and runs exactly as
one: same pool of model copies, same options, same JSON-schema grammar. Only the answer is shaped
differently (:class:`ChatAnswer`, :class:`CompletionAnswer`). Ollama's translation choices are kept:
``temperature`` and ``top_p`` default to 1.0 (OpenAI's defaults, not Ollama's), ``max_tokens`` is
``num_predict``, ``response_format`` ``json_object`` is ``format: "json"`` and ``json_schema`` is
``format: <schema>``. Pure functions and pydantic models, no I/O.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from .protocol import ApiError, ChatRequest, GenerateRequest, parse_request

OWNED_BY = "library"
"""``owned_by`` of every model (Ollama gives a name's namespace; these have none, so ``library``)."""


class _Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None


class _ResponseFormat(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = "text"
    json_schema: dict[str, Any] | None = None


class _StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class _Sampling(BaseModel):
    """Fields shared by chat and completion requests."""

    model_config = ConfigDict(extra="allow")

    model: str = ""
    stream: bool = False
    stream_options: _StreamOptions | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    temperature: float | None = None
    top_p: float | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    n: int | None = None

    def options(self) -> dict[str, Any]:
        """Ollama ``options`` for these fields (Ollama's openai middleware: 1.0 where OpenAI defaults to it)."""
        if self.n not in (None, 1):
            raise ApiError(400, f"n={self.n} is not supported: this server returns one choice per request")
        options: dict[str, Any] = {
            "temperature": 1.0 if self.temperature is None else self.temperature,
            "top_p": 1.0 if self.top_p is None else self.top_p,
        }
        limit = self.max_completion_tokens if self.max_completion_tokens is not None else self.max_tokens
        optional = {
            "num_predict": limit,
            "seed": self.seed,
            "stop": [self.stop] if isinstance(self.stop, str) else self.stop,
            "frequency_penalty": self.frequency_penalty,
            "presence_penalty": self.presence_penalty,
        }
        options.update({key: value for key, value in optional.items() if value is not None})
        return options

    @property
    def include_usage(self) -> bool:
        """``stream_options.include_usage``: a last chunk carries the token counts."""
        return self.stream_options is not None and self.stream_options.include_usage


class _ChatCompletionRequest(_Sampling):
    messages: list[_Message] = []
    response_format: _ResponseFormat | None = None
    tools: list[Any] | None = None


class _CompletionRequest(_Sampling):
    prompt: str | list[str] = ""
    suffix: str | None = None


def _format(response_format: _ResponseFormat | None) -> str | dict[str, Any] | None:
    """Ollama's ``format`` for a ``response_format``."""
    if response_format is None:
        return None
    kind = response_format.type.strip().lower()
    if kind == "json_object":
        return "json"
    if kind == "json_schema":
        schema = (response_format.json_schema or {}).get("schema")
        if not isinstance(schema, dict):
            raise ApiError(400, "response_format json_schema needs a json_schema.schema object")
        return schema
    if kind == "text":
        return None
    raise ApiError(
        400, f"response_format type {response_format.type!r} is not supported: use text, json_object or json_schema"
    )


def _messages(messages: list[_Message]) -> list[dict[str, Any]]:
    """Ollama messages: text parts become messages of their own, image parts carry images (refused later)."""
    translated: list[dict[str, Any]] = []
    for message in messages:
        if not isinstance(message.content, list):
            translated.append({"role": message.role, "content": message.content or ""})
            continue
        for part in message.content:
            if part.get("type") == "text" and isinstance(part.get("text"), str):
                translated.append({"role": message.role, "content": part["text"]})
            elif part.get("type") == "image_url":
                translated.append({"role": message.role, "content": "", "images": [part.get("image_url")]})
            else:
                raise ApiError(400, f"invalid message content part of type {part.get('type')!r}")
    return translated


def chat_request(body: Any) -> tuple[ChatRequest, bool]:
    """The ``/api/chat`` request for a ``/v1/chat/completions`` body, and whether usage is streamed."""
    request: _ChatCompletionRequest = parse_request(_ChatCompletionRequest, body)
    chat = ChatRequest.model_validate(
        {
            "model": request.model,
            "messages": _messages(request.messages),
            "format": _format(request.response_format),
            "options": request.options(),
            "stream": request.stream,
            "tools": request.tools,
        }
    )
    return chat, request.include_usage


def completion_request(body: Any) -> tuple[GenerateRequest, bool]:
    """The ``/api/generate`` request for a ``/v1/completions`` body, and whether usage is streamed."""
    request: _CompletionRequest = parse_request(_CompletionRequest, body)
    prompt = request.prompt
    if isinstance(prompt, list):
        if len(prompt) != 1:
            raise ApiError(400, "prompt must be one string: this server completes one prompt per request")
        prompt = prompt[0]
    generate = GenerateRequest.model_validate(
        {
            "model": request.model,
            "prompt": prompt,
            "suffix": request.suffix,
            "options": request.options(),
            "stream": request.stream,
        }
    )
    return generate, request.include_usage


# --------------------------------------------------------------------------- answers


def error_body(status: int, message: str) -> dict[str, Any]:
    """OpenAI's error object, typed as Ollama types it."""
    kind = {400: "invalid_request_error", 404: "not_found_error"}.get(status, "api_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def _usage(metrics: dict[str, int]) -> dict[str, int]:
    prompt, completion = metrics.get("prompt_eval_count", 0), metrics.get("eval_count", 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class _Answer:
    """What both OpenAI answers share: an id, a creation time, server-sent events, usage."""

    framing = "sse"
    prefix = ""
    chunk_object = ""

    def __init__(self, model: str, stream: bool, include_usage: bool) -> None:
        self.model = model
        self.stream = stream
        self.include_usage = include_usage
        self.id = f"{self.prefix}-{secrets.randbelow(1000)}"
        self.created = int(time.time())

    def _envelope(self, obj: str, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": obj,
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_ollama",
            "choices": choices,
        }

    def _usage_chunk(self, metrics: dict[str, int]) -> list[dict[str, Any]]:
        if not self.include_usage:
            return []
        return [{**self._envelope(self.chunk_object, []), "usage": _usage(metrics)}]

    @staticmethod
    def error(status: int, message: str) -> dict[str, Any]:
        """The error object (also sent as a stream's last event)."""
        return error_body(status, message)


class ChatAnswer(_Answer):
    """``/v1/chat/completions`` answers: ``chat.completion`` or a stream of ``chat.completion.chunk``."""

    prefix = "chatcmpl"
    chunk_object = "chat.completion.chunk"

    def __init__(self, model: str, stream: bool, include_usage: bool = False) -> None:
        super().__init__(model, stream, include_usage)
        self._role_sent = False

    def _delta(self, content: str) -> dict[str, Any]:
        delta: dict[str, Any] = {"content": content}
        if not self._role_sent:
            delta = {"role": "assistant", **delta}
            self._role_sent = True
        return self._envelope(self.chunk_object, [{"index": 0, "delta": delta, "finish_reason": None}])

    def piece(self, text: str) -> list[dict[str, Any]]:
        """Stream events carrying a piece of the answer."""
        return [self._delta(text)]

    def end(self, done_reason: str, metrics: dict[str, int]) -> list[dict[str, Any]]:
        """Last stream events: the finish reason, then the usage if asked for (``[DONE]`` is the framing's)."""
        opening = [] if self._role_sent else [self._delta("")]
        finish = self._envelope(self.chunk_object, [{"index": 0, "delta": {}, "finish_reason": done_reason}])
        return [*opening, finish, *self._usage_chunk(metrics)]

    def whole(self, text: str, done_reason: str, metrics: dict[str, int]) -> dict[str, Any]:
        """The non-streamed answer."""
        choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": done_reason}
        return {**self._envelope("chat.completion", [choice]), "usage": _usage(metrics)}


class CompletionAnswer(_Answer):
    """``/v1/completions`` answers: ``text_completion`` objects, whole or streamed."""

    prefix = "cmpl"
    chunk_object = "text_completion"

    def piece(self, text: str) -> list[dict[str, Any]]:
        """Stream events carrying a piece of the answer."""
        return [self._envelope(self.chunk_object, [{"text": text, "index": 0, "finish_reason": None}])]

    def end(self, done_reason: str, metrics: dict[str, int]) -> list[dict[str, Any]]:
        """Last stream events: the finish reason, then the usage if asked for."""
        finish = self._envelope(self.chunk_object, [{"text": "", "index": 0, "finish_reason": done_reason}])
        return [finish, *self._usage_chunk(metrics)]

    def whole(self, text: str, done_reason: str, metrics: dict[str, int]) -> dict[str, Any]:
        """The non-streamed answer."""
        choice = {"text": text, "index": 0, "finish_reason": done_reason}
        return {**self._envelope("text_completion", [choice]), "usage": _usage(metrics)}


def model_object(name: str, modified_at: datetime) -> dict[str, Any]:
    """One model as ``/v1/models`` lists it (``created``: when its file was made)."""
    return {"id": name, "object": "model", "created": int(modified_at.timestamp()), "owned_by": OWNED_BY}


def model_list(models: list[tuple[str, datetime]]) -> dict[str, Any]:
    """``GET /v1/models``: every installed model."""
    return {"object": "list", "data": [model_object(name, modified_at) for name, modified_at in models]}
