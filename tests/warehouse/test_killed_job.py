"""A killed ``python -m pipeline`` takes everything it started with it: SIGTERM and SIGKILL alike end
its ``dbt build`` and the embedded server (with the server's model workers) within seconds, so no
orphan build goes on to rewrite the marts with no one watching, and nothing is exported from the
half-run."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from warehouse_helpers import PROJECT_DIR, child_env, descendants

pytestmark = [pytest.mark.warehouse, pytest.mark.model]

JOB = ["pipeline", "--tickers", "IBM", "--start", "2012-06-01", "--end", "2012-12-31"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def still_alive(processes: dict[int, str]) -> dict[int, str]:
    alive = {}
    for pid, command in processes.items():
        try:
            now = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
        except OSError:
            continue
        if now == command:  # the same process, not a new one that got its number
            alive[pid] = command
    return alive


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_killed_job_takes_its_build_and_the_embedded_server_with_it(tmp_path: Path, stop: signal.Signals) -> None:
    env = child_env(
        tmp_path,
        {
            "OLLAMA_HOST": f"127.0.0.1:{free_port()}",  # nothing answers there: the job starts the embedded server
            "DBT_TARGET_PATH": str(tmp_path / "target"),
            "DBT_LOG_PATH": str(tmp_path / "logs"),
            "PYTHONUNBUFFERED": "1",
        },
    )
    job = subprocess.Popen(
        [sys.executable, "-m", *JOB],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        assert job.stdout is not None
        for line in job.stdout:  # until dbt runs its first node
            output.append(line)
            if " START " in line:
                break
        started = descendants(job.pid)
        kinds = " | ".join(started.values())
        assert "bin/dbt build" in kinds and "-m embedded_ollama " in kinds and "worker_process" in kinds, output
        job.send_signal(stop)
        rest, _ = job.communicate(timeout=60)
        output.append(rest)
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()
    deadline = time.monotonic() + 30
    while still_alive(started) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not still_alive(started), f"outlived the job: {still_alive(started)}"
    if stop == signal.SIGTERM:
        assert job.returncode == 128 + signal.SIGTERM
        errors = [line for line in "".join(output).splitlines() if line.startswith("error:")]
        assert errors == [
            "error: stopped by SIGTERM before the job finished; what it had started (dbt build, the embedded "
            "server) stopped with it, and the Parquet files under marts/ keep the last finished build: run the job again"
        ]
    time.sleep(2)  # an orphan build would still be writing now
    assert not (tmp_path / "marts").exists(), "nothing exported from the half-run"
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:  # nobody holds the file any more
        assert con.execute("select count(*) from raw.prices where ticker = 'IBM'").fetchone()[0] > 0
