"""Which Ollama server a host setting means, resolved the way the official ``ollama`` client does.

Used by the LLM stages (var ``llm_host``), by the launcher that finds or starts the embedded
server, and for every log line and error message that names the server.
"""

from __future__ import annotations

import os
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
