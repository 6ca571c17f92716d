"""Ollama's API shapes, and their translation to and from llama.cpp's.

Pure functions and pydantic models, no I/O: requests as Ollama documents them
(``/api/chat``, ``/api/generate``, ``/api/show``), the OpenAI-style payload
``xllamacpp`` expects, and the Ollama answers (stream chunks and the final
object with ``done_reason`` and nanosecond durations) built from llama.cpp's
chunks, usage and timings.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

logger = logging.getLogger(__name__)

OLLAMA_API_VERSION = "0.10.0"
"""Version reported by ``/api/version``: the oldest Ollama whose API has every field this server
sends (``context_length`` in ``/api/ps`` came in 0.10.0) and whose routes are all answered here:
served, or (embeddings, model management) a 501 naming what to use instead. docs/embedded-server.md."""

DEFAULT_KEEP_ALIVE_SECONDS = 300.0
"""How long a model stays loaded after its last request when nothing says otherwise (Ollama: 5m)."""

DEFAULT_OPTIONS: dict[str, Any] = {
    "temperature": 0.8,
    "top_k": 40,
    "top_p": 0.9,
    "min_p": 0.0,
    "typical_p": 1.0,
    "repeat_penalty": 1.1,
    "repeat_last_n": 64,
    "presence_penalty": 0.0,
    "frequency_penalty": 0.0,
}
"""Ollama's sampling defaults (``api.DefaultOptions``), applied where a request is silent.

llama.cpp's own defaults differ (top_p 0.95, min_p 0.05, repeat_penalty 1.0)."""

# Ollama option name -> llama.cpp request field, for options passed through unchanged.
_OPTION_FIELDS: dict[str, str] = {
    "temperature": "temperature",
    "top_k": "top_k",
    "top_p": "top_p",
    "min_p": "min_p",
    "typical_p": "typical_p",
    "repeat_penalty": "repeat_penalty",
    "repeat_last_n": "repeat_last_n",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
    "mirostat": "mirostat",
    "mirostat_tau": "mirostat_tau",
    "mirostat_eta": "mirostat_eta",
    "num_keep": "n_keep",
    "stop": "stop",
}

_MAX_SEED = 2**32 - 2  # llama.cpp seeds are uint32; 0xFFFFFFFF means "random"

# JSON Schema keywords whose values are schemas (walked when closing objects).
_SCHEMA_KEYWORDS = frozenset(
    {"items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames", "additionalItems"}
)
_SCHEMA_LIST_KEYWORDS = frozenset({"anyOf", "oneOf", "allOf", "prefixItems", "items"})
_SCHEMA_MAP_KEYWORDS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})


class ApiError(Exception):
    """An error answered to the client as ``{"error": message}`` with an HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def model_not_found(name: str) -> ApiError:
    """Ollama's 404 for an unknown model on ``/api/chat`` and ``/api/generate``."""
    return ApiError(404, f'model "{name}" not found, try pulling it first')


def now_rfc3339() -> str:
    """Current UTC time formatted like Ollama's ``created_at`` (``...Z``)."""
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def rfc3339(moment: datetime) -> str:
    """A timezone-aware datetime in Ollama's ``modified_at`` style."""
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


# --------------------------------------------------------------------------- requests


class Options(BaseModel):
    """The runtime options of a request (``options``); load-time ones are ignored."""

    model_config = ConfigDict(extra="allow")

    num_ctx: int | None = None
    num_predict: int | None = None
    seed: int | None = None
    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    min_p: float | None = None
    typical_p: float | None = None
    repeat_penalty: float | None = None
    repeat_last_n: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    mirostat: int | None = None
    mirostat_tau: float | None = None
    mirostat_eta: float | None = None
    num_keep: int | None = None
    stop: list[str] | None = None

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def ignored(self) -> list[str]:
        """Names of options this server does not act on (e.g. ``num_gpu``)."""
        return sorted((self.model_extra or {}).keys())


class ChatMessage(BaseModel):
    """One message of ``/api/chat``; images, tool calls and thinking are not supported."""

    model_config = ConfigDict(extra="allow")

    role: str
    content: str | None = ""
    images: list[Any] | None = None


class _GenerationRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = ""
    format: str | dict[str, Any] | None = None
    options: Options | None = None
    stream: bool = True
    keep_alive: float | str | None = None
    think: bool | str | None = None


class ChatRequest(_GenerationRequest):
    """Body of ``POST /api/chat``."""

    messages: list[ChatMessage] = Field(default_factory=list)
    tools: list[Any] | None = None


class GenerateRequest(_GenerationRequest):
    """Body of ``POST /api/generate``."""

    prompt: str | None = None
    suffix: str | None = None
    system: str | None = None
    template: str | None = None
    context: list[int] | None = None
    raw: bool = False
    images: list[Any] | None = None


class ShowRequest(BaseModel):
    """Body of ``POST /api/show`` (``name`` is the deprecated spelling of ``model``)."""

    model_config = ConfigDict(extra="allow")

    model: str = ""
    name: str = ""
    verbose: bool = False


_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_NUMBER = re.compile(r"[0-9]{1,12}(\.[0-9]*)?|\.[0-9]+")
_DURATION_PART = re.compile(r"([0-9]{1,12}\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> float:
    """Seconds in a Go duration (``"5m"``, ``"1h30m"``, ``"-1s"``, ``"0"``) or a bare number of seconds.

    Negative means forever (``math.inf``), as Ollama takes ``keep_alive`` and ``OLLAMA_KEEP_ALIVE``.
    Raises ``ValueError`` for anything else.
    """
    value = text.strip()
    sign, body = (-1.0, value[1:]) if value[:1] == "-" else (1.0, value.lstrip("+"))
    parts = _DURATION_PART.findall(body)
    if _NUMBER.fullmatch(body):
        seconds = float(body)
    elif body and "".join(number + unit for number, unit in parts) == body:
        seconds = sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)
    else:
        raise ValueError(f"invalid duration {text!r}: use e.g. 5m, 30s, 1h, 0 or -1")
    return math.inf if sign < 0 and seconds > 0 else seconds


def keep_alive_seconds(value: float | str | None) -> float | None:
    """A request's ``keep_alive`` in seconds (``math.inf``: forever), or None when it gives none (400 if invalid)."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ApiError(400, f"invalid keep_alive {value!r}")
        return math.inf if value < 0 else float(value)
    try:
        return parse_duration(str(value))
    except ValueError as exc:
        raise ApiError(400, f"keep_alive: {exc}") from None


def parse_request(model: type[BaseModel], body: Any) -> Any:
    """Validate a decoded JSON body, turning pydantic errors into a 400."""
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}" for error in exc.errors()
        )
        raise ApiError(400, f"invalid request: {problems}") from None


# --------------------------------------------------------------------------- to llama.cpp


def check_json_schema(schema: dict[str, Any]) -> None:
    """Reject a JSON schema that is not valid (400).

    llama.cpp's completion path silently drops a schema it cannot compile and
    generates unconstrained text, so schemas are checked before they reach it.
    """
    try:
        from jsonschema import exceptions, validators
    except ImportError:  # pragma: no cover - jsonschema ships with the project's dependencies
        return
    try:
        validators.validator_for(schema).check_schema(schema)
    except exceptions.SchemaError as exc:
        raise ApiError(400, f"invalid format: invalid JSON schema: {exc.message}") from None


def format_schema(value: Any) -> dict[str, Any] | None:
    """The JSON schema a ``format`` value constrains output to (None: free text).

    ``"json"`` means any JSON object, like Ollama's JSON grammar.
    """
    if value is None or value == "":
        return None
    if value == "json":
        return {"type": "object"}
    if isinstance(value, dict):
        check_json_schema(value)
        return value
    raise ApiError(400, f'invalid format: "{value}"; expected "json" or a valid JSON Schema')


def guided_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema as handed to llguidance, llama.cpp's grammar engine for JSON schemas.

    Two adjustments: objects that list ``properties`` but say nothing about
    ``additionalProperties`` get ``false`` (llama.cpp's and Ollama's JSON
    grammars behave so; without it a small model invents keys until it runs out
    of tokens), and llguidance runs in lenient mode, so a keyword it does not
    implement is ignored instead of silently dropping the whole constraint.
    """

    def close(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        closed = dict(node)
        for key, value in node.items():
            if key in _SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
                closed[key] = {name: close(sub) for name, sub in value.items()}
            elif key in _SCHEMA_LIST_KEYWORDS and isinstance(value, list):
                closed[key] = [close(sub) for sub in value]
            elif key in _SCHEMA_KEYWORDS:
                closed[key] = close(value)
        if "properties" in closed and "additionalProperties" not in closed:
            closed["additionalProperties"] = False
        return closed

    guided = close(schema)
    guided["x-guidance"] = {"lenient": True, **(schema.get("x-guidance") or {})}
    return guided


@dataclass(frozen=True)
class LlamaRequest:
    """What to ask llama.cpp: which handler, the OpenAI-style payload, the output schema."""

    kind: Literal["chat", "completion"]
    payload: dict[str, Any]
    schema: dict[str, Any] | None = None
    """JSON schema the answer must follow (as the client gave it), or None."""


def sampling_fields(options: Options | None) -> dict[str, Any]:
    """llama.cpp sampling fields for the request options, over Ollama's defaults."""
    given = options.model_dump(exclude_none=True) if options is not None else {}
    merged = {**DEFAULT_OPTIONS, **given}
    fields = {target: merged[name] for name, target in _OPTION_FIELDS.items() if name in merged}
    seed = merged.get("seed")
    if seed is not None and seed >= 0:
        if seed > _MAX_SEED:
            raise ApiError(400, f"option seed must be between 0 and {_MAX_SEED}, or negative for a random seed")
        fields["seed"] = seed
    num_predict = merged.get("num_predict")
    if num_predict is not None and num_predict > 0:  # Ollama: 0 and negatives mean no limit
        fields["max_tokens"] = num_predict
    return fields


def chat_request(request: ChatRequest) -> LlamaRequest:
    """The llama.cpp request for an ``/api/chat`` request."""
    messages = []
    for message in request.messages:
        if message.images:
            raise ApiError(400, f'"{request.model}" does not support images')
        messages.append({"role": message.role, "content": message.content or ""})
    payload: dict[str, Any] = {"messages": messages, **sampling_fields(request.options)}
    return LlamaRequest("chat", payload, format_schema(request.format))


def generate_request(request: GenerateRequest) -> LlamaRequest:
    """The llama.cpp request for an ``/api/generate`` request.

    Without ``raw`` the prompt (and ``system``) go through the model's chat
    template, as Ollama does; with ``raw`` the prompt is completed verbatim.
    """
    if request.images:
        raise ApiError(400, f'"{request.model}" does not support images')
    if request.suffix:
        raise ApiError(400, f'"{request.model}" does not support insert')
    if request.raw and (request.template or request.system or request.context):
        raise ApiError(400, "raw mode does not support template, system, or context")
    schema = format_schema(request.format)
    sampling = sampling_fields(request.options)
    if request.raw:
        return LlamaRequest("completion", {"prompt": request.prompt or "", **sampling}, schema)
    messages = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    messages.append({"role": "user", "content": request.prompt or ""})
    return LlamaRequest("chat", {"messages": messages, **sampling}, schema)


def schema_violation(text: str, schema: dict[str, Any]) -> str | None:
    """Why ``text`` is not JSON valid against ``schema`` (None if it is, or if unknown)."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        return f"not JSON: {exc}"
    try:
        from jsonschema import exceptions, validators
    except ImportError:  # pragma: no cover
        return None
    try:
        validators.validator_for(schema)(schema).validate(document)
    except exceptions.ValidationError as exc:
        return exc.message
    return None


def prompt_bytes(llama: LlamaRequest) -> int:
    """UTF-8 bytes of the text a request asks the model to read (messages or raw prompt)."""
    if llama.kind == "completion":
        return len(str(llama.payload.get("prompt") or "").encode())
    return sum(len(str(message.get("content") or "").encode()) for message in llama.payload.get("messages", []))


def context_hint(num_ctx: int, trained: int, model: str, needed: int) -> str:
    """What a client can do when its input (at least ``needed`` tokens) does not fit ``num_ctx`` tokens."""
    if num_ctx < trained and needed < trained:
        return f"set options.num_ctx up to {trained}, the context {model} was trained for, or shorten the input"
    return f"{model} takes at most {trained} tokens: shorten the input"


def error_from_llama(answer: dict[str, Any]) -> ApiError:
    """An ``ApiError`` for llama.cpp's ``{"error": {"code", "message", ...}}``."""
    error = answer.get("error")
    if isinstance(error, dict):
        status = int(error.get("code") or 500)
        return ApiError(status if 400 <= status < 600 else 500, str(error.get("message", "inference failed")))
    return ApiError(500, str(error or "inference failed"))


# --------------------------------------------------------------------------- from llama.cpp


@dataclass
class GenerationTally:
    """What llama.cpp reported about one generation, gathered from its chunks."""

    kind: Literal["chat", "completion"]
    text_parts: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The generated text so far."""
        return "".join(self.text_parts)

    def add_chunk(self, chunk: dict[str, Any]) -> str:
        """Record one stream chunk and return the text it adds ("" if none)."""
        self._record_meta(chunk)
        piece = ""
        for choice in chunk.get("choices") or []:
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
            if self.kind == "chat":
                piece += (choice.get("delta") or {}).get("content") or ""
            else:
                piece += choice.get("text") or ""
        if piece:
            self.text_parts.append(piece)
        return piece

    def add_result(self, result: dict[str, Any]) -> None:
        """Record a complete (non-streaming) answer."""
        self._record_meta(result)
        choice = (result.get("choices") or [{}])[0]
        self.finish_reason = choice.get("finish_reason")
        text = (choice.get("message") or {}).get("content") or "" if self.kind == "chat" else choice.get("text") or ""
        self.text_parts = [text]

    def _record_meta(self, chunk: dict[str, Any]) -> None:
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        if chunk.get("timings"):
            self.timings = chunk["timings"]

    @property
    def done_reason(self) -> str:
        """Ollama's ``done_reason``: "length" when a token limit cut the answer, else "stop"."""
        return "length" if self.finish_reason == "length" else "stop"

    def metrics(self, total_seconds: float, load_seconds: float) -> dict[str, int]:
        """Ollama's final counters, durations in nanoseconds."""
        prompt_tokens = self.usage.get("prompt_tokens")
        if prompt_tokens is None:
            prompt_tokens = int(self.timings.get("prompt_n", 0)) + int(self.timings.get("cache_n", 0))
        eval_count = self.usage.get("completion_tokens", self.timings.get("predicted_n", 0))
        return {
            "total_duration": int(total_seconds * 1e9),
            "load_duration": int(load_seconds * 1e9),
            "prompt_eval_count": int(prompt_tokens),
            "prompt_eval_duration": int(float(self.timings.get("prompt_ms", 0.0)) * 1e6),
            "eval_count": int(eval_count),
            "eval_duration": int(float(self.timings.get("predicted_ms", 0.0)) * 1e6),
        }


def chat_chunk(model: str, content: str) -> dict[str, Any]:
    """One streamed ``/api/chat`` object carrying a piece of the answer."""
    return {
        "model": model,
        "created_at": now_rfc3339(),
        "message": {"role": "assistant", "content": content},
        "done": False,
    }


def generate_chunk(model: str, text: str) -> dict[str, Any]:
    """One streamed ``/api/generate`` object carrying a piece of the answer."""
    return {"model": model, "created_at": now_rfc3339(), "response": text, "done": False}


def chat_final(model: str, content: str, done_reason: str, metrics: dict[str, int]) -> dict[str, Any]:
    """The last ``/api/chat`` object (whole answer when not streaming, "" when streaming)."""
    return {
        "model": model,
        "created_at": now_rfc3339(),
        "message": {"role": "assistant", "content": content},
        "done": True,
        "done_reason": done_reason,
        **metrics,
    }


def generate_final(model: str, text: str, done_reason: str, metrics: dict[str, int]) -> dict[str, Any]:
    """The last ``/api/generate`` object (whole answer when not streaming, "" when streaming)."""
    return {
        "model": model,
        "created_at": now_rfc3339(),
        "response": text,
        "done": True,
        "done_reason": done_reason,
        **metrics,
    }


@dataclass
class OllamaAnswer:
    """How an ``/api/chat`` or ``/api/generate`` answer is shaped: NDJSON pieces, then the final object."""

    model: str
    kind: Literal["chat", "generate"]
    stream: bool
    framing = "ndjson"

    def piece(self, text: str) -> list[dict[str, Any]]:
        """Stream objects carrying a piece of the answer."""
        return [chat_chunk(self.model, text) if self.kind == "chat" else generate_chunk(self.model, text)]

    def end(self, done_reason: str, metrics: dict[str, int]) -> list[dict[str, Any]]:
        """The stream's last object: ``done`` with the counters."""
        return [self.whole("", done_reason, metrics)]

    def whole(self, text: str, done_reason: str, metrics: dict[str, int]) -> dict[str, Any]:
        """The final object (the whole answer when not streaming)."""
        final = chat_final if self.kind == "chat" else generate_final
        return final(self.model, text, done_reason, metrics)

    @staticmethod
    def error(status: int, message: str) -> dict[str, Any]:
        """Ollama's error object (also a stream's last line)."""
        return {"error": message}
