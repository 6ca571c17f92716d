"""Shared pytest fixtures: scratch warehouses built with the real ingest CLI and real dbt runs."""

from __future__ import annotations

import collections
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import tiers
from browser_helpers import chromium_path
from prerequisites import MISSING, missing
from warehouse_helpers import run_cli, run_dbt

SHARED_WAREHOUSE_ENV = "BUILT_WAREHOUSE_DIR"
NO_CHROMIUM = "chromium is not installed, so the browser tests cannot run (bin/test installs it with apt-get; or apt-get install chromium)"


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """A warehouse dir with the bundled sample ingested and ``dbt build`` run on the defaults,
    the LLM stages answered by the real embedded model (never by whatever listens on 11434).

    With ``$BUILT_WAREHOUSE_DIR`` set, that warehouse is used instead of building one: bin/test
    points it at the main job's warehouse (``python -m pipeline`` on the defaults: the same build),
    so a full run builds the sample once. Tests treat it as read-only (they copy it to change it).
    """
    shared = os.environ.get(SHARED_WAREHOUSE_ENV)
    if shared:
        if not (Path(shared) / "warehouse.duckdb").is_file():
            pytest.fail(
                f"{SHARED_WAREHOUSE_ENV}={shared} holds no warehouse.duckdb: unset it, or run the main job there"
            )
        return Path(shared)
    warehouse_dir = tmp_path_factory.mktemp("built_warehouse")
    run_cli(["python_ingest"], warehouse_dir)
    run_dbt(["build"], warehouse_dir, OLLAMA_HOST=request.getfixturevalue("ollama_host"))
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
    """Path of headless Chromium; without it the test is skipped (the run says so loudly), or fails under CI=true."""
    found = chromium_path()
    if found is None:
        missing(NO_CHROMIUM)
    return found


def pytest_report_header() -> str:
    found = chromium_path()
    return f"chromium: {found}" if found else f"chromium: NOT FOUND - {NO_CHROMIUM}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One red line per missing prerequisite (Chromium, npm, Java) whose tests were skipped."""
    reasons = collections.Counter(
        str(report.longrepr[2]).removeprefix("Skipped: ")
        for report in terminalreporter.stats.get("skipped", [])
        if isinstance(report.longrepr, tuple) and MISSING in str(report.longrepr[2])
    )
    for reason, count in sorted(reasons.items()):
        terminalreporter.write_sep("!", f"{count} TEST(S) SKIPPED - {reason}", red=True, bold=True)


def pytest_configure(config: pytest.Config) -> None:
    tiers.install_guard(config)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tiers.check_collected(items)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    item.config.stash[tiers.CURRENT_TEST] = item
    try:
        return (yield)
    finally:
        del item.config.stash[tiers.CURRENT_TEST]
