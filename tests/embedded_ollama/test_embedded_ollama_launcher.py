"""``ensure_ollama`` starting the embedded server where nothing answers, then reusing it."""

from __future__ import annotations

import socket

import httpx
import pytest

from embedded_ollama import ensure_ollama

pytestmark = pytest.mark.model


def test_ensure_ollama_starts_then_reuses_then_stops() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    host = f"http://127.0.0.1:{port}"

    handle = ensure_ollama(host)
    assert handle is not None
    with handle:
        assert handle.host == host and handle.is_running()
        assert httpx.get(host + "/api/version").status_code == 200
        assert ensure_ollama(host) is None  # already answering: nothing new started
    assert not handle.is_running()
    handle.stop()  # idempotent
