"""Shared pytest fixtures: scratch warehouses built with the real ingest CLI and real dbt runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_helpers import chromium_path
from warehouse_helpers import run_cli, run_dbt

NO_CHROMIUM = (
    "chromium is not installed: browser tests SKIPPED (bin/test installs it with apt-get; or apt-get install chromium)"
)


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


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of headless Chromium; the test is skipped (and the run says so loudly) when it is missing."""
    found = chromium_path()
    if found is None:
        pytest.skip(NO_CHROMIUM)
    return found


def pytest_report_header() -> str:
    found = chromium_path()
    return f"chromium: {found}" if found else f"chromium: NOT FOUND - {NO_CHROMIUM}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if NO_CHROMIUM in str(r.longrepr)]
    if skipped:
        terminalreporter.write_sep("!", f"{len(skipped)} BROWSER TEST(S) SKIPPED: {NO_CHROMIUM}", red=True, bold=True)
