"""A Spark standalone cluster on this machine, for ``bin/spark-parity --cluster``.

One master and one worker, started from the pip-installed pyspark (its ``bin/spark-class``, the
same jars as the driver) on 127.0.0.1 with ports the system picks (the master's URL is read from
its log), each in its own process session so the worker's executors are found with it. They stop
when the ``with`` block ends, normally or on an error; and should this process be killed outright,
the kernel sends them SIGTERM (PR_SET_PDEATHSIG), so nothing is left running.

    with standalone_cluster(work_dir, cores=2, memory="1g") as master:   # spark://127.0.0.1:port
        ...
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from warehouse_core.children import die_with_parent
from warehouse_core.errors import UserError

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
# In every daemon's command line (SPARK_DAEMON_JAVA_OPTS), so a test finds this cluster's processes.
MARKER_PROPERTY = "signal_warehouse.cluster"
MASTER_URL = re.compile(r"Starting Spark master at (spark://\S+)")
WORKER_REGISTERED = re.compile(r"Successfully registered with master")
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 30.0


def spark_class() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent / "bin" / "spark-class"


@dataclass
class Daemon:
    """A master or worker JVM: the leader of its own process session (its executors share it)."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 15) -> str:
        return "".join(self.log_text().splitlines(keepends=True)[-lines:])


def session_pids(session_id: int) -> list[int]:
    """Every live process whose session is ``session_id`` (field 6 of /proc/<pid>/stat)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        if fields[0] != "Z" and int(fields[3]) == session_id:
            pids.append(int(entry.name))
    return pids


def cluster_marker(work_dir: Path) -> str:
    """The mark of the cluster started in ``work_dir`` (hex: no space to split in Spark's options)."""
    return hashlib.sha256(str(work_dir.resolve()).encode()).hexdigest()[:16]


def marked_pids(marker: str) -> list[int]:
    """Every live process whose command line holds ``-D<MARKER_PROPERTY>=<marker>``."""
    needle = f"-D{MARKER_PROPERTY}={marker}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "cmdline").read_bytes().split(b"\0"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def start_daemon(name: str, args: list[str], work_dir: Path, marker: str) -> Daemon:
    log = work_dir / f"{name}.log"
    env = {
        **os.environ,
        "SPARK_LOCAL_IP": HOST,  # RPC and web UI bind to loopback, not every interface
        # no REST submission server (Spark 4 starts one on port 6066 by default, without authentication)
        "SPARK_DAEMON_JAVA_OPTS": f"{os.environ.get('SPARK_DAEMON_JAVA_OPTS', '')} -D{MARKER_PROPERTY}={marker}"
        " -Dspark.master.rest.enabled=false",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(spark_class()), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=work_dir,
            start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGTERM),  # the daemon stops its own executors
        )
    return Daemon(name, process, log)


def wait_for(daemon: Daemon, pattern: re.Pattern[str], timeout_s: float = START_TIMEOUT_S) -> re.Match[str]:
    """The first match of ``pattern`` in the daemon's log; UserError if it exits or times out first."""
    deadline = time.monotonic() + timeout_s
    while True:
        match = pattern.search(daemon.log_text())
        if match:
            return match
        if daemon.process.poll() is not None:
            raise UserError(
                f"the Spark {daemon.name} exited ({daemon.process.returncode}); {daemon.log}:\n{daemon.tail()}"
            )
        if time.monotonic() > deadline:
            raise UserError(
                f"the Spark {daemon.name} was not ready after {timeout_s:.0f} s; {daemon.log}:\n{daemon.tail()}"
            )
        time.sleep(0.2)


def stop(daemon: Daemon) -> None:
    """SIGTERM to the daemon and every process of its session (executors), SIGKILL after a wait."""
    session = daemon.process.pid
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in session_pids(session):
            with suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            daemon.process.poll()  # reap the daemon itself
            if not session_pids(session):
                logger.info("stopped the Spark %s", daemon.name)
                return
            time.sleep(0.2)
    raise UserError(f"the Spark {daemon.name} (pid {session}) left processes running: {session_pids(session)}")


@contextmanager
def standalone_cluster(work_dir: Path, cores: int, memory: str) -> Iterator[str]:
    """A master and a worker (``cores`` cores, ``memory`` for executors) on 127.0.0.1; yields the
    master URL and stops both when the block ends, whatever ends it."""
    work_dir.mkdir(parents=True, exist_ok=True)
    marker = cluster_marker(work_dir)
    with ExitStack() as running:
        master = start_daemon(
            "master", [MASTER_CLASS, "--host", HOST, "--port", "0", "--webui-port", "0"], work_dir, marker
        )
        running.callback(stop, master)
        url = wait_for(master, MASTER_URL).group(1)
        worker_args = [WORKER_CLASS, "--host", HOST, "--port", "0", "--webui-port", "0"]
        worker_args += ["--cores", str(cores), "--memory", memory, "--work-dir", str(work_dir / "work"), url]
        worker = start_daemon("worker", worker_args, work_dir, marker)
        running.callback(stop, worker)  # callbacks run last in, first out: the worker stops first
        wait_for(worker, WORKER_REGISTERED)
        logger.info("Spark standalone cluster at %s (%d cores, %s per executor)", url, cores, memory)
        yield url
