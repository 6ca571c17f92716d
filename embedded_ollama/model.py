"""The engine that runs one GGUF model, and the facts about a GGUF file.

Which models exist, where their files are and how they are checked is in
:mod:`embedded_ollama.catalog`; this module only loads a file and runs requests on it.

Inference goes through ``xllamacpp`` (llama.cpp's own server code bound to
Python). It is imported lazily, in :meth:`Engine.load`, so that the launcher
and the constants here stay cheap to import.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import secrets
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from .gguf_meta import read_gguf_metadata

logger = logging.getLogger(__name__)

DEFAULT_NUM_CTX = 4096
"""Context window loaded at start-up (Ollama's default ``num_ctx``)."""

PROMPT_RAM_CACHE_MIB = 256
"""Host-RAM prompt cache allowed when ``cache_prompt`` is on (llama.cpp's default is 8192)."""

ChunkCallback = Callable[[dict[str, Any]], bool]
"""Receives each OpenAI-style stream chunk; returning True stops generation."""


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk_size), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelFile:
    """Facts about the GGUF file: what ``/api/tags`` and ``/api/show`` report."""

    path: Path
    size: int
    digest: str
    modified_at: datetime
    metadata: dict[str, Any] = field(default_factory=dict)
    parameter_count: int = 0

    @classmethod
    def inspect(cls, path: str | Path, digest: str | None = None) -> ModelFile:
        """Read the file's GGUF metadata; hash it unless its (already verified) ``digest`` is given."""
        resolved = Path(path).resolve()
        stat = resolved.stat()
        meta = read_gguf_metadata(resolved)
        return cls(
            path=resolved,
            size=stat.st_size,
            digest=digest or sha256_file(resolved),
            modified_at=datetime.fromtimestamp(stat.st_mtime, tz=timezone.utc),
            metadata=meta.kv,
            parameter_count=meta.parameter_count,
        )

    @property
    def chat_template(self) -> str:
        """The Jinja chat template stored in the GGUF file ("" if absent)."""
        return str(self.metadata.get("tokenizer.chat_template", ""))

    @property
    def context_length(self) -> int:
        """The context length the model was trained for."""
        arch = self.metadata.get("general.architecture", "llama")
        return int(self.metadata.get(f"{arch}.context_length", DEFAULT_NUM_CTX))


def default_batch_threads() -> int:
    """CPU threads for prompt evaluation (batches of tokens): every core, at most four."""
    return max(1, min(4, os.cpu_count() or 1))


GENERATION_THREADS = 1
"""CPU threads for generating tokens one by one.

One thread, whatever the number of cores: for a small model a generated token is hundreds of
tiny matrix-vector products with a thread barrier after each. A second thread waiting at those
barriers either spins (the OpenMP default: fastest on an idle machine, but beside one busy
process generation fell from ~110 to 2-35 tokens/s) or sleeps (``OMP_WAIT_POLICY=passive``, what
the server sets: ~50 tokens/s, slower than one thread's ~80 even on an idle machine). Prompt
evaluation works on big batches, where a second thread pays off even with passive waiting
(~300 against ~170 tokens/s). Measured with SmolLM2-135M on 2 cores, README "Speed under load".
"""


DEFAULT_NUM_PARALLEL = 1
"""Copies of the model serving requests at once, unless ``--num-parallel`` says otherwise.

Two copies with one generation thread each use both of two cores: the main job's LLM stages ran
1.32x faster (113.5 -> 85.7 s, SmolLM2-135M, back to back; README "Two copies, one thread each").
The default stays one copy because the first full test run with two lost its server to a crash
inside llama.cpp, without a trace, right after a model switch; it did not recur in 60 switch
rounds, 600 concurrent calls or the next full run, and is not understood yet. ``faulthandler``
now prints the stacks of such a crash to the server log.
"""


@dataclass(frozen=True)
class EngineConfig:
    """How every model is loaded. Fixed for the life of the process."""

    num_ctx: int = DEFAULT_NUM_CTX
    threads: int = GENERATION_THREADS
    """Threads for token-by-token generation."""
    batch_threads: int = field(default_factory=default_batch_threads)
    """Threads for prompt evaluation."""
    cache_prompt: bool = False
    """Reuse the KV cache of the previous prompt. Off by default: every request then
    evaluates its prompt from scratch, so an answer never depends on what ran before."""
    num_parallel: int = DEFAULT_NUM_PARALLEL
    """Requests served at once, each on its own copy of the model (see :class:`Engine`)."""


class EngineError(RuntimeError):
    """The inference engine failed in a way that is not the client's fault."""


class Engine:
    """The loaded model: ``num_parallel`` independent copies, each serving one request at a time.

    Each copy is an ``xllamacpp.Server`` (llama.cpp's server with one slot: its own context and KV
    cache, ``threads`` generation threads). llama.cpp's own way to serve several requests, several
    slots of one context, decodes them together in one batch on that context's threads: with one
    generation thread (see :data:`GENERATION_THREADS`) that is one core for every request, and with
    two the threads wait at barriers again. Copies share nothing, so two copies with one thread each
    keep two cores busy without waiting on each other (1.3x the calls per second of one copy on the
    main job's prompts, where both copies also evaluate prompts with two threads each), and every
    answer is the one a lone request gets, by construction. The price is RAM: each copy holds its
    own weights and KV cache (server RSS 333 MiB with one copy of SmolLM2-135M, 659 MiB with two).
    ``generate`` waits for a free copy; the seconds waited are reported as ``load_duration``.
    """

    def __init__(self, model_path: Path, config: EngineConfig) -> None:
        self.model_path = model_path
        self.config = config
        self.load_seconds = 0.0
        self._copies: list[Any] = []
        self._free: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # The llama.cpp server inside xllamacpp always listens on a random loopback
        # port; an API key keeps anything but this process from using it.
        self._internal_key = secrets.token_urlsafe(24)

    @property
    def loaded(self) -> bool:
        """True once :meth:`load` has succeeded."""
        return bool(self._copies)

    def load(self) -> None:
        """Load the GGUF file once per copy (0.3-0.5 s each for SmolLM2-135M, ~3 s for Qwen2.5-Coder-1.5B)."""
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(self.model_path)
        params.n_ctx = self.config.num_ctx
        params.n_parallel = 1
        params.cpuparams.n_threads = self.config.threads
        params.cpuparams_batch.n_threads = self.config.batch_threads
        params.hostnames = ["127.0.0.1"]
        params.port = 0
        params.api_keys = [self._internal_key]
        params.verbosity = 0
        params.cache_prompt = self.config.cache_prompt
        # llama.cpp also keeps past prompts' KV state in a host-RAM cache of up to
        # 8 GiB by default: about 1 MB per distinct prompt, which looks like a leak.
        params.cache_ram_mib = PROMPT_RAM_CACHE_MIB if self.config.cache_prompt else 0
        started = time.perf_counter()
        try:
            copies = [xllamacpp.Server(params) for _ in range(self.config.num_parallel)]
        except Exception as exc:
            raise EngineError(f"cannot load {self.model_path}: {exc}") from exc
        self.load_seconds = time.perf_counter() - started
        self._copies = copies
        for copy in copies:
            self._free.put(copy)

    def close(self) -> None:
        """Free the model once every copy is idle (llama.cpp's loop threads are joined by the destructors)."""
        for _ in self._copies:
            self._free.get()
        self._copies = []

    def generate(
        self,
        kind: Literal["chat", "completion"],
        payload: Mapping[str, Any],
        on_chunk: ChunkCallback | None = None,
        json_schema: Mapping[str, Any] | None = None,
    ) -> tuple[dict[str, Any] | None, float]:
        """Run one OpenAI-style request on a free copy and return ``(result, seconds waited for it)``.

        Without ``on_chunk`` the request is non-streaming and the result is the
        completion dict (or an ``{"error": {...}}`` dict). With ``on_chunk`` the
        request streams: every chunk (or error dict) goes to the callback, which
        runs on the calling thread and may return True to stop, and the result is None.
        ``json_schema`` constrains the output through llguidance (see
        :func:`embedded_ollama.protocol.guided_schema` for the schema to pass).
        ``ValueError`` means llama.cpp rejected the request.
        """
        import xllamacpp

        request = dict(payload)
        request.setdefault("cache_prompt", self.config.cache_prompt)
        request["stream"] = on_chunk is not None
        if on_chunk is not None:
            request["stream_options"] = {"include_usage": True}
        if json_schema is not None:
            request["grammar"] = xllamacpp.json_schema_to_grammar(dict(json_schema))
        self._require_server()
        waited_from = time.perf_counter()
        server = self._free.get()
        waited = time.perf_counter() - waited_from
        try:
            handler = server.handle_chat_completions if kind == "chat" else server.handle_completions
            if on_chunk is None:
                return handler(request), waited
            handler(request, on_chunk)
            return None, waited
        finally:
            self._free.put(server)

    def count_chat_tokens(self, messages: list[dict[str, Any]]) -> int:
        """Number of prompt tokens the chat template produces for ``messages``."""
        answer = self._internal_post("/chat/completions/input_tokens", {"messages": messages})
        return int(answer["input_tokens"])

    def count_text_tokens(self, text: str) -> int:
        """Number of tokens of a raw prompt (special tokens added as for a completion)."""
        answer = self._internal_post("/tokenize", {"content": text, "add_special": True})
        return len(answer["tokens"])

    def _require_server(self) -> Any:
        """Any copy (for the token-counting helpers, which llama.cpp serves beside generation)."""
        if not self._copies:
            raise EngineError("the model is not loaded")
        return self._copies[0]

    def _internal_post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST to llama.cpp's own HTTP API (for helpers the Python binding lacks)."""
        base = self._require_server().listening_address
        request = urllib.request.Request(
            base + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self._internal_key}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", errors="replace")[:500]
            raise ValueError(f"tokenization failed: {detail}") from exc
        except OSError as exc:
            raise EngineError(f"llama.cpp helper endpoint {path} failed: {exc}") from exc
