"""One copy of a model in its own worker process: the server's handle on it, and what they share.

The server runs every copy of the resident model in a worker process of its own, an
``xllamacpp.Server`` (llama.cpp's server, one slot) that it reaches over llama.cpp's HTTP API on a
loopback port, with a key only the server knows. A process per copy, rather than several servers in
one process, because:

* **A crash stays in one copy.** Once, with two copies in one process, the whole server died inside
  llama.cpp without a trace, right after a model switch. A worker that dies is started again and
  the request is sent once more (:class:`CopyLost`), so the request is still answered, unless part
  of a streamed answer had already gone out (that stream ends with an error line).
* **Copies share no process-wide state.** xllamacpp's server code (depending on the build) installs
  SIGINT/SIGTERM handlers, keeps a static shutdown callback pointing at the last server created,
  and calls ``llama_backend_free()`` when a server stops: harmless with one server per process,
  racy with several.

The process itself is :mod:`embedded_ollama.worker_process`. It writes one JSON line
(``{"address": ...}``) to its stdout once the model is loaded, then serves until its stdin closes:
when the server stops it, or when the server dies. Its log and, if it crashes, ``faulthandler``'s
stacks go to the server's stderr (the server log).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import selectors
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

WORKER_KEY_ENV = "EMBEDDED_OLLAMA_WORKER_KEY"
"""Environment variable passing the API key to the worker (not argv, which any local user can read)."""

READY_TIMEOUT_SECONDS = 600.0
"""Longest a worker may take to load its model (Qwen2.5-Coder-1.5B takes ~3 s idle)."""

STOP_TIMEOUT_SECONDS = 10.0
"""Time a worker gets to exit after its stdin closes, before it is killed."""

HELPER_TIMEOUT_SECONDS = 30.0
"""Socket timeout of the token-counting helpers (generation has none: it may take minutes under load)."""

ChunkCallback = Callable[[dict[str, Any]], bool]
"""Receives each OpenAI-style stream chunk; returning True stops generation."""


class CopyLost(RuntimeError):
    """The worker process of a copy is gone (crashed or killed) or its connection broke."""


@dataclass(frozen=True)
class WorkerSettings:
    """How a worker loads its model: what ``xllamacpp.CommonParams`` gets."""

    model_path: str
    num_ctx: int
    threads: int
    batch_threads: int
    cache_prompt: bool
    cache_ram_mib: int


class WorkerCopy:
    """The server's handle on one worker process: start, stop, and send it requests."""

    def __init__(self, settings: WorkerSettings, key: str, label: str) -> None:
        self.settings = settings
        self.label = label
        """Which copy of which model, for log lines."""
        self._key = key
        self._process: subprocess.Popen[bytes] | None = None
        self.address = ""
        """``http://127.0.0.1:<port>`` of the worker's llama.cpp server."""

    def start(self) -> None:
        """Start the worker process (returns at once; :meth:`wait_ready` waits for the load)."""
        env = dict(os.environ)
        env[WORKER_KEY_ENV] = self._key
        command = [sys.executable, "-m", "embedded_ollama.worker_process", json.dumps(asdict(self.settings))]
        # its own session: a Ctrl+C in the terminal reaches the server, which stops its workers in order
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, start_new_session=True
        )

    def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        """Wait for the worker's address line; raises :class:`CopyLost` if it exits or takes too long."""
        process = self._require_process()
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:  # not select.select: it refuses descriptors >= 1024
            selector.register(process.stdout, selectors.EVENT_READ)
            readable = bool(selector.select(timeout))
        line = process.stdout.readline() if readable else b""
        try:
            address = str(json.loads(line)["address"]) if line else ""
        except (ValueError, KeyError, TypeError):
            address = ""
        if not address:
            self.stop()
            if not readable:
                reason = f"did not load in {timeout:.0f} s"
            elif line:
                reason = f"reported {line[:200]!r} instead of its address"
            else:
                reason = f"exited with code {process.returncode}"
            raise CopyLost(f"{self.label}: the worker {reason} (its log is in the server log)")
        self.address = address

    @property
    def pid(self) -> int | None:
        """The worker's process id, while it runs."""
        return self._process.pid if self._process is not None else None

    def alive(self) -> bool:
        """True while the worker process runs with its model loaded."""
        return bool(self.address) and self._process is not None and self._process.poll() is None

    def ask_to_stop(self) -> None:
        """Close the worker's stdin: it frees the model and exits (:meth:`stop` waits for that)."""
        self.address = ""
        if self._process is not None and self._process.stdin is not None:
            with contextlib.suppress(OSError):  # a dead worker's pipe may be broken already
                self._process.stdin.close()

    def stop(self) -> None:
        """Ask the worker to stop and wait until it has exited; kill it if it lingers."""
        self.ask_to_stop()
        process, self._process = self._process, None
        if process is None:
            return
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            logger.warning("%s: worker %d did not exit; killing it", self.label, process.pid)
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def request(
        self, path: str, body: Mapping[str, Any], on_chunk: ChunkCallback | None = None
    ) -> dict[str, Any] | None:
        """POST an OpenAI-style request to the worker's llama.cpp server.

        Without ``on_chunk``: returns the response dict (llama.cpp's ``{"error": {...}}`` on failure).
        With it: every stream chunk (or error dict) goes to ``on_chunk`` until it returns True or the
        stream ends, and returns None. Raises :class:`CopyLost` if the worker cannot be reached.
        """
        connection = self._connect(timeout=None)
        try:
            try:
                connection.request("POST", path, body=json.dumps(body), headers=self._headers())
                response = connection.getresponse()
                if on_chunk is None or response.status != http.client.OK:
                    answer = _error_or_json(response.status, response.read())
                    if on_chunk is None:
                        return answer
                    on_chunk(answer)
                    return None
                _stream_events(response, on_chunk, self.label)
                return None
            except (http.client.HTTPException, ConnectionError) as exc:
                raise CopyLost(f"{self.label}: connection to the worker broke ({exc!r})") from exc
            except OSError as exc:
                raise CopyLost(f"{self.label}: the worker cannot be reached ({exc})") from exc
        finally:
            connection.close()  # closing mid-stream is how llama.cpp learns to stop generating

    def helper_post(self, path: str, body: Mapping[str, Any]) -> tuple[int, bytes]:
        """POST to one of llama.cpp's helper endpoints (tokenize, ...); returns ``(status, body)``."""
        connection = self._connect(timeout=HELPER_TIMEOUT_SECONDS)
        try:
            connection.request("POST", path, body=json.dumps(body), headers=self._headers())
            response = connection.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, OSError) as exc:
            raise CopyLost(f"{self.label}: helper endpoint {path} failed ({exc!r})") from exc
        finally:
            connection.close()

    def _connect(self, timeout: float | None) -> http.client.HTTPConnection:
        if not self.address:
            raise CopyLost(f"{self.label}: the worker is not running")
        parts = urlsplit(self.address)
        return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)

    def _headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", "Authorization": f"Bearer {self._key}"}

    def _require_process(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise CopyLost(f"{self.label}: the worker was not started")
        return self._process


def worker_pids(server_pid: int) -> list[int]:
    """Process ids of a running server's model workers (Linux ``/proc``; for tests and benchmarks).

    Read from every ``/proc/<pid>/stat``: a worker started by a request thread is listed under that
    thread in ``/proc/<server>/task/<tid>/children``, not under the server's main thread.
    """
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == server_pid and b"embedded_ollama.worker_process" in command:
            found.append(int(stat.parent.name))
    return found


def _server_error(code: int, message: str) -> dict[str, Any]:
    """llama.cpp's error shape, for failures that did not come with one."""
    return {"error": {"code": code, "message": message, "type": "server_error"}}


def _error_or_json(status: int, data: bytes) -> dict[str, Any]:
    """A response body as a dict; a non-JSON failure becomes llama.cpp's ``{"error": {...}}`` shape."""
    try:
        answer = json.loads(data)
    except ValueError:
        answer = None
    if isinstance(answer, dict) and (status == http.client.OK or "error" in answer):
        return answer
    return _server_error(status, data.decode("utf-8", errors="replace")[:500] or f"HTTP {status}")


def _stream_events(response: http.client.HTTPResponse, on_chunk: ChunkCallback, label: str) -> None:
    """Hand each server-sent event of a llama.cpp stream to ``on_chunk`` until it says stop.

    llama.cpp ends a stream with ``data: [DONE]`` and marks its end by closing the connection, so a
    worker that dies mid-answer looks like a normal end of the body: a stream without ``[DONE]`` is
    taken for a lost copy (:class:`CopyLost`).
    """
    for raw in response:
        line = raw.strip()
        if not line or line.startswith(b":"):
            continue
        field, _, value = line.partition(b":")
        value = value.strip()
        if field == b"data" and value == b"[DONE]":
            return
        try:
            event = json.loads(value)
        except ValueError:
            event = _server_error(500, value.decode("utf-8", errors="replace"))
        if field == b"error" and not (isinstance(event, dict) and "error" in event):
            event = {"error": event}
        if on_chunk(event):
            return
    raise CopyLost(f"{label}: the stream ended before llama.cpp's [DONE]")
