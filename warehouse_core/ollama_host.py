"""Which Ollama server a host setting means, resolved the way the official ``ollama`` client does.

Used by the LLM stages (vars ``llm_hosts`` / ``llm_host``), by the launcher that finds or starts
the embedded server, and for every log line and error message that names the server.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"


def resolve_host(host: str | None = None) -> str:
    """The base URL for ``host``: ``None`` or ``""`` means ``$OLLAMA_HOST``, then the default.

    A missing scheme means ``http`` and a missing port 11434 (80/443 when a scheme is given),
    as in the ollama client; IPv6 literals keep their brackets.
    """
    raw = (host or os.environ.get("OLLAMA_HOST", "")).strip() or DEFAULT_OLLAMA_HOST
    had_scheme = "://" in raw
    parts = urlsplit(raw if had_scheme else f"http://{raw}")
    scheme = parts.scheme or "http"
    hostname = parts.hostname or "127.0.0.1"
    if ":" in hostname:
        hostname = f"[{hostname}]"
    default_port = (443 if scheme == "https" else 80) if had_scheme else 11434
    port = parts.port or default_port
    return f"{scheme}://{hostname}:{port}{parts.path.rstrip('/')}"


@dataclass(frozen=True)
class HostSetting:
    """One Ollama host to send LLM requests to, and how many at once (None: the caller's default)."""

    url: str
    concurrency: int | None = None


def resolve_hosts(hosts: Sequence[str] | str | None = None, host: str | None = None) -> list[HostSetting]:
    """The hosts to use, in order of precedence: ``hosts`` (var ``llm_hosts``), ``host`` (var
    ``llm_host``), ``$OLLAMA_HOSTS`` (comma-separated), then the one host of :func:`resolve_host`
    (``$OLLAMA_HOST``, then the default).

    Each entry is a host as :func:`resolve_host` reads it, optionally followed by ``=N`` for the
    requests it may take at once (``gpu1:11434=4``). Raises ``ValueError`` for a bad ``=N`` or a
    host given twice.
    """
    if isinstance(hosts, str):
        hosts = hosts.split(",")
    entries = [entry.strip() for entry in hosts or () if entry and entry.strip()]
    if not entries and host:
        entries = [host.strip()]
    if not entries:
        entries = [entry.strip() for entry in os.environ.get("OLLAMA_HOSTS", "").split(",") if entry.strip()]
    settings = [_host_setting(entry) for entry in entries] or [HostSetting(resolve_host(None))]
    seen: set[str] = set()
    for setting in settings:
        if setting.url in seen:
            raise ValueError(f"Ollama host {setting.url} is listed twice (var llm_hosts or $OLLAMA_HOSTS)")
        seen.add(setting.url)
    return settings


def _host_setting(entry: str) -> HostSetting:
    """``host`` or ``host=N``."""
    address, equals, count = entry.rpartition("=")
    if not equals:
        return HostSetting(resolve_host(entry))
    if not count.strip().isdigit() or int(count) < 1 or not address.strip():
        raise ValueError(f"Ollama host entry {entry!r}: write host or host=N with N a whole number >= 1")
    return HostSetting(resolve_host(address.strip()), int(count))
