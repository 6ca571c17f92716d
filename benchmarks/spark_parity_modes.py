"""Wall time of ``bin/spark-parity`` in local mode against ``bin/spark-parity --cluster`` (a standalone
master and worker on this machine), back to back, alternating so both see the same hours.

Each run gets a fresh scratch WAREHOUSE_DIR; the spark extra must be installed (bin/spark-parity
installs it on first use). After each --cluster run no process of its cluster may be left running
(else it stops with the pids). Prints one line per run (mode, wall seconds, load average before it,
each step's seconds as spark-parity reports them, and its parity line), then
``local_s=<median> cluster_s=<median> ratio=<cluster/local> added_s=<cluster-local>``.

    .venv/bin/python benchmarks/spark_parity_modes.py               # local, cluster, cluster, local
    .venv/bin/python benchmarks/spark_parity_modes.py --rounds 1    # local, cluster
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from spark_target.cluster import cluster_marker, marked_pids

PROJECT_DIR = Path(__file__).resolve().parent.parent
STEP_LINE = re.compile(r"^(?P<step>[A-Za-z][A-Za-z ()]*): (?P<seconds>\d+) s$", re.MULTILINE)


def run(cluster: bool) -> tuple[float, str, str]:
    """(wall seconds, the step timings, the parity line) of one bin/spark-parity run."""
    with tempfile.TemporaryDirectory(prefix="spark-parity-bench-") as scratch:
        command = [str(PROJECT_DIR / "bin" / "spark-parity"), *(["--cluster"] if cluster else [])]
        started = time.monotonic()
        done = subprocess.run(
            command, env={**os.environ, "WAREHOUSE_DIR": scratch}, capture_output=True, text=True, check=False
        )
        seconds = time.monotonic() - started
        left = marked_pids(cluster_marker(Path(scratch) / "parity" / "cluster"))
    if left:
        raise SystemExit(f"bin/spark-parity --cluster left processes of its cluster running: {left}")
    output = (done.stdout + done.stderr).replace("\r", "\n")
    if done.returncode != 0:
        raise SystemExit(f"bin/spark-parity {' '.join(command[1:])} failed (exit {done.returncode}):\n{output[-3000:]}")
    steps = ", ".join(f"{m['step']} {m['seconds']}" for m in STEP_LINE.finditer(output))
    parity = next(line for line in done.stdout.splitlines() if line.startswith("parity:"))
    return seconds, steps, parity


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="pairs of runs (the order flips every round)")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"local": [], "cluster": []}
    for round_number in range(args.rounds):
        for mode in ("local", "cluster") if round_number % 2 == 0 else ("cluster", "local"):
            load = os.getloadavg()[0]
            seconds, steps, parity = run(mode == "cluster")
            times[mode].append(seconds)
            print(f"{mode}: {seconds:.0f} s (load {load:.1f} before) | {steps} | {parity}", flush=True)
    local, cluster = statistics.median(times["local"]), statistics.median(times["cluster"])
    print(f"local_s={local:.0f} cluster_s={cluster:.0f} ratio={cluster / local:.2f} added_s={cluster - local:.0f}")


if __name__ == "__main__":
    main()
