"""The HTTP side: Ollama's routes, and the OpenAI-compatible ``/v1`` ones, on a stdlib ``ThreadingHTTPServer``.

Each connection gets a thread; a generation waits for a free copy of the model
(:class:`~embedded_ollama.model.Engine`, ``--num-parallel`` copies). ``/v1`` requests are translated
into Ollama requests (:mod:`embedded_ollama.openai_compat`) and run the same way. Streaming answers
are NDJSON (Ollama) or server-sent events (OpenAI) sent with chunked transfer encoding (HTTP/1.1
keep-alive works for both kinds). Every request first passes the checks of
:mod:`embedded_ollama.doors` (Origin, Host, body framing and size, deadlines).
"""

from __future__ import annotations

import io
import json
import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import unquote

from . import openai_compat, protocol
from .catalog import CatalogModel, ModelVerificationError, find_model, is_installed
from .doors import CORS_ALLOWED_HEADERS, LISTEN_BACKLOG, BodyError, DeadlineReader, DoorPolicy, read_body
from .model import Engine, EngineError
from .netutil import address_family, bind_host, url_host
from .pool import ModelPool
from .protocol import (
    ApiError,
    ChatRequest,
    GenerateRequest,
    GenerationTally,
    LlamaRequest,
    OllamaAnswer,
    ShowRequest,
    context_hint,
    model_not_found,
    parse_request,
    rfc3339,
)

logger = logging.getLogger(__name__)

SERVER_SOFTWARE = "embedded-ollama (xllamacpp)"

EMBEDDINGS_NOT_SERVED = (
    "this embedded server does not compute embeddings (it serves small chat models only); "
    "use an Ollama server with an embedding model, e.g. `ollama pull nomic-embed-text`, and POST /api/embed there"
)
MODEL_MANAGEMENT_NOT_SERVED = (
    "this embedded server serves the models bin/setup installs and cannot create, copy, delete or push models; "
    "install one with `bin/setup --model NAME`, or use an Ollama server"
)

_ROUTES = frozenset(
    {
        "/",
        "/api/version",
        "/api/tags",
        "/api/ps",
        "/api/show",
        "/api/pull",
        "/api/chat",
        "/api/generate",
        "/v1/models",
        "/v1/chat/completions",
        "/v1/completions",
    }
)
_NOT_SERVED = {
    "/api/embed": EMBEDDINGS_NOT_SERVED,
    "/api/embeddings": EMBEDDINGS_NOT_SERVED,
    "/v1/embeddings": EMBEDDINGS_NOT_SERVED,
    "/api/create": MODEL_MANAGEMENT_NOT_SERVED,
    "/api/copy": MODEL_MANAGEMENT_NOT_SERVED,
    "/api/delete": MODEL_MANAGEMENT_NOT_SERVED,
    "/api/push": MODEL_MANAGEMENT_NOT_SERVED,
}
_FOREVER = timedelta(days=365 * 100)


class Answer(Protocol):
    """How one generation's answer is shaped (:class:`~embedded_ollama.protocol.OllamaAnswer`, or the OpenAI ones)."""

    framing: str
    stream: bool

    def piece(self, text: str) -> list[dict[str, Any]]: ...

    def end(self, done_reason: str, metrics: dict[str, int]) -> list[dict[str, Any]]: ...

    def whole(self, text: str, done_reason: str, metrics: dict[str, int]) -> dict[str, Any]: ...

    def error(self, status: int, message: str) -> dict[str, Any]: ...


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
    def session(
        self, model: CatalogModel, num_ctx: int | None = None, keep_alive: float | None = None
    ) -> Iterator[tuple[Engine, float]]:
        """The model loaded for one request (see :meth:`ModelPool.using`); a refused file is a 404."""
        try:
            with self.pool.using(model, num_ctx, keep_alive) as loaded:
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

    def openai_models(self) -> dict[str, Any]:
        """``GET /v1/models``: every installed model, as OpenAI lists them."""
        models = self.pool.installed()
        return openai_compat.model_list([(m.name, self.pool.model_file(m).modified_at) for m in models])

    def openai_model(self, name: str) -> dict[str, Any]:
        """``GET /v1/models/{name}``."""
        model = find_model(name)
        if model is None or model not in self.pool.installed():
            raise ApiError(404, f"model '{name}' not found")
        return openai_compat.model_object(model.name, self.pool.model_file(model).modified_at)

    def ps(self) -> dict[str, Any]:
        """``GET /api/ps``: the resident model (if any), its context and when it will be unloaded."""
        resident = self.pool.resident
        if resident is None:
            return {"models": []}
        model, engine = resident
        seconds = self.pool.expires_in()
        expires = datetime.now(timezone.utc) + (_FOREVER if math.isinf(seconds) else timedelta(seconds=seconds))
        entry = {
            **self.model_entry(model),
            "expires_at": rfc3339(expires),
            "size_vram": 0,
            "context_length": engine.config.num_ctx,
        }
        entry.pop("modified_at")
        return {"models": [entry]}

    def show(self, body: Any) -> dict[str, Any]:
        """``POST /api/show``: ``model_info`` has the trained context (what a request may ask for),
        ``parameters`` the ``num_ctx`` a request gets when it asks for none."""
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
        parameters["num_ctx"] = self.pool.context_for(model, None)
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

    def context_for(self, model: CatalogModel, llama: LlamaRequest, options: protocol.Options | None) -> int:
        """The context (tokens) the request gets; refuses, without tokenising it, an input that cannot fit.

        A context of n tokens holds at most n times the longest token's bytes of text, so a longer
        input is refused at once: tokenising megabytes would hold a copy of the model for seconds.
        """
        num_ctx = self.pool.context_for(model, options.num_ctx if options is not None else None)
        model_file = self.pool.model_file(model)
        size = protocol.prompt_bytes(llama)
        capacity = num_ctx * max(1, model_file.longest_token_bytes)
        if model_file.longest_token_bytes and size > capacity:
            trained = model_file.context_length
            raise ApiError(
                400,
                f"the input ({size:,} bytes) is longer than a context of {num_ctx} tokens can hold "
                f"(at most {capacity:,} bytes); "
                + context_hint(num_ctx, trained, model.name, needed=-(-size // model_file.longest_token_bytes)),
            )
        return num_ctx

    def limit_to_num_ctx(self, engine: Engine, llama: LlamaRequest, num_ctx: int, model: CatalogModel) -> None:
        """Honour a context smaller than the loaded one: the prompt must fit, and ``max_tokens`` is capped.

        The loaded copies hold at least ``num_ctx`` (the pool reloads them for a larger one); at their
        full size llama.cpp itself refuses a prompt that does not fit (see :meth:`llama_error`).
        """
        if num_ctx >= engine.config.num_ctx:
            return
        payload = llama.payload
        if llama.kind == "chat":
            prompt_tokens = engine.count_chat_tokens(payload["messages"])
        else:
            prompt_tokens = engine.count_text_tokens(payload["prompt"])
        room = num_ctx - prompt_tokens
        if room <= 0:
            raise self._too_long(prompt_tokens, num_ctx, model)
        payload["max_tokens"] = min(payload.get("max_tokens", room), room)

    def llama_error(self, answer: dict[str, Any], num_ctx: int, model: CatalogModel) -> ApiError:
        """The error to answer for llama.cpp's ``{"error": ...}``; a prompt too long names the limits."""
        error = answer.get("error")
        if isinstance(error, dict) and error.get("type") == "exceed_context_size_error":
            return self._too_long(int(error.get("n_prompt_tokens") or 0), num_ctx, model)
        return protocol.error_from_llama(answer)

    def _too_long(self, prompt_tokens: int, num_ctx: int, model: CatalogModel) -> ApiError:
        trained = self.pool.model_file(model).context_length
        return ApiError(
            400,
            f"the input length ({prompt_tokens} tokens) exceeds the context length ({num_ctx} tokens); "
            + context_hint(num_ctx, trained, model.name, needed=prompt_tokens),
        )

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


class _EventStream:
    """A streamed response body sent with chunked transfer encoding; starts lazily.

    ``ndjson``: one JSON object per line (Ollama). ``sse``: ``data: <json>`` events ending with
    ``data: [DONE]`` (OpenAI).
    """

    def __init__(self, handler: BaseHTTPRequestHandler, framing: str) -> None:
        self._handler = handler
        self._sse = framing == "sse"
        self.started = False

    def write(self, obj: dict[str, Any]) -> None:
        if not self.started:
            self._handler.send_response(HTTPStatus.OK)
            self._handler.send_header("Content-Type", "text/event-stream" if self._sse else "application/x-ndjson")
            self._handler.send_header("Transfer-Encoding", "chunked")
            self._handler.end_headers()
            self.started = True
        text = json.dumps(obj, ensure_ascii=False)
        self._send((f"data: {text}\n\n" if self._sse else text + "\n").encode())

    def close(self) -> None:
        if self._sse:
            self._send(b"data: [DONE]\n\n")
        self._handler.wfile.write(b"0\r\n\r\n")
        self._handler.wfile.flush()

    def _send(self, data: bytes) -> None:
        self._handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self._handler.wfile.flush()


class OllamaRequestHandler(BaseHTTPRequestHandler):
    """Checks each request at the doors (:mod:`embedded_ollama.doors`), then routes it to :class:`OllamaApp`."""

    protocol_version = "HTTP/1.1"
    server_version = SERVER_SOFTWARE
    sys_version = ""
    disable_nagle_algorithm = True
    """TCP_NODELAY: an answer is written as headers, then body (or stream pieces); with Nagle's algorithm
    the body waited for the client's delayed ACK of the headers, 40 ms on every answer (22 answers/s
    on one kept-alive connection, now over 1,000: benchmarks/embedded_server_load.py --one-connection)."""
    server: EmbeddedOllamaServer
    _openai = False
    _cors_origin: str | None = None

    # ------------------------------------------------------------------ connection

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # replaced by a reader that enforces the request deadlines
        self._reader = DeadlineReader(self.connection)
        self.rfile = io.BufferedReader(self._reader)

    def handle_one_request(self) -> None:
        """Wait up to the idle timeout for a request to start, then give it the request timeout to arrive."""
        doors = self.server.doors
        self._reader.deadline = time.monotonic() + doors.idle_timeout
        try:
            started = self.rfile.peek(1)
        except OSError:  # TimeoutError included: an idle connection is closed
            started = b""
        if not started:
            self.close_connection = True
            return
        self._reader.deadline = time.monotonic() + doors.request_timeout
        self._openai, self._cors_origin = False, None
        super().handle_one_request()

    def end_headers(self) -> None:
        if self._cors_origin is not None:
            self.send_header("Access-Control-Allow-Origin", self._cors_origin)
            self.send_header("Vary", "Origin")
        super().end_headers()

    # ------------------------------------------------------------------ dispatch

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_OPTIONS(self) -> None:
        self._dispatch("OPTIONS")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def _dispatch(self, method: str) -> None:
        path = self.path.split("?", 1)[0]
        self._openai = path.startswith("/v1/")
        try:
            body = self._pass_doors(method)
            if body is None:
                return
            self._route(method, path, body)
        except ApiError as exc:
            self._send_error(exc.status, exc.message)
        except RecursionError:  # JSON (or a JSON schema in it) nested deeper than Python recurses
            self._send_error(HTTPStatus.BAD_REQUEST, "request body nested too deeply")
        except TimeoutError:  # a client that stopped reading its answer
            logger.debug("client did not read its answer in time during %s %s", method, path)
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            logger.debug("client went away during %s %s", method, path)
            self.close_connection = True
        except Exception as exc:  # a bug or an engine failure: answer 500, keep serving
            logger.exception("error handling %s %s", method, path)
            try:
                self._send_error(HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error: {exc}")
            except OSError:
                self.close_connection = True

    def _pass_doors(self, method: str) -> bytes | None:
        """Origin and Host checks, CORS preflight, then the capped body; None when already answered."""
        doors = self.server.doors
        host = self.headers.get("Host", "")
        origin = self.headers.get("Origin")
        if not doors.host_allowed(host):
            self.close_connection = True
            raise ApiError(
                403, f"host {host[:100]!r} is not this machine; address the server as 127.0.0.1 or localhost"
            )
        if origin is not None:
            if not doors.origin_allowed(origin, host):
                self.close_connection = True
                raise ApiError(
                    403, f"origin {origin[:100]!r} may not use this server; add it to OLLAMA_ORIGINS to allow it"
                )
            if origin.lower() not in (f"http://{host}".lower(), f"https://{host}".lower()):
                self._cors_origin = origin
        if method == "OPTIONS":
            self._preflight()
            return None
        try:
            body = read_body(self.rfile, self.headers, doors.max_body_bytes)
        except BodyError:
            self.close_connection = True  # the rest of the body is unread: the connection cannot go on
            raise
        except TimeoutError:
            self.close_connection = True
            raise ApiError(408, f"the request was not received within {doors.request_timeout:.0f} s") from None
        self._reader.deadline = None
        self.connection.settimeout(doors.write_timeout)
        return body

    def _preflight(self) -> None:
        self.send_response(HTTPStatus.NO_CONTENT)
        if self._cors_origin is not None:
            self.send_header("Access-Control-Allow-Methods", "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS")
            self.send_header("Access-Control-Allow-Headers", CORS_ALLOWED_HEADERS)
            self.send_header("Access-Control-Max-Age", "43200")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _route(self, method: str, path: str, body: bytes) -> None:
        app = self.server.app
        read = method in ("GET", "HEAD")
        head = method == "HEAD"
        if path == "/" and read:
            self._send_text(HTTPStatus.OK, "Ollama is running", head=head)
        elif path == "/api/version" and read:
            self._send_json(HTTPStatus.OK, app.version(), head=head)
        elif path == "/api/tags" and read:
            self._send_json(HTTPStatus.OK, app.tags(), head=head)
        elif path == "/api/ps" and method == "GET":
            self._send_json(HTTPStatus.OK, app.ps())
        elif path == "/api/show" and method == "POST":
            self._send_json(HTTPStatus.OK, app.show(self._decode(body)))
        elif path == "/api/pull" and method == "POST":
            self._send_json(HTTPStatus.OK, app.pull(self._decode(body)))
        elif path == "/api/chat" and method == "POST":
            request: ChatRequest = parse_request(ChatRequest, self._decode(body))
            self._chat(request, OllamaAnswer(request.model, "chat", request.stream))
        elif path == "/api/generate" and method == "POST":
            generate: GenerateRequest = parse_request(GenerateRequest, self._decode(body))
            self._generate(generate, OllamaAnswer(generate.model, "generate", generate.stream))
        elif path == "/v1/models" and method == "GET":
            self._send_json(HTTPStatus.OK, app.openai_models())
        elif path.startswith("/v1/models/") and method == "GET":
            self._send_json(HTTPStatus.OK, app.openai_model(unquote(path[len("/v1/models/") :])))
        elif path == "/v1/chat/completions" and method == "POST":
            chat, usage = openai_compat.chat_request(self._decode(body))
            self._chat(chat, openai_compat.ChatAnswer(chat.model, chat.stream, usage))
        elif path == "/v1/completions" and method == "POST":
            completion, usage = openai_compat.completion_request(self._decode(body))
            self._generate(completion, openai_compat.CompletionAnswer(completion.model, completion.stream, usage))
        elif path in _NOT_SERVED or path.startswith("/api/blobs/"):
            raise ApiError(501, _NOT_SERVED.get(path, MODEL_MANAGEMENT_NOT_SERVED))
        elif path in _ROUTES:
            self._send_text(HTTPStatus.METHOD_NOT_ALLOWED, "405 method not allowed")
        else:
            self._send_text(HTTPStatus.NOT_FOUND, "404 page not found")

    # ------------------------------------------------------------------ generation routes

    def _chat(self, request: ChatRequest, answer: Answer) -> None:
        started = time.perf_counter()
        app = self.server.app
        model = app.check_generation_request(request)
        keep_alive = protocol.keep_alive_seconds(request.keep_alive)
        if not request.messages:
            self._load_or_unload(model, keep_alive, answer)
            return
        llama = protocol.chat_request(request)
        self._run_generation(model, llama, request.options, keep_alive, answer, started)

    def _generate(self, request: GenerateRequest, answer: Answer) -> None:
        started = time.perf_counter()
        app = self.server.app
        model = app.check_generation_request(request)
        keep_alive = protocol.keep_alive_seconds(request.keep_alive)
        if not request.prompt:
            self._load_or_unload(model, keep_alive, answer)
            return
        llama = protocol.generate_request(request)
        self._run_generation(model, llama, request.options, keep_alive, answer, started)

    def _load_or_unload(self, model: CatalogModel, keep_alive: float | None, answer: Answer) -> None:
        """An empty request: Ollama loads the model (or, with ``keep_alive`` 0, unloads it)."""
        app = self.server.app
        if keep_alive == 0:
            app.pool.unload(model)
            reason = "unload"
        else:
            reason = "load"
            with app.session(model, keep_alive=keep_alive):
                pass
        self._send_json(HTTPStatus.OK, answer.whole("", reason, {}))

    def _run_generation(
        self,
        model: CatalogModel,
        llama: LlamaRequest,
        options: protocol.Options | None,
        keep_alive: float | None,
        answer: Answer,
        started: float,
    ) -> None:
        app = self.server.app
        num_ctx = app.context_for(model, llama, options)
        with app.session(model, num_ctx, keep_alive) as (engine, waited):
            app.limit_to_num_ctx(engine, llama, num_ctx, model)
            if answer.stream:
                self._stream_answer(engine, llama, answer, (model, num_ctx), started, waited)
            else:
                self._whole_answer(engine, llama, answer, (model, num_ctx), started, waited)

    def _whole_answer(
        self,
        engine: Engine,
        llama: LlamaRequest,
        answer: Answer,
        context: tuple[CatalogModel, int],
        started: float,
        waited: float,
    ) -> None:
        app = self.server.app
        tally = GenerationTally(llama.kind)
        try:
            result, copy_wait = app.generate(engine, llama)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        if result is None or "error" in result:
            raise app.llama_error(result or {}, context[1], context[0])
        tally.add_result(result)
        app.check_output(llama, tally)
        metrics = tally.metrics(time.perf_counter() - started, waited + copy_wait)
        self._send_json(HTTPStatus.OK, answer.whole(tally.text, tally.done_reason, metrics))

    def _stream_answer(
        self,
        engine: Engine,
        llama: LlamaRequest,
        answer: Answer,
        context: tuple[CatalogModel, int],
        started: float,
        waited: float,
    ) -> None:
        app = self.server.app
        tally = GenerationTally(llama.kind)
        out = _EventStream(self, answer.framing)
        failure: list[ApiError] = []
        client_gone: list[bool] = []

        def on_chunk(chunk: dict[str, Any]) -> bool:
            try:
                if "error" in chunk:
                    failure.append(app.llama_error(chunk, context[1], context[0]))
                    return True
                piece = tally.add_chunk(chunk)
                if piece:
                    for event in answer.piece(piece):
                        out.write(event)
                return False
            except OSError:  # the client went away, or stopped reading (write timeout)
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
            out.write(answer.error(failure[0].status, failure[0].message))
            out.close()
            return
        app.check_output(llama, tally)
        metrics = tally.metrics(time.perf_counter() - started, waited + copy_wait)
        for event in answer.end(tally.done_reason, metrics):
            out.write(event)
        out.close()

    # ------------------------------------------------------------------ I/O helpers

    @staticmethod
    def _decode(body: bytes | None) -> Any:
        if not body or not body.strip():
            raise ApiError(400, "missing request body")
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiError(400, f"invalid JSON in request body: {exc}") from None

    def _send_error(self, status: int, message: str) -> None:
        obj = openai_compat.error_body(status, message) if self._openai else {"error": message}
        self._send_json(status, obj)

    def _send_json(self, status: int, obj: dict[str, Any], head: bool = False) -> None:
        data = json.dumps(obj, ensure_ascii=False).encode()
        self._send_bytes(status, data, "application/json; charset=utf-8", head)

    def _send_text(self, status: int, text: str, head: bool = False) -> None:
        self._send_bytes(status, text.encode(), "text/plain; charset=utf-8", head)

    def _send_bytes(self, status: int, data: bytes, content_type: str, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head and self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Access log lines go to ``logging`` at DEBUG level."""
        logger.debug("%s %s", self.address_string(), format % args)


class EmbeddedOllamaServer(ThreadingHTTPServer):
    """A threading HTTP server bound to one (loopback) address, serving an :class:`OllamaApp`."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, host: str, port: int, doors: DoorPolicy | None = None) -> None:
        self.address_family = address_family(host)
        self.doors = doors or DoorPolicy()
        """The checks and limits every request meets."""
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
