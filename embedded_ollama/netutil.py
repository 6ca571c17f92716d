"""Small network helpers shared by the server and the launcher."""

from __future__ import annotations

import ipaddress
import socket


def is_loopback_host(host: str) -> bool:
    """True if ``host`` names a loopback address (``127.0.0.0/8``, ``::1`` or ``localhost``)."""
    candidate = host.strip().strip("[]")
    if candidate.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(candidate).is_loopback
    except ValueError:
        return False


def address_family(host: str) -> socket.AddressFamily:
    """``AF_INET6`` for an IPv6 literal, else ``AF_INET``."""
    return socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET


def bind_host(host: str) -> str:
    """The literal address to bind for ``host`` (``localhost`` becomes ``127.0.0.1``)."""
    candidate = host.strip().strip("[]")
    return "127.0.0.1" if candidate.lower() == "localhost" else candidate


def free_loopback_port() -> int:
    """A loopback port nothing listens on right now (to point a client at "no Ollama here")."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def url_host(host: str) -> str:
    """``host`` as written in a URL (IPv6 literals in brackets)."""
    candidate = host.strip().strip("[]")
    return f"[{candidate}]" if ":" in candidate else candidate
