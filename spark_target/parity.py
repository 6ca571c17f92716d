"""bin/spark-parity: build the SQL layer on DuckDB and on Spark from the same raw data, compare every mart.

Both builds run under $WAREHOUSE_DIR/parity (the warehouse in $WAREHOUSE_DIR itself is never
touched): the bundled sample and a fixed external signals file (write_signals_file) are loaded into
a fresh DuckDB file, dbt builds it with the LLM
disabled (the LLM is not what parity tests), its raw tables and its LLM stage tables (the cached
answers) go to Spark, the Python job computes the scorecard from Spark's tables, and dbt builds
everything else on Spark (`--target spark`). Then every model under
models/marts is read from both engines (Spark's through a Spark session, views too) and compared row by row on
its unique key (spark_target.compare). One line per mart, then
`parity: <tables> tables, <rows> rows, max rel diff <x>`; exit 0 only when all agree.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from tqdm import tqdm

from spark_target.compare import TableComparison, compare_tables
from warehouse_core.cli import user_errors
from warehouse_core.errors import UserError
from warehouse_core.paths import WAREHOUSE_FILE, warehouse_dir
from warehouse_core.project import PROJECT_DIR, project_vars

logger = logging.getLogger(__name__)

PYTHON = sys.executable
DBT = str(Path(sys.executable).with_name("dbt"))
# Built on Spark by the Python job after these marts, read by the rest (macros/python_model.sql)
SCORECARD_READERS = "mart_signal_tracking+"
SIGNALS_NAME = "parity"
ACTIONS = ("BUY", "HOLD", "SELL")


def write_signals_file(path: Path) -> None:
    """A fixed external signals file: on the 1st of every month of the vars' window (weekends
    included) each ticker gets BUY, HOLD or SELL in turn, confidences 0.35-0.85 (some below the
    threshold). With the LLM off it gives the build signals from a file, so the backtest, tracking
    and scorecard of a signal source other than the rule baselines have rows to compare."""
    settings = project_vars()
    start, end = dt.date.fromisoformat(str(settings["start"])), dt.date.fromisoformat(str(settings["end"]))
    rows, month = [], dt.date(start.year, start.month, 1)
    while month <= end:
        index = month.year * 12 + month.month
        for number, ticker in enumerate(settings["tickers"]):
            rows.append(
                [ticker, month.isoformat(), ACTIONS[(index + number) % 3], f"{0.35 + 0.1 * ((index + number) % 6):.2f}"]
            )
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    with path.open("w", newline="") as out:
        csv.writer(out).writerows([["ticker", "date", "action", "confidence"], *rows])


def build_steps(parity_dir: Path) -> list[tuple[str, list[str]]]:
    """(name, command) of every step, in order; each runs with WAREHOUSE_DIR=parity_dir."""
    duckdb_target = str(parity_dir / "duckdb_target")
    spark_target = str(parity_dir / "spark" / "target")
    no_llm = "{enable_llm: false}"
    return [
        ("ingest the bundled sample", [PYTHON, "-m", "python_ingest", "--source", "sample"]),
        (
            "load a signals file",
            [PYTHON, "-m", "python_ingest.signals", "--file", str(parity_dir / "signals.csv"), "--name", SIGNALS_NAME],
        ),
        ("dbt build on DuckDB", [DBT, "build", "--vars", no_llm, "--target-path", duckdb_target]),
        ("raw and LLM tables to Spark", [PYTHON, "-m", "spark_target.inputs", "--with-llm-tables"]),
        (
            "dbt build on Spark",
            [
                DBT,
                "build",
                "--target",
                "spark",
                "--vars",
                no_llm,
                "--exclude",
                SCORECARD_READERS,
                "--target-path",
                spark_target,
            ],
        ),
        (
            "recall mart and scorecard on Spark",
            [
                PYTHON,
                "-m",
                "spark_target.python_job",
                "recall",
                "scorecard",
                "--manifest",
                f"{spark_target}/manifest.json",
            ],
        ),
        (
            "dbt build on Spark (after the scorecard)",
            [
                DBT,
                "build",
                "--target",
                "spark",
                "--vars",
                no_llm,
                "--select",
                SCORECARD_READERS,
                "--target-path",
                spark_target,
            ],
        ),
    ]


def run_steps(parity_dir: Path) -> None:
    """Run every build step, its output in parity_dir/logs/<n>.log; a failing step raises UserError."""
    env = {**os.environ, "WAREHOUSE_DIR": str(parity_dir), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    (parity_dir / "logs").mkdir(parents=True, exist_ok=True)
    steps = build_steps(parity_dir)
    with tqdm(steps, desc="spark-parity", unit="step") as progress:
        for number, (name, command) in enumerate(progress, start=1):
            progress.set_postfix_str(name)
            log = parity_dir / "logs" / f"{number}.log"
            started = time.monotonic()
            with log.open("w") as out:
                done = subprocess.run(
                    command, cwd=PROJECT_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
                )
            logger.info("%s: %.0f s", name, time.monotonic() - started)
            if done.returncode != 0:
                tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-15:])
                raise UserError(f"step '{name}' failed (exit {done.returncode}); last lines of {log}:\n{tail}")


def mart_keys(manifest: Path) -> dict[str, list[str]]:
    """Every model under models/marts with its unique key (its unique / unique_combination test)."""
    nodes = json.loads(manifest.read_text())["nodes"]
    marts = {
        n["unique_id"]: n["name"] for n in nodes.values() if n["resource_type"] == "model" and n["fqn"][1] == "marts"
    }
    keys: dict[str, list[str]] = {}
    for test in nodes.values():
        meta = test.get("test_metadata") or {}
        if test["resource_type"] != "test" or test.get("attached_node") not in marts:
            continue
        if meta.get("name") == "unique_combination_of_columns":
            keys[marts[test["attached_node"]]] = list(meta["kwargs"]["combination"])
        elif meta.get("name") == "unique":
            keys.setdefault(marts[test["attached_node"]], [meta["kwargs"]["column_name"]])
    missing = sorted(set(marts.values()) - set(keys))
    if missing:
        raise UserError(f"marts without a unique or unique_combination_of_columns test (parity needs a key): {missing}")
    return dict(sorted(keys.items()))


def compare_marts(parity_dir: Path) -> list[TableComparison]:
    """Each mart as DuckDB built it against the same mart read through Spark (views included)."""
    from spark_target.python_job import table_frame
    from spark_target.session import spark_session

    keys = mart_keys(parity_dir / "duckdb_target" / "manifest.json")
    os.environ["WAREHOUSE_DIR"] = str(parity_dir)  # the Spark session of the parity builds
    session = spark_session()
    con = duckdb.connect(str(parity_dir / WAREHOUSE_FILE), read_only=True)
    try:
        results = []
        for table, key in tqdm(keys.items(), desc="compare", unit="mart"):
            reference = con.sql(f"select * from main.{table}").df()
            results.append(compare_tables(table, reference, table_frame(session, table), key))
        return results
    finally:
        con.close()
        session.stop()


def parity_line(results: list[TableComparison]) -> str:
    rows = sum(r.rows for r in results)
    max_diff = max((r.max_rel_diff for r in results), default=0.0)
    return f"parity: {len(results)} tables, {rows} rows, max rel diff {max_diff:.3g}"


@user_errors
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--compare-only", action="store_true", help="compare the builds already in $WAREHOUSE_DIR/parity"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parity_dir = warehouse_dir() / "parity"
    from spark_target.session import require_java

    require_java()
    if not args.compare_only:
        shutil.rmtree(parity_dir, ignore_errors=True)
        parity_dir.mkdir(parents=True)
        write_signals_file(parity_dir / "signals.csv")
        run_steps(parity_dir)
    results = compare_marts(parity_dir)
    for result in results:
        print(result.line())
    print(parity_line(results))
    return 0 if all(r.agrees for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
