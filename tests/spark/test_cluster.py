"""The standalone cluster of `bin/spark-parity --cluster` (spark_target.cluster): a real master and
worker from the pip pyspark, on loopback, and nothing of them left running after it ends, whether the
run failed inside the block or the process running it was killed outright (with an application's
executor running). ~1 min: two clusters and one Spark application."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("pyspark", reason="the spark extra is not installed (bin/spark-parity installs it)")

from spark_target.cluster import (
    MASTER_CLASS,
    WORKER_CLASS,
    cluster_marker,
    marked_pids,
    session_pids,
    standalone_cluster,
)
from warehouse_core.project import PROJECT_DIR

pytestmark = pytest.mark.spark
GONE_WITHIN_S = 60.0
READY_WITHIN_S = 300.0
LOOPBACK = {"127.0.0.1", "[::ffff:127.0.0.1]"}  # as ss prints a listening address
# A run killed outright while an application (with its executor) is on the cluster.
KILLED_RUN = """
import sys, time
from pathlib import Path
from pyspark.sql import SparkSession
from spark_target.cluster import standalone_cluster
with standalone_cluster(Path(sys.argv[1]), cores=1, memory="512m") as url:
    spark = (SparkSession.builder.master(url).config("spark.driver.host", "127.0.0.1")
             .config("spark.driver.bindAddress", "127.0.0.1").config("spark.ui.enabled", "false")
             .config("spark.executor.memory", "512m").getOrCreate())
    assert spark.range(100).count() == 100
    print("READY", flush=True)
    time.sleep(600)
"""


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def daemons(work_dir: Path) -> dict[str, int]:
    """{'master': pid, 'worker': pid} of the cluster started in ``work_dir``, those still running."""
    found = {}
    for pid in marked_pids(cluster_marker(work_dir)):
        line = cmdline(pid)
        found.update({"master": pid} if MASTER_CLASS in line else {"worker": pid} if WORKER_CLASS in line else {})
    return found


def wait_until_gone(pids: list[int]) -> list[int]:
    deadline = time.monotonic() + GONE_WITHIN_S
    while (alive := [p for p in pids if Path(f"/proc/{p}").exists() and "Z" not in stat_state(p)]) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.5)
    return alive


def stat_state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "Z"
    return stat[stat.rindex(")") + 2]


def kill_leftovers(pids: list[int]) -> None:
    """So a failing test does not leave JVMs on a shared machine."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_a_failure_inside_the_run_stops_master_and_worker(tmp_path: Path) -> None:
    seen: dict[str, int] = {}
    with (
        pytest.raises(RuntimeError, match="a step failed"),
        standalone_cluster(tmp_path, cores=1, memory="512m") as url,
    ):
        assert url.startswith("spark://127.0.0.1:")
        seen = daemons(tmp_path)
        assert set(seen) == {"master", "worker"}, seen
        # loopback only: every port the two JVMs listen on is bound to 127.0.0.1
        listening = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=False).stdout
        ours = [line for line in listening.splitlines() if any(f"pid={pid}," in line for pid in seen.values())]
        assert ours and all(line.split()[3].rsplit(":", 1)[0] in LOOPBACK for line in ours), ours
        raise RuntimeError("a step failed")
    left = wait_until_gone(list(seen.values()))
    described = {pid: cmdline(pid) for pid in left}
    kill_leftovers(left)
    assert left == [], described


def test_a_killed_run_leaves_no_master_worker_or_executor(tmp_path: Path) -> None:
    run = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, str(tmp_path)],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert run.stdout is not None
        ready, _, _ = select.select([run.stdout], [], [], READY_WITHIN_S)
        assert ready and run.stdout.readline().strip() == "READY", "the application did not start on the cluster"
        seen = daemons(tmp_path)
        executors = [pid for pid in session_pids(seen["worker"]) if pid != seen["worker"]]
        assert set(seen) == {"master", "worker"} and executors, (seen, executors)
        run.send_signal(signal.SIGKILL)  # no clean-up of its own: the kernel must end the daemons
        run.wait()
        everything = [*seen.values(), *executors]
        left = wait_until_gone(everything)
        described = {pid: cmdline(pid) for pid in left}
        kill_leftovers(left)
        assert left == [], described
    finally:
        run.kill()
