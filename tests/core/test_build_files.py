"""Where a real build writes its files, and the LLM cache surviving damage and a kill -9.

* With a *relative* WAREHOUSE_DIR, dbt (profiles.yml, the ``warehouse_dir()`` macro) and the
  Python side (``warehouse_core.paths``, used by the LLM stages for their cache) put the DuckDB file,
  the marts' Parquet and the LLM cache in the same folder.
* A truncated ``llm_cache.duckdb`` is moved aside with one warning and the stage still succeeds.
* A build killed during the LLM stage keeps every answer already written to the cache.

The LLM stages run on the real embedded model (``ollama_host`` fixture).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import duckdb
import pytest
from warehouse_helpers import BIN_DIR, PROJECT_DIR, run_cli, run_dbt

from warehouse_core.paths import llm_cache_path, warehouse_dir, warehouse_path

pytestmark = [pytest.mark.warehouse, pytest.mark.model]

TWO_DECISIONS = json.dumps({"llm_start": "2013-02-01", "llm_end": "2013-02-28", "llm_max_decisions": 2})
# 14 calls after the 2 cached: longer than the 5 s after which the stage logs its first progress line
SIXTEEN_DECISIONS = json.dumps(
    {"llm_start": "2012-11-01", "llm_end": "2013-02-28", "llm_max_decisions": 16, "llm_concurrency": 1}
)


def cached_answers(cache: Path) -> int:
    with duckdb.connect(str(cache), read_only=True) as con:
        return con.execute("select count(*) from llm_responses").fetchone()[0]


@pytest.fixture(scope="module")
def relative_build(tmp_path_factory: pytest.TempPathFactory, ollama_host: str) -> tuple[Path, str]:
    """A build whose WAREHOUSE_DIR is given relative to the project folder (where dbt runs)."""
    folder = tmp_path_factory.mktemp("relative_warehouse")
    relative = os.path.relpath(folder, PROJECT_DIR)
    assert not Path(relative).is_absolute()
    run_cli(["python_ingest"], Path(relative))
    run_dbt(
        ["build", "-s", "+llm_market_analysis", "+fct_prices_daily", "--vars", TWO_DECISIONS],
        Path(relative),
        OLLAMA_HOST=ollama_host,
    )
    return folder, relative


def test_python_and_dbt_agree_on_a_relative_warehouse_dir(
    relative_build: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, relative = relative_build
    monkeypatch.setenv("WAREHOUSE_DIR", relative)
    monkeypatch.chdir(folder)  # the rule is "from the project folder", not "from wherever you are"
    assert warehouse_dir() == folder
    assert warehouse_path() == folder / "warehouse.duckdb" and warehouse_path().is_file(), "dbt's profile path"
    assert (warehouse_dir() / "marts" / "fct_prices_daily.parquet").is_file(), "the macros' export path"
    assert llm_cache_path(None) == folder / "llm_cache.duckdb"
    assert cached_answers(llm_cache_path(None)) == 2, "the LLM stage's cache, resolved in Python"


def test_a_truncated_cache_is_moved_aside_and_the_stage_succeeds(
    relative_build: tuple[Path, str], ollama_host: str
) -> None:
    folder, relative = relative_build
    cache = folder / "llm_cache.duckdb"
    with cache.open("r+b") as handle:
        handle.truncate(5000)

    result = run_dbt(
        ["run", "-s", "llm_market_analysis", "--vars", TWO_DECISIONS], Path(relative), OLLAMA_HOST=ollama_host
    )
    warnings = [line for line in result.stdout.splitlines() if "cannot be read" in line]
    assert len(warnings) == 1, result.stdout
    moved = Path(re.search(r"moved it to (\S+);", warnings[0]).group(1))
    assert moved.parent == folder and moved.name.startswith("llm_cache.duckdb.damaged-")
    assert moved.stat().st_size == 5000, "the damaged file is kept as it was"
    assert "Traceback" not in result.stdout and "IOException" not in result.stdout
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
        statuses = [s for (s,) in con.execute("select status from llm_market_analysis").fetchall()]
    assert len(statuses) == 2 and "llm_unavailable" not in statuses
    assert cached_answers(cache) == 2, "the new cache holds the answers asked again"

    again = run_dbt(
        ["run", "-s", "llm_market_analysis", "--vars", TWO_DECISIONS], Path(relative), OLLAMA_HOST=ollama_host
    )
    assert "llm_market_analysis: 2 decisions, 2 cache hits, 0 LLM calls" in again.stdout


def test_a_build_killed_during_the_llm_stage_keeps_every_answer_written(
    relative_build: tuple[Path, str], ollama_host: str
) -> None:
    folder, relative = relative_build
    cache = folder / "llm_cache.duckdb"
    before = cached_answers(cache)
    selection = ["-s", "int_llm_context", "llm_market_analysis", "--vars", SIXTEEN_DECISIONS]
    command = [str(BIN_DIR / "dbt"), "run", *selection]
    command += ["--target-path", f"{relative}/target", "--log-path", f"{relative}/logs"]
    env = {**os.environ, "WAREHOUSE_DIR": relative, "OLLAMA_HOST": ollama_host, "PYTHONUNBUFFERED": "1"}
    build = subprocess.Popen(
        command, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    done = 0
    try:
        assert build.stdout is not None
        for line in build.stdout:
            progress = re.search(
                r"llm_market_analysis \S+: (\d+)/\d+ calls done", line
            )  # "<stage> <model>: n/N calls done"
            if progress:
                done = int(progress.group(1))
                break
    finally:
        os.killpg(build.pid, signal.SIGKILL)  # this test's own dbt process group
        build.wait()
    assert done > 0, "the stage never reported progress"
    assert build.returncode == -signal.SIGKILL

    assert cached_answers(cache) >= before + done, "every answer written before the kill is still there"
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from llm_market_analysis").fetchone() == (2,), "the last build's table"
    rerun = run_dbt(["run", *selection], Path(relative), OLLAMA_HOST=ollama_host)
    hits = int(re.search(r"llm_market_analysis: 16 decisions, (\d+) cache hits", rerun.stdout).group(1))
    assert hits >= before + done
