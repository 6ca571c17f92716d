"""Find an Ollama server, or start the embedded one as a subprocess.

``ensure_ollama()`` is what jobs and test fixtures call: if something answers
Ollama's ``/api/version`` at the host (``OLLAMA_HOST`` by default) it is used
as is; otherwise the embedded server is started there, on loopback only.
``start_on_free_port()`` starts a private instance on a free port.

This module does not import ``xllamacpp``: the model lives in the child process.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from warehouse_core.children import die_with_parent
from warehouse_core.ollama_host import resolve_host

from .netutil import is_loopback_host

logger = logging.getLogger(__name__)

DEFAULT_STARTUP_TIMEOUT = 60.0
_PROJECT_ROOT = Path(__file__).resolve().parent.parent


class EmbeddedOllamaError(RuntimeError):
    """No Ollama is reachable and the embedded one could not (or may not) be started."""


def ollama_version(host: str, timeout: float = 1.0) -> str | None:
    """The version reported by ``GET {host}/api/version``, or None if nothing Ollama-like answers."""
    try:
        with urllib.request.urlopen(f"{host}/api/version", timeout=timeout) as response:
            payload = json.loads(response.read())
    except (OSError, ValueError):
        return None
    version = payload.get("version") if isinstance(payload, dict) else None
    return str(version) if version is not None else None


def _port_in_use(hostname: str, port: int) -> bool:
    """True if something accepts TCP connections on ``hostname:port``."""
    try:
        with socket.create_connection((hostname, port), timeout=0.5):
            return True
    except OSError:
        return False


class EmbeddedHandle:
    """A running embedded server subprocess; ``stop()`` it or use it as a context manager."""

    def __init__(self, host: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.host = host
        """Base URL, e.g. ``http://127.0.0.1:45123``; pass it to ``ollama.Client(host=...)``."""
        self.process = process
        self.log_path = log_path
        """File receiving the server's log (kept if the server fails)."""
        self._stopped = False

    @property
    def pid(self) -> int:
        """Process id of the server."""
        return self.process.pid

    def is_running(self) -> bool:
        """True while the subprocess is alive."""
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after ``timeout`` s). Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        _LIVE_HANDLES.discard(self)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                logger.warning("embedded Ollama (pid %d) ignored SIGTERM; killing it", self.pid)
                self.process.kill()
                self.process.wait(timeout=timeout)
        if self.process.returncode in (0, -15):  # clean exit: drop the log and its temp dir
            self.log_path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                self.log_path.parent.rmdir()
        logger.info("embedded Ollama at %s stopped", self.host)

    def __enter__(self) -> EmbeddedHandle:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        return f"EmbeddedHandle(host={self.host!r}, pid={self.pid}, {state})"


_LIVE_HANDLES: set[EmbeddedHandle] = set()  # stopped at exit if the caller forgot
_ATEXIT_LOCK = threading.Lock()
_atexit_registered = False


def _stop_all() -> None:
    for handle in list(_LIVE_HANDLES):
        handle.stop()


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _spawn_server(hostname: str, port: int, workdir: Path, extra_args: list[str] | None) -> subprocess.Popen[bytes]:
    """``python -m embedded_ollama`` as a child that reports its URL in ``workdir/ready.json``."""
    command = [
        sys.executable,
        "-m",
        "embedded_ollama",
        "--host",
        hostname,
        "--port",
        str(port),
        "--ready-file",
        str(workdir / "ready.json"),
        "--parent-pid",
        str(os.getpid()),
        *(extra_args or []),
    ]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    # Killed however we are (SIGKILL included), the server gets SIGTERM and shuts down with its workers.
    # Linux sends it when the starting *thread* ends, so only from the main thread; from another thread
    # the server's own --parent-pid watch (1 s) is what stops it.
    on_main_thread = threading.current_thread() is threading.main_thread()
    with open(workdir / "server.log", "ab") as log:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=env,
            preexec_fn=die_with_parent() if on_main_thread else None,
        )


def _register(handle: EmbeddedHandle) -> None:
    """Remember a running server so it is stopped at exit if the caller forgets."""
    global _atexit_registered
    with _ATEXIT_LOCK:
        _LIVE_HANDLES.add(handle)
        if not _atexit_registered:
            atexit.register(_stop_all)
            _atexit_registered = True


def start_embedded_server(
    hostname: str = "127.0.0.1",
    port: int = 11434,
    *,
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
    extra_args: list[str] | None = None,
) -> EmbeddedHandle:
    """Start ``python -m embedded_ollama`` on ``hostname:port`` and wait until it answers.

    ``port=0`` picks a free port (the child reports the one it bound).
    Raises :class:`EmbeddedOllamaError` if the address is not loopback or the
    server does not answer ``/api/version`` within ``startup_timeout`` seconds.
    """
    if not is_loopback_host(hostname):
        raise EmbeddedOllamaError(
            f"refusing to start the embedded Ollama on {hostname}: it only binds loopback addresses"
        )
    workdir = Path(tempfile.mkdtemp(prefix="embedded-ollama-"))
    ready_file, log_path = workdir / "ready.json", workdir / "server.log"
    process = _spawn_server(hostname, port, workdir, extra_args)
    deadline = time.monotonic() + startup_timeout
    host: str | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmbeddedOllamaError(
                f"embedded Ollama exited with code {process.returncode} before answering; log {log_path}:\n"
                + _log_tail(log_path)
            )
        if host is None and ready_file.exists():
            host = json.loads(ready_file.read_text())["url"]
        if host is not None and ollama_version(host, timeout=1.0) is not None:
            handle = EmbeddedHandle(host, process, log_path)
            _register(handle)
            ready_file.unlink(missing_ok=True)
            logger.info("embedded Ollama started at %s (pid %d)", host, process.pid)
            return handle
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise EmbeddedOllamaError(
        f"embedded Ollama did not answer within {startup_timeout:.0f} s; log {log_path}:\n" + _log_tail(log_path)
    )


def start_on_free_port(
    *, startup_timeout: float = DEFAULT_STARTUP_TIMEOUT, extra_args: list[str] | None = None
) -> EmbeddedHandle:
    """Start a private embedded server on a free loopback port (for tests and isolated jobs).

    ``extra_args`` go to the server's command line, e.g. ``["--threads", "2"]``.
    """
    return start_embedded_server("127.0.0.1", 0, startup_timeout=startup_timeout, extra_args=extra_args)


def ensure_ollama(
    host: str | None = None,
    start_embedded: bool = True,
    *,
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
) -> EmbeddedHandle | None:
    """Make sure an Ollama API answers at ``host``.

    Returns None when a server (real Ollama or an embedded one started
    earlier) already answers ``/api/version`` there: use it, nothing to stop.
    Otherwise, if ``start_embedded``, starts the embedded server on that
    address (which must be loopback) and returns its handle; the caller stops
    it (or uses ``with``). Raises :class:`EmbeddedOllamaError` when nothing
    answers and nothing may or can be started.
    """
    url = resolve_host(host)
    version = ollama_version(url)
    if version is not None:
        logger.info("using the Ollama server at %s (version %s)", url, version)
        return None
    parts = urlsplit(url)
    hostname, port = parts.hostname or "", parts.port or 11434
    if not start_embedded:
        raise EmbeddedOllamaError(f"no Ollama server answers at {url} (and start_embedded is False)")
    if parts.scheme != "http" or parts.path not in ("", "/") or not is_loopback_host(hostname):
        raise EmbeddedOllamaError(
            f"no Ollama server answers at {url}; the embedded server can only be started on a plain "
            "http loopback address (e.g. http://127.0.0.1:11434)"
        )
    if _port_in_use(hostname, port):
        raise EmbeddedOllamaError(f"{hostname}:{port} is taken by something that does not answer like Ollama")
    return start_embedded_server(hostname, port, startup_timeout=startup_timeout)
