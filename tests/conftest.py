"""Shared pytest fixtures: scratch warehouses built with the real ingest CLI and real dbt runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
BIN_DIR = Path(sys.executable).parent


def run_cli(args: list[str], warehouse_dir: Path, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    """Run ``python -m <args>`` from the project dir against ``warehouse_dir``."""
    full_env = {**os.environ, "WAREHOUSE_DIR": str(warehouse_dir), **env}
    result = subprocess.run(
        [sys.executable, "-m", *args], cwd=PROJECT_DIR, env=full_env, capture_output=True, text=True
    )
    if check and result.returncode != 0:
        raise AssertionError(f"python -m {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def run_dbt(args: list[str], warehouse_dir: Path, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    """Run the real ``dbt`` CLI from the project dir against ``warehouse_dir``."""
    full_env = {**os.environ, "WAREHOUSE_DIR": str(warehouse_dir), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env}
    result = subprocess.run(
        [str(BIN_DIR / "dbt"), *args, "--target-path", str(warehouse_dir / "target"), "--log-path", str(warehouse_dir / "logs")],
        cwd=PROJECT_DIR, env=full_env, capture_output=True, text=True,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} exited {result.returncode}:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}")
    return result


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
