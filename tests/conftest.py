"""Shared pytest fixtures: scratch warehouses built with the real ingest CLI and real dbt runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from warehouse_helpers import run_cli, run_dbt


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory, ollama_host: str) -> Path:
    """A warehouse dir with the bundled sample ingested and ``dbt build`` run on the defaults,
    the LLM stages answered by the real embedded model (never by whatever listens on 11434)."""
    warehouse_dir = tmp_path_factory.mktemp("built_warehouse")
    run_cli(["python_ingest"], warehouse_dir)
    run_dbt(["build"], warehouse_dir, OLLAMA_HOST=ollama_host)
    return warehouse_dir


@pytest.fixture(scope="session")
def ollama_host() -> Iterator[str]:
    """Base URL of an embedded Ollama server (the real SmolLM2 model) on a free loopback port.

    Pass it to ``run_dbt(..., OLLAMA_HOST=ollama_host)`` to run the LLM stages against it.
    """
    from embedded_ollama.launcher import start_on_free_port

    with start_on_free_port() as handle:
        yield handle.host
