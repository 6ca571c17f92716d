"""The HTTP side: Ollama's routes on a stdlib ``ThreadingHTTPServer``.

Each connection gets a thread; a generation waits for a free copy of the model
(:class:`~embedded_ollama.model.Engine`, ``--num-parallel`` copies). Streaming answers are NDJSON sent
with chunked transfer encoding (HTTP/1.1 keep-alive works for both kinds).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import protocol
from .catalog import CatalogModel, ModelVerificationError, find_model, is_installed
from .model import Engine, EngineError
from .netutil import address_family, bind_host, url_host
from .pool import ModelPool
from .protocol import (
    ApiError,
    ChatRequest,
    GenerateRequest,
    GenerationTally,
    LlamaRequest,
    ShowRequest,
    model_not_found,
    parse_request,
    rfc3339,
)

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024 * 1024
SERVER_SOFTWARE = "embedded-ollama (xllamacpp)"

_ROUTES = frozenset(
    {"/", "/api/version", "/api/tags", "/api/ps", "/api/show", "/api/pull", "/api/chat", "/api/generate"}
)

FinalBuilder = Callable[[str, str, str, dict[str, int]], dict[str, Any]]
ChunkBuilder = Callable[[str, str], dict[str, Any]]


@dataclass(frozen=True)
class _Reply:
    """How to answer one generation request: the name asked for, streaming or not, the shapes."""

    model: str
    stream: bool
    build_chunk: ChunkBuilder
    build_final: FinalBuilder
    started: float


class OllamaApp:
    """The Ollama API over the installed models; knows nothing about sockets."""

    def __init__(self, pool: ModelPool) -> None:
        self.pool = pool

    # ------------------------------------------------------------------ names

    def resolve(self, name: str) -> CatalogModel:
        """The installed model ``name`` designates, or the 404 that says why there is none."""
        model = find_model(name)
        if model is None:
            raise model_not_found(name)
        if model.name in self.pool.refused:
            raise ApiError(404, f'model "{name}" is not served: {self.pool.refused[model.name]}')
        if not is_installed(model, self.pool.models_dir):
            raise ApiError(404, f'model "{name}" is not installed; install it with `{model.install_command}`')
        return model

    @contextmanager
    def session(self, model: CatalogModel) -> Iterator[tuple[Engine, float]]:
        """The model loaded for one request (see :meth:`ModelPool.using`); a refused file is a 404."""
        try:
            with self.pool.using(model) as loaded:
                yield loaded
        except ModelVerificationError as exc:
            raise ApiError(404, f'model "{model.name}" is not served: {exc}') from None

    # ------------------------------------------------------------------ listings

    def version(self) -> dict[str, Any]:
        """``GET /api/version``."""
        return {"version": protocol.OLLAMA_API_VERSION}

    def model_entry(self, model: CatalogModel) -> dict[str, Any]:
        """One model as listed by ``/api/tags``."""
        model_file = self.pool.model_file(model)
        return {
            "name": model.name,
            "model": model.name,
            "modified_at": rfc3339(model_file.modified_at),
            "size": model_file.size,
            "digest": model_file.digest,
            "details": dict(model.details),
        }

    def tags(self) -> dict[str, Any]:
        """``GET /api/tags``: every installed model."""
        return {"models": [self.model_entry(model) for model in self.pool.installed()]}

    def ps(self) -> dict[str, Any]:
        """``GET /api/ps``: the resident model (if any); it stays loaded until another is asked for."""
        resident = self.pool.resident
        if resident is None:
            return {"models": []}
        model, engine = resident
        expires = datetime.now(timezone.utc) + timedelta(days=365 * 100)
        entry = {
            **self.model_entry(model),
            "expires_at": rfc3339(expires),
            "size_vram": 0,
            "context_length": engine.config.num_ctx,
        }
        entry.pop("modified_at")
        return {"models": [entry]}

    def show(self, body: Any) -> dict[str, Any]:
        """``POST /api/show``."""
        request: ShowRequest = parse_request(ShowRequest, body)
        name = request.model or request.name
        if not name:
            raise ApiError(400, "model is required")
        if find_model(name) is None:
            raise ApiError(404, f"model '{name}' not found")
        model = self.resolve(name)
        model_file = self.pool.model_file(model)
        hidden = ("general.name", "tokenizer.chat_template")  # Ollama leaves these out of model_info
        meta = {key: value for key, value in model_file.metadata.items() if key not in hidden}
        meta["general.parameter_count"] = model_file.parameter_count
        parameters = {
            key: value
            for key, value in protocol.DEFAULT_OPTIONS.items()
            if key in ("temperature", "top_k", "top_p", "repeat_penalty")
        }
        parameters["num_ctx"] = self.pool.config.num_ctx
        parameter_lines = "\n".join(f"{key:<30} {value}" for key, value in parameters.items())
        modelfile = (
            '# Modelfile generated by "ollama show"\n'
            "# To build a new Modelfile based on this, replace FROM with:\n"
            f"# FROM {model.name}\n\n"
            f"FROM {model_file.path}\n"
            f'TEMPLATE """{model_file.chat_template}"""\n'
            + "".join(f"PARAMETER {key} {value}\n" for key, value in parameters.items())
            + f'LICENSE """{model.licence}: {model.provenance}"""\n'
        )
        return {
            "license": model.licence,
            "modelfile": modelfile,
            "parameters": parameter_lines,
            "template": model_file.chat_template,
            "details": dict(model.details),
            "model_info": meta,
            "capabilities": ["completion"],
            "modified_at": rfc3339(model_file.modified_at),
        }

    def pull(self, body: Any) -> dict[str, Any]:
        """``POST /api/pull``: succeeds for an installed model; nothing can be downloaded."""
        if not isinstance(body, dict):
            raise ApiError(400, "request body must be a JSON object")
        name = str(body.get("model") or body.get("name") or "")
        if not name:
            raise ApiError(400, "model is required")
        if find_model(name) is None:
            served = ", ".join(model.name for model in self.pool.installed())
            raise ApiError(404, f'model "{name}" cannot be pulled: this embedded server only serves {served}')
        self.resolve(name)
        return {"status": "success"}

    # ------------------------------------------------------------------ generation

    def check_generation_request(self, request: ChatRequest | GenerateRequest) -> CatalogModel:
        """Model name and capability checks shared by chat and generate; returns the model asked for."""
        if not request.model:
            raise ApiError(400, "model is required")
        model = self.resolve(request.model)
        if request.think not in (None, False, "", "false"):
            raise ApiError(400, f'"{request.model}" does not support thinking')
        if isinstance(request, ChatRequest) and request.tools:
            raise ApiError(400, f'"{request.model}" does not support tools')
        if request.options is not None and request.options.ignored():
            logger.debug("ignoring options %s", ", ".join(request.options.ignored()))
        return model

    @staticmethod
    def limit_to_num_ctx(engine: Engine, llama: LlamaRequest, options: protocol.Options | None) -> None:
        """Honour a request ``num_ctx`` smaller than the loaded context.

        The context is allocated once at load; a smaller ``num_ctx`` bounds
        prompt plus answer: the prompt must fit, and ``max_tokens`` is capped.
        A larger one is capped to the loaded context.
        """
        loaded = engine.config.num_ctx
        requested = options.num_ctx if options is not None else None
        if requested is None or requested <= 0:
            return
        if requested > loaded:
            logger.debug("num_ctx %d exceeds the loaded context %d; using %d", requested, loaded, loaded)
            return
        payload = llama.payload
        if llama.kind == "chat":
            prompt_tokens = engine.count_chat_tokens(payload["messages"])
        else:
            prompt_tokens = engine.count_text_tokens(payload["prompt"])
        room = requested - prompt_tokens
        if room <= 0:
            raise ApiError(400, f"the input length ({prompt_tokens} tokens) exceeds num_ctx ({requested})")
        payload["max_tokens"] = min(payload.get("max_tokens", room), room)

    @staticmethod
    def generate(
        engine: Engine, llama: LlamaRequest, on_chunk: Callable[[dict[str, Any]], bool] | None = None
    ) -> tuple[dict[str, Any] | None, float]:
        """Run ``llama`` on the engine, its output schema turned into an llguidance grammar."""
        schema = protocol.guided_schema(llama.schema) if llama.schema is not None else None
        return engine.generate(llama.kind, llama.payload, on_chunk, json_schema=schema)

    @staticmethod
    def check_output(llama: LlamaRequest, tally: GenerationTally) -> None:
        """Log when a finished answer does not follow the requested schema.

        The grammar should make this impossible; Ollama would not fail the
        request either, so this only leaves a trace for whoever reads the log.
        """
        if llama.schema is None or tally.done_reason != "stop":
            return
        problem = protocol.schema_violation(tally.text, llama.schema)
        if problem is not None:
            logger.warning("answer does not follow the requested schema: %s", problem)


class _NDJSONStream:
    """An NDJSON response body sent with chunked transfer encoding; starts lazily."""

    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        self._handler = handler
        self.started = False

    def write(self, obj: dict[str, Any]) -> None:
        if not self.started:
            self._handler.send_response(HTTPStatus.OK)
            self._handler.send_header("Content-Type", "application/x-ndjson")
            self._handler.send_header("Transfer-Encoding", "chunked")
            self._handler.end_headers()
            self.started = True
        data = json.dumps(obj, ensure_ascii=False).encode() + b"\n"
        self._handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self._handler.wfile.flush()

    def close(self) -> None:
        self._handler.wfile.write(b"0\r\n\r\n")
        self._handler.wfile.flush()


class OllamaRequestHandler(BaseHTTPRequestHandler):
    """Routes Ollama's endpoints to :class:`OllamaApp`."""

    protocol_version = "HTTP/1.1"
    server_version = SERVER_SOFTWARE
    sys_version = ""
    server: EmbeddedOllamaServer

    # ------------------------------------------------------------------ dispatch

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        app = self.server.app
        path = self.path.split("?", 1)[0]
        try:
            body = self._read_body() if method in ("POST", "DELETE") else None
            if path == "/" and method in ("GET", "HEAD"):
                self._send_text(HTTPStatus.OK, "Ollama is running", head=method == "HEAD")
            elif path == "/api/version" and method in ("GET", "HEAD"):
                self._send_json(HTTPStatus.OK, app.version(), head=method == "HEAD")
            elif path == "/api/tags" and method in ("GET", "HEAD"):
                self._send_json(HTTPStatus.OK, app.tags(), head=method == "HEAD")
            elif path == "/api/ps" and method == "GET":
                self._send_json(HTTPStatus.OK, app.ps())
            elif path == "/api/show" and method == "POST":
                self._send_json(HTTPStatus.OK, app.show(self._decode(body)))
            elif path == "/api/pull" and method == "POST":
                self._send_json(HTTPStatus.OK, app.pull(self._decode(body)))
            elif path == "/api/chat" and method == "POST":
                self._chat(self._decode(body))
            elif path == "/api/generate" and method == "POST":
                self._generate(self._decode(body))
            elif path in _ROUTES:
                self._send_text(HTTPStatus.METHOD_NOT_ALLOWED, "405 method not allowed")
            else:
                self._send_text(HTTPStatus.NOT_FOUND, "404 page not found")
        except ApiError as exc:
            self._send_json(exc.status, {"error": exc.message})
        except (BrokenPipeError, ConnectionResetError):
            logger.debug("client went away during %s %s", method, path)
            self.close_connection = True
        except Exception as exc:  # a bug or an engine failure: answer 500, keep serving
            logger.exception("error handling %s %s", method, path)
            try:
                self._send_json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"internal error: {exc}"})
            except OSError:
                self.close_connection = True

    # ------------------------------------------------------------------ generation routes

    def _chat(self, body: Any) -> None:
        started = time.perf_counter()
        app = self.server.app
        request: ChatRequest = parse_request(ChatRequest, body)
        model = app.check_generation_request(request)
        if not request.messages:
            self._load_or_unload(model, request.model, request.keep_alive, protocol.chat_final)
            return
        llama = protocol.chat_request(request)
        reply = _Reply(request.model, request.stream, protocol.chat_chunk, protocol.chat_final, started)
        self._run_generation(model, llama, request.options, reply)

    def _generate(self, body: Any) -> None:
        started = time.perf_counter()
        app = self.server.app
        request: GenerateRequest = parse_request(GenerateRequest, body)
        model = app.check_generation_request(request)
        if not request.prompt:
            self._load_or_unload(model, request.model, request.keep_alive, protocol.generate_final)
            return
        llama = protocol.generate_request(request)
        reply = _Reply(request.model, request.stream, protocol.generate_chunk, protocol.generate_final, started)
        self._run_generation(model, llama, request.options, reply)

    def _load_or_unload(
        self, model: CatalogModel, name: str, keep_alive: float | str | None, build_final: FinalBuilder
    ) -> None:
        """An empty request: Ollama loads the model (or, with ``keep_alive`` 0, unloads it)."""
        if _is_zero(keep_alive):
            reason = "unload"
        else:
            reason = "load"
            with self.server.app.session(model):
                pass
        self._send_json(HTTPStatus.OK, build_final(name, "", reason, {}))

    def _run_generation(
        self, model: CatalogModel, llama: LlamaRequest, options: protocol.Options | None, reply: _Reply
    ) -> None:
        app = self.server.app
        with app.session(model) as (engine, waited):
            app.limit_to_num_ctx(engine, llama, options)
            if reply.stream:
                self._stream_answer(engine, llama, reply, waited)
            else:
                self._whole_answer(engine, llama, reply, waited)

    def _whole_answer(self, engine: Engine, llama: LlamaRequest, reply: _Reply, waited: float) -> None:
        app = self.server.app
        tally = GenerationTally(llama.kind)
        try:
            result, copy_wait = app.generate(engine, llama)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        if result is None or "error" in result:
            raise protocol.error_from_llama(result or {})
        tally.add_result(result)
        app.check_output(llama, tally)
        metrics = tally.metrics(time.perf_counter() - reply.started, waited + copy_wait)
        self._send_json(HTTPStatus.OK, reply.build_final(reply.model, tally.text, tally.done_reason, metrics))

    def _stream_answer(self, engine: Engine, llama: LlamaRequest, reply: _Reply, waited: float) -> None:
        app = self.server.app
        tally = GenerationTally(llama.kind)
        out = _NDJSONStream(self)
        failure: list[ApiError] = []
        client_gone: list[bool] = []

        def on_chunk(chunk: dict[str, Any]) -> bool:
            try:
                if "error" in chunk:
                    failure.append(protocol.error_from_llama(chunk))
                    return True
                piece = tally.add_chunk(chunk)
                if piece:
                    out.write(reply.build_chunk(reply.model, piece))
                return False
            except OSError:
                client_gone.append(True)
                return True
            except Exception as exc:  # never let an exception escape into the engine's stream reader
                logger.exception("stream callback failed")
                failure.append(ApiError(500, f"internal error: {exc}"))
                return True

        copy_wait = 0.0
        try:
            _, copy_wait = app.generate(engine, llama, on_chunk)
        except ValueError as exc:
            failure.append(ApiError(400, str(exc)))
        except EngineError as exc:  # the copy's worker died after part of the answer was sent
            logger.warning("%s", exc)
            failure.append(ApiError(500, str(exc)))
        if client_gone:
            logger.debug("client closed the stream; generation stopped")
            self.close_connection = True
            return
        if failure:
            if not out.started:
                raise failure[0]
            out.write({"error": failure[0].message})
            out.close()
            return
        app.check_output(llama, tally)
        metrics = tally.metrics(time.perf_counter() - reply.started, waited + copy_wait)
        out.write(reply.build_final(reply.model, "", tally.done_reason, metrics))
        out.close()

    # ------------------------------------------------------------------ I/O helpers

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise ApiError(413, "request body too large")
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY_BYTES:
                self.close_connection = True
                raise ApiError(413, "request body too large")
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    @staticmethod
    def _decode(body: bytes | None) -> Any:
        if not body or not body.strip():
            raise ApiError(400, "missing request body")
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiError(400, f"invalid JSON in request body: {exc}") from None

    def _send_json(self, status: int, obj: dict[str, Any], head: bool = False) -> None:
        data = json.dumps(obj, ensure_ascii=False).encode()
        self._send_bytes(status, data, "application/json; charset=utf-8", head)

    def _send_text(self, status: int, text: str, head: bool = False) -> None:
        self._send_bytes(status, text.encode(), "text/plain; charset=utf-8", head)

    def _send_bytes(self, status: int, data: bytes, content_type: str, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Access log lines go to ``logging`` at DEBUG level."""
        logger.debug("%s %s", self.address_string(), format % args)


def _is_zero(keep_alive: float | str | None) -> bool:
    """True for a ``keep_alive`` that asks to unload now (0, "0", "0s", ...)."""
    if keep_alive is None:
        return False
    text = str(keep_alive).strip().lower().rstrip("smh")
    try:
        return float(text or "nan") == 0
    except ValueError:
        return False


class EmbeddedOllamaServer(ThreadingHTTPServer):
    """A threading HTTP server bound to one (loopback) address, serving an :class:`OllamaApp`."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, host: str, port: int) -> None:
        self.address_family = address_family(host)
        super().__init__((bind_host(host), port), OllamaRequestHandler)
        self.app: OllamaApp = None  # type: ignore[assignment]  # set by attach() before serving

    def attach(self, app: OllamaApp) -> None:
        """Give the server the app to serve (after the model is loaded)."""
        self.app = app

    @property
    def port(self) -> int:
        """The bound port (useful when started on port 0)."""
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        """Base URL of the server, e.g. ``http://127.0.0.1:11434``."""
        return f"http://{url_host(str(self.server_address[0]))}:{self.port}"
