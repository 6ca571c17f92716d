"""Fixtures for the embedded Ollama tests: one real server per session, on a free loopback port."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:  # let `pytest` (not only `python -m pytest`) import the package
    sys.path.insert(0, str(_ROOT))

import ollama  # noqa: E402

from embedded_ollama import EmbeddedHandle, start_on_free_port  # noqa: E402
from embedded_ollama.catalog import SMOLLM2_Q8_0, default_models_dir  # noqa: E402
from embedded_ollama.install import prepare_default_model  # noqa: E402

SERVER_COPIES = 2
"""Requests the test server runs at once (``--num-parallel``)."""


@pytest.fixture(scope="session")
def embedded_server_copies() -> int:
    """Copies of the model the test server runs (requests it serves at once)."""
    return SERVER_COPIES


@pytest.fixture(scope="session")
def embedded_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private models folder holding the default Q8_0 file only (no opt-in model, whatever is installed)."""
    problem = prepare_default_model(default_models_dir())
    assert problem is None, problem
    folder = tmp_path_factory.mktemp("models")
    source = SMOLLM2_Q8_0.path(default_models_dir())
    target = SMOLLM2_Q8_0.path(folder)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
    return folder


@pytest.fixture(scope="session")
def embedded_ollama_server(embedded_models_dir: Path) -> Iterator[EmbeddedHandle]:
    """The embedded server, started through the launcher and stopped after the session.

    Two copies of the model (``--num-parallel 2``, what a machine with two or more cores gets by
    default; named here so a one-core runner tests the same), so the tests cover requests served
    side by side.
    """
    args = ["--models-dir", str(embedded_models_dir), "--num-parallel", str(SERVER_COPIES)]
    with start_on_free_port(extra_args=args) as handle:
        yield handle


@pytest.fixture(scope="session")
def embedded_ollama_client(embedded_ollama_server: EmbeddedHandle) -> ollama.Client:
    """The official ollama client pointed at the embedded server."""
    return ollama.Client(host=embedded_ollama_server.host)
