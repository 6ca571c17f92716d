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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, TypeVar

from .gguf_meta import read_gguf_metadata
from .worker import ChunkCallback, CopyLost, WorkerCopy, WorkerSettings

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_NUM_CTX = 4096
"""Context a request gets when it does not ask for one (Ollama's default ``num_ctx``); a request may
ask for more, up to the model's trained context (:attr:`ModelFile.context_length`)."""

PROMPT_RAM_CACHE_MIB = 256
"""Host-RAM prompt cache allowed when ``cache_prompt`` is on (llama.cpp's default is 8192)."""


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
    longest_token_bytes: int = 0
    """Bytes of text the longest token stands for: a context of n tokens holds at most n times this."""

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
            longest_token_bytes=meta.longest_token_bytes,
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
(~300 against ~170 tokens/s). Measured with SmolLM2-135M on 2 cores, docs/embedded-models.md, "Speed under load".
"""


def default_num_parallel() -> int:
    """Copies of the model serving requests at once, unless ``--num-parallel`` says otherwise: one per core, at most two.

    Two copies with one generation thread each use both of two cores: the main job's LLM stages ran
    1.32x faster (113.5 -> 85.7 s, SmolLM2-135M, back to back; docs/benchmarks.md).
    More copies than cores only share them. Each copy runs in its own worker process
    (:mod:`embedded_ollama.worker`), so one copy's crash cannot take the server down.
    """
    return max(1, min(2, os.cpu_count() or 1))


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
    num_parallel: int = field(default_factory=default_num_parallel)
    """Requests served at once, each on its own copy of the model (see :class:`Engine`)."""


class EngineError(RuntimeError):
    """The inference engine failed in a way that is not the client's fault."""


class Engine:
    """The loaded model: ``num_parallel`` independent copies, each serving one request at a time.

    Each copy is a worker process running an ``xllamacpp.Server`` (llama.cpp's server with one slot:
    its own context and KV cache, ``threads`` generation threads); see :mod:`embedded_ollama.worker`
    for why a process per copy. llama.cpp's own way to serve several requests, several slots of one
    context, decodes them together in one batch on that context's threads: with one generation
    thread (see :data:`GENERATION_THREADS`) that is one core for every request, and with two the
    threads wait at barriers again. Copies share nothing, so two copies with one thread each keep
    two cores busy without waiting on each other (1.3x the calls per second of one copy on the main
    job's prompts), and every answer is the one a lone request gets, by construction. The price is
    RAM: each copy holds its own weights and KV cache (~330 MiB per copy of SmolLM2-135M).
    ``generate`` waits for a free copy; the seconds waited are reported as ``load_duration``. A copy
    whose worker died is started again and the request sent once more.
    """

    def __init__(self, model_path: Path, config: EngineConfig, name: str = "") -> None:
        self.model_path = model_path
        self.config = config
        self.name = name or model_path.name
        self.load_seconds = 0.0
        self._copies: list[WorkerCopy] = []
        self._free: queue.SimpleQueue[WorkerCopy] = queue.SimpleQueue()
        # each worker's llama.cpp server listens on a random loopback port; an API key keeps
        # anything but this process from using it
        self._internal_key = secrets.token_urlsafe(24)

    @property
    def loaded(self) -> bool:
        """True once :meth:`load` has succeeded."""
        return bool(self._copies)

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of the running worker processes (one per copy)."""
        return [pid for copy in self._copies if copy.alive() and (pid := copy.pid) is not None]

    def load(self) -> None:
        """Start one worker per copy and wait until each has loaded the file (0.3-0.6 s for SmolLM2-135M, ~3 s for Qwen2.5-Coder-1.5B)."""
        settings = WorkerSettings(
            model_path=str(self.model_path),
            num_ctx=self.config.num_ctx,
            threads=self.config.threads,
            batch_threads=self.config.batch_threads,
            cache_prompt=self.config.cache_prompt,
            # llama.cpp also keeps past prompts' KV state in a host-RAM cache of up to
            # 8 GiB by default: about 1 MB per distinct prompt, which looks like a leak.
            cache_ram_mib=PROMPT_RAM_CACHE_MIB if self.config.cache_prompt else 0,
        )
        count = self.config.num_parallel
        copies = [WorkerCopy(settings, self._internal_key, f"{self.name} copy {n + 1}/{count}") for n in range(count)]
        started = time.perf_counter()
        try:
            for copy in copies:
                copy.start()
            for copy in copies:
                copy.wait_ready()
        except (CopyLost, OSError) as exc:
            for copy in copies:
                copy.stop()
            raise EngineError(f"cannot load {self.model_path}: {exc}") from exc
        self.load_seconds = time.perf_counter() - started
        self._copies = copies
        for copy in copies:
            self._free.put(copy)

    def close(self) -> None:
        """Stop every worker once its copy is idle (all asked at once, then waited for)."""
        idle = [self._free.get() for _ in self._copies]
        for copy in idle:
            copy.ask_to_stop()
        for copy in idle:
            copy.stop()
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
        Raises :class:`EngineError` if the copy's worker died twice, or once after part of a
        stream was delivered.
        """
        import xllamacpp

        request = dict(payload)
        request.setdefault("cache_prompt", self.config.cache_prompt)
        request["stream"] = on_chunk is not None
        if on_chunk is not None:
            request["stream_options"] = {"include_usage": True}
        if json_schema is not None:
            request["grammar"] = xllamacpp.json_schema_to_grammar(dict(json_schema))
        path = "/v1/chat/completions" if kind == "chat" else "/v1/completions"
        if on_chunk is None:
            return self._on_free_copy(lambda copy: copy.request(path, request), resend=lambda: True)
        delivered: list[bool] = []
        stream_to = on_chunk

        def forward(chunk: dict[str, Any]) -> bool:
            delivered.append(True)
            return stream_to(chunk)

        return self._on_free_copy(lambda copy: copy.request(path, request, forward), resend=lambda: not delivered)

    def _on_free_copy(self, work: Callable[[WorkerCopy], T], resend: Callable[[], bool]) -> tuple[T, float]:
        """Run ``work`` on a free copy: ``(its result, seconds waited for the copy)``.

        If the copy's worker is gone, it is started again and ``work`` run once more, as long as
        ``resend()`` says that is safe (nothing of a stream delivered yet); otherwise, or if the
        second try fails too, raises :class:`EngineError`.
        """
        if not self._copies:
            raise EngineError("the model is not loaded")
        waited_from = time.perf_counter()
        copy = self._free.get()
        waited = time.perf_counter() - waited_from
        try:
            try:
                return work(copy), waited
            except CopyLost as exc:
                if not resend():
                    raise EngineError(f"{exc}; the request was not answered") from exc
                logger.warning("%s; starting the copy again and resending the request", exc)
            self._restart(copy)
            try:
                return work(copy), waited
            except CopyLost as exc:
                raise EngineError(f"{exc} again after a restart; the request was not answered") from exc
        finally:
            self._free.put(copy)

    def _restart(self, copy: WorkerCopy) -> None:
        """Start a fresh worker for a copy whose worker is gone (raises :class:`EngineError` if it cannot load)."""
        copy.stop()
        try:
            copy.start()
            copy.wait_ready()
        except (CopyLost, OSError) as exc:
            raise EngineError(f"cannot restart {copy.label}: {exc}") from exc

    def count_chat_tokens(self, messages: list[dict[str, Any]]) -> int:
        """Number of prompt tokens the chat template produces for ``messages``."""
        answer = self._internal_post("/chat/completions/input_tokens", {"messages": messages})
        return int(answer["input_tokens"])

    def count_text_tokens(self, text: str) -> int:
        """Number of tokens of a raw prompt (special tokens added as for a completion)."""
        answer = self._internal_post("/tokenize", {"content": text, "add_special": True})
        return len(answer["tokens"])

    def _internal_post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST to llama.cpp's own HTTP API on a free copy (for helpers the Python binding lacks)."""
        (status, data), _waited = self._on_free_copy(lambda copy: copy.helper_post(path, body), resend=lambda: True)
        if status != 200:
            detail = data.decode("utf-8", errors="replace")[:500]
            raise ValueError(f"tokenization failed: {detail}")
        return json.loads(data)
