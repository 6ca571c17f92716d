"""Fixtures for the embedded Ollama tests: one real server per session, on a free loopback port."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:  # let `pytest` (not only `python -m pytest`) import the package
    sys.path.insert(0, str(_ROOT))

import ollama  # noqa: E402

from embedded_ollama import EmbeddedHandle, start_on_free_port  # noqa: E402


@pytest.fixture(scope="session")
def embedded_ollama_server() -> Iterator[EmbeddedHandle]:
    """The embedded server, started through the launcher and stopped after the session."""
    with start_on_free_port() as handle:
        yield handle


@pytest.fixture(scope="session")
def embedded_ollama_client(embedded_ollama_server: EmbeddedHandle) -> ollama.Client:
    """The official ollama client pointed at the embedded server."""
    return ollama.Client(host=embedded_ollama_server.host)
