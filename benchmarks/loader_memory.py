"""Peak memory and wall time of the two file loaders on big files: what "memory stays bounded" means.

Writes, in a scratch folder, a signals CSV of ``--rows`` rows (500 tickers, one signal a day each,
a short rationale) and a daily price CSV of ``--rows`` rows from 1700-01-01, then loads each into a fresh warehouse
with the real CLI (``python -m python_ingest.signals``, ``python -m python_ingest --source csv``) in a
child process, and prints per loader: rows, file MB, seconds, the child's peak RSS and the peak above
an interpreter that only imported the loader (bytes per row). ``--project DIR`` runs another
checkout's loaders on the same files (compare back to back: this machine's speed varies by hour).

    .venv/bin/python benchmarks/loader_memory.py                    # 1,000,000 rows each
    .venv/bin/python benchmarks/loader_memory.py --rows 200000 --project /path/to/old/checkout
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def write_signals(path: Path, rows: int) -> None:
    day = date(1990, 1, 1)
    with path.open("w") as out:
        out.write("ticker,date,action,confidence,rationale\n")
        for i in range(rows):
            out.write(f"T{i % 500},{day + timedelta(days=i // 500)},{('BUY', 'SELL', 'HOLD')[i % 3]},0.{i % 90 + 10},")
            out.write(f"trend {i % 7} with volume {i % 13}\n")


def write_prices(path: Path, rows: int) -> None:
    day = date(1700, 1, 1)  # a million days run to the year 4437: every row is parsed, those up to --end stored
    with path.open("w") as out:
        out.write("date,open,high,low,close,adj_close,volume\n")
        for i in range(rows):
            price = 50 + (i % 1000) / 100
            out.write(
                f"{day + timedelta(days=i)},{price},{price + 1},{price - 1},{price + 0.5},{price + 0.5},{1000 + i}\n"
            )


REPORT_PEAK = (
    "\nimport resource, sys\nprint('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"
)
RUN_MODULE = (
    "import runpy, sys\nsys.argv = sys.argv[1:]\n"
    "try:\n    runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\nexcept SystemExit:\n    pass"
)
IMPORT_ONLY = "import python_ingest.cli, python_ingest.signals.cli"


def run_child(code: str, arguments: list[str], project: Path, warehouse_dir: Path) -> tuple[float, float]:
    """Run ``code`` in a fresh interpreter in ``project``; its (wall seconds, peak RSS in MB)."""
    env = {**os.environ, "WAREHOUSE_DIR": str(warehouse_dir)}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code + REPORT_PEAK, *arguments], cwd=project, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    peaks = [line for line in result.stderr.splitlines() if line.startswith("PEAK ")]
    if not peaks or "error:" in result.stderr:
        raise SystemExit(f"{' '.join(arguments)} failed:\n{result.stderr[-2000:]}")
    return seconds, int(peaks[-1].split()[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--project", type=Path, default=PROJECT_DIR, help="checkout whose loaders run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="loader-memory-") as scratch:
        folder = Path(scratch)
        signals, prices = folder / "signals.csv", folder / "prices" / "BIG.csv"
        prices.parent.mkdir()
        write_signals(signals, args.rows)
        write_prices(prices, args.rows)
        _, idle = run_child(IMPORT_ONLY, [], args.project, folder / "idle")
        print(f"{args.rows:,} rows each, loaders of {args.project}; an interpreter that imported them: {idle:.0f} MB")
        csv_dir = str(prices.parent)
        ingest = ["python_ingest", "--tickers", "BIG", "--benchmark", "", "--start", "1700-01-01", "--source", "csv"]
        runs = {
            "signals": (["python_ingest.signals", "--file", str(signals), "--name", "big"], signals),
            "prices": (
                [*ingest, "--csv-dir", csv_dir],
                prices,
            ),
        }
        for name, (arguments, path) in runs.items():
            seconds, peak = run_child(RUN_MODULE, arguments, args.project, folder / f"wh-{name}")
            per_row = (peak - idle) * 2**20 / args.rows
            size = path.stat().st_size / 2**20
            print(
                f"{name:8s} {size:6.1f} MB file {seconds:7.1f} s   peak RSS {peak:6.0f} MB "
                f"({per_row:5.0f} bytes a row above the idle interpreter)"
            )


if __name__ == "__main__":
    main()
