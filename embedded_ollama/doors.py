"""Who may drive the server, and how much and how slowly they may send: the checks made on every
request before it reaches a route.

* **Origin and Host, as Ollama checks them.** A browser page from another site carries an ``Origin``
  header: it is refused (403) unless it is a loopback origin, an app origin or listed in
  ``OLLAMA_ORIGINS``, so no web page the user visits can drive the server. A ``Host`` that names
  anything but this machine (DNS rebinding: ``evil.example`` resolving to 127.0.0.1) is refused too,
  so such a page cannot read the answers either. Ollama's ``allowedHostsMiddleware`` and its CORS
  configuration (``envconfig.AllowedOrigins``), one difference: Ollama also accepts a ``Host`` naming
  a public address of one of the machine's network interfaces, which this server never listens on.
* **Bodies are capped however they are framed**: a ``Content-Length`` that is not a number is a 400, a
  longer one than :data:`MAX_BODY_BYTES` a 413 before anything is read; a chunked body is read chunk
  by chunk against the same cap, and a chunk size that is not hexadecimal (``-1``) is a 400.
* **Deadlines**: a connection gets :data:`IDLE_TIMEOUT_SECONDS` to start a request and
  :data:`REQUEST_TIMEOUT_SECONDS` to finish sending it (request line, headers and body), then it is
  closed, so stalled or trickling clients cannot hold threads forever; each write of an answer must
  go through within :data:`WRITE_TIMEOUT_SECONDS`.
"""

from __future__ import annotations

import io
import ipaddress
import re
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from typing import BinaryIO

from .protocol import ApiError

MAX_BODY_BYTES = 16 * 1024 * 1024
"""Largest request body accepted: several times the text a served model's context can hold (SmolLM2's
8192 tokens hold at most 0.66 MB, 81 bytes for its longest token); images, which could be larger, are refused."""

IDLE_TIMEOUT_SECONDS = 60.0
"""A connection that has not started a request this long after opening (or after its last answer) is closed."""

REQUEST_TIMEOUT_SECONDS = 30.0
"""Time to send a whole request once it has started (on loopback a 16 MB body takes milliseconds)."""

WRITE_TIMEOUT_SECONDS = 60.0
"""Longest one write of an answer may wait for a client that does not read."""

LISTEN_BACKLOG = 1024
"""Connections the kernel holds for the server while its accept loop is busy (the socketserver default
of 5 made 3 of 100 simultaneous clients wait seconds, then time out); Linux caps it at ``somaxconn``."""

_MAX_CHUNK_LINE = 1024
_MAX_TRAILER_LINES = 64
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_DIGITS = re.compile(r"[0-9]{1,19}")

_LOOPBACK_ORIGIN_HOSTS = ("localhost", "127.0.0.1", "0.0.0.0")
_APP_ORIGINS = ("app://*", "file://*", "tauri://*", "vscode-webview://*", "vscode-file://*")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal")
_PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(network) for network in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)

CORS_ALLOWED_HEADERS = (
    "Authorization, Content-Type, User-Agent, Accept, X-Requested-With, OpenAI-Beta, x-stainless-arch, "
    "x-stainless-async, x-stainless-custom-poll-interval, x-stainless-helper-method, x-stainless-lang, "
    "x-stainless-os, x-stainless-package-version, x-stainless-poll-helper, x-stainless-retry-count, "
    "x-stainless-runtime, x-stainless-runtime-version, x-stainless-timeout"
)
"""Request headers a cross-origin page may send (Ollama's list: its own and the OpenAI SDK's)."""


def allowed_origins(ollama_origins: str = "") -> tuple[str, ...]:
    """Origins a browser page may call from: ``OLLAMA_ORIGINS`` (comma-separated, ``*`` wildcards), then
    Ollama's defaults (http/https on localhost, 127.0.0.1 and 0.0.0.0, any port, and app schemes)."""
    listed = [origin.strip() for origin in ollama_origins.split(",") if origin.strip()]
    defaults = [
        f"{scheme}://{host}{port}"
        for host in _LOOPBACK_ORIGIN_HOSTS
        for scheme, port in (("http", ""), ("https", ""), ("http", ":*"), ("https", ":*"))
    ]
    return (*listed, *defaults, *_APP_ORIGINS)


@dataclass(frozen=True)
class DoorPolicy:
    """The limits every request meets (fixed for the life of the server)."""

    origins: tuple[str, ...] = field(default_factory=allowed_origins)
    hostname: str = field(default_factory=lambda: socket.gethostname().lower())
    max_body_bytes: int = MAX_BODY_BYTES
    idle_timeout: float = IDLE_TIMEOUT_SECONDS
    request_timeout: float = REQUEST_TIMEOUT_SECONDS
    write_timeout: float = WRITE_TIMEOUT_SECONDS

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> DoorPolicy:
        """The default limits, with ``OLLAMA_ORIGINS`` read as Ollama reads it."""
        return cls(origins=allowed_origins(environ.get("OLLAMA_ORIGINS", "")))

    def origin_allowed(self, origin: str, host: str) -> bool:
        """True if a request with this ``Origin`` (and ``Host``) may be served (gin-contrib/cors's rule)."""
        origin = origin.strip().lower()
        if origin in (f"http://{host.lower()}", f"https://{host.lower()}"):
            return True  # same origin: not a cross-site request (the Host check still applies)
        for pattern in (allowed.lower() for allowed in self.origins):
            if pattern == "*" or pattern == origin:
                return True
            prefix, star, suffix = pattern.partition("*")
            if (
                star
                and len(origin) >= len(prefix) + len(suffix)
                and origin.startswith(prefix)
                and origin.endswith(suffix)
            ):
                return True
        return False

    def host_allowed(self, host_header: str | None) -> bool:
        """True if the ``Host`` header names this machine (Ollama's ``allowedHostsMiddleware`` on loopback)."""
        host = _strip_port(host_header or "").lower()
        if host in ("", "localhost") or host == self.hostname or host.endswith(_LOCAL_SUFFIXES):
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return (
            address.is_loopback
            or address.is_unspecified
            or any(address.version == net.version and address in net for net in _PRIVATE_NETWORKS)
        )


def _strip_port(host: str) -> str:
    """``host`` of ``host:port``, ``[v6]:port``, ``[v6]`` or a bare IPv6 address (Go's SplitHostPort, else as is)."""
    host = host.strip()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


# --------------------------------------------------------------------------- bodies


class BodyError(ApiError):
    """A request body that is malformed, too large or too slow: answered, then the connection is closed."""


def read_body(rfile: BinaryIO, headers: Message, limit: int) -> bytes:
    """The request body, however it is framed, refused past ``limit`` bytes (:class:`BodyError`)."""
    codings = headers.get_all("Transfer-Encoding") or []
    lengths = headers.get_all("Content-Length") or []
    if codings:
        coding = ",".join(codings).strip().lower()
        if coding != "chunked":
            raise BodyError(
                501, f"unsupported Transfer-Encoding {coding!r}: send the body chunked or with a Content-Length"
            )
        if lengths:
            raise BodyError(400, "a request cannot have both Content-Length and Transfer-Encoding")
        return _read_chunked(rfile, limit)
    if not lengths:
        return b""
    values = {value.strip() for value in lengths}
    if len(values) > 1:
        raise BodyError(400, f"conflicting Content-Length headers: {', '.join(sorted(values))}")
    text = values.pop()
    if not _DIGITS.fullmatch(text):
        raise BodyError(400, f"invalid Content-Length header {text[:40]!r}: it must be a number of bytes")
    length = int(text)
    if length > limit:
        raise BodyError(413, f"request body too large: {length:,} bytes, the limit is {limit:,}")
    data = rfile.read(length)
    if len(data) < length:
        raise BodyError(400, f"request body ended after {len(data):,} of {length:,} bytes")
    return data


def _read_chunked(rfile: BinaryIO, limit: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        line = rfile.readline(_MAX_CHUNK_LINE + 1)
        if not line.endswith(b"\n"):
            raise BodyError(400, "chunked body cut short, or a chunk size line too long")
        size_text = line.split(b";", 1)[0].strip()
        if not _HEX.fullmatch(size_text):
            raise BodyError(400, f"invalid chunk size {size_text[:20].decode('latin-1')!r}: it must be hexadecimal")
        size = int(size_text, 16)
        if size == 0:
            _skip_trailers(rfile)
            return b"".join(parts)
        total += size
        if total > limit:
            raise BodyError(413, f"request body too large: more than {limit:,} bytes")
        data = rfile.read(size)
        if len(data) < size or rfile.readline(3) not in (b"\r\n", b"\n"):
            raise BodyError(400, "chunked body cut short, or a chunk not followed by CRLF")
        parts.append(data)


def _skip_trailers(rfile: BinaryIO) -> None:
    for _ in range(_MAX_TRAILER_LINES):
        line = rfile.readline(_MAX_CHUNK_LINE + 1)
        if line in (b"\r\n", b"\n"):
            return
        if not line.endswith(b"\n"):
            break
    raise BodyError(400, "chunked body trailer cut short or too long")


# --------------------------------------------------------------------------- deadlines


class DeadlineReader(io.RawIOBase):
    """A connection's receiving side; each read fails with ``TimeoutError`` once :attr:`deadline` has passed."""

    def __init__(self, connection: socket.socket) -> None:
        super().__init__()
        self._connection = connection
        self.deadline: float | None = None
        """``time.monotonic()`` by which the current read must be done (None: no limit)."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the client did not send its request in time")
            self._connection.settimeout(remaining)
        return self._connection.recv_into(buffer)
