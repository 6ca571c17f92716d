"""The standalone cluster of `bin/spark-parity --cluster` (spark_target.cluster): a real master and
worker from the pip pyspark, on loopback, and nothing of them left running once the run ends: when it
finished, when it failed inside the cluster's block, and when the process running it was killed
outright, each time with an application's executor running on the worker. The cluster's folder has
a space and an apostrophe in its name (a WAREHOUSE_DIR may). ~1.5 min: three clusters, three
applications."""

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
)
from warehouse_core.project import PROJECT_DIR

pytestmark = pytest.mark.spark
GONE_WITHIN_S = 60.0
READY_WITHIN_S = 300.0
EXECUTOR_CLASS = "org.apache.spark.executor.CoarseGrainedExecutorBackend"
LOOPBACK = {"127.0.0.1", "[::ffff:127.0.0.1]"}  # as ss prints a listening address
# A run with an application (and so an executor) on its cluster. It says READY, then ends the
# cluster's block as its stdin says: "finish" (the application stops, the block ends normally) or
# "fail" (an exception inside the block, the application still running); then it says ENDED and
# stays alive until its stdin closes, so what is still running then is not the kernel's doing
# (PR_SET_PDEATHSIG ends the daemons when this process dies). Or the test kills it outright.
RUN = """
import sys
from pathlib import Path
from pyspark.sql import SparkSession
from spark_target.cluster import standalone_cluster
try:
    with standalone_cluster(Path(sys.argv[1]), cores=1, memory="512m") as url:
        spark = (SparkSession.builder.master(url).config("spark.driver.host", "127.0.0.1")
                 .config("spark.driver.bindAddress", "127.0.0.1").config("spark.ui.enabled", "false")
                 .config("spark.executor.memory", "512m").getOrCreate())
        assert spark.range(100).count() == 100
        print("READY", flush=True)
        if sys.stdin.readline().strip() == "fail":
            raise RuntimeError("a step failed")
        spark.stop()
    print("ENDED", flush=True)
except RuntimeError as exc:
    print("ENDED", exc, flush=True)
sys.stdin.read()
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


def kill_leftovers(work_dir: Path, executors: list[int]) -> None:
    """So a failing test does not leave JVMs on a shared machine: the cluster's daemons, and those of
    its executors still running (checked by command line: a pid may have been reused meanwhile)."""
    ours = marked_pids(cluster_marker(work_dir))
    ours += [pid for pid in executors if EXECUTOR_CLASS in cmdline(pid)]
    for pid in ours:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("ending", ["finish", "fail", "kill"])
def test_nothing_of_the_cluster_is_left_running(tmp_path: Path, ending: str) -> None:
    work_dir, log = tmp_path / "o'brien cluster", tmp_path / "run.log"
    with log.open("w") as errors:
        run = subprocess.Popen(
            [sys.executable, "-c", RUN, str(work_dir)],
            cwd=PROJECT_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    seen: dict[str, int] = {}
    executors: list[int] = []
    try:
        assert run.stdout is not None and run.stdin is not None
        ready, _, _ = select.select([run.stdout], [], [], READY_WITHIN_S)
        assert ready and run.stdout.readline().strip() == "READY", "the application did not start on the cluster"
        seen = daemons(work_dir)
        executors = [pid for pid in session_pids(seen.get("worker", -1)) if pid != seen.get("worker")]
        assert set(seen) == {"master", "worker"} and executors, (seen, executors)
        # loopback only: every port the master and the worker listen on is bound to 127.0.0.1
        listening = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=False).stdout
        ours = [line for line in listening.splitlines() if any(f"pid={pid}," in line for pid in seen.values())]
        assert ours and all(line.split()[3].rsplit(":", 1)[0] in LOOPBACK for line in ours), ours
        if ending == "kill":
            run.send_signal(signal.SIGKILL)  # no clean-up of its own: the kernel must end the daemons
            run.wait()
        else:
            run.stdin.write(f"{ending}\n")
            run.stdin.flush()
            ready, _, _ = select.select([run.stdout], [], [], READY_WITHIN_S)
            ended = run.stdout.readline().strip() if ready else ""
            assert ended == ("ENDED" if ending == "finish" else "ENDED a step failed"), log.read_text()[-2000:]
        everything = [*seen.values(), *executors]
        left = wait_until_gone(everything)  # the run is still alive, unless killed
        described = {pid: cmdline(pid) for pid in left}
    finally:
        run.kill()
        run.wait()
        kill_leftovers(work_dir, executors)
    assert left == [], described
