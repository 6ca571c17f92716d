"""bin/spark-parity: build the SQL layer on DuckDB and on Spark from the same raw data, compare every mart.

Both builds run under $WAREHOUSE_DIR/parity (the warehouse in $WAREHOUSE_DIR itself is never
touched): the bundled sample and a fixed external signals file (write_signals_file) are loaded into
a fresh DuckDB file, dbt builds it with the LLM disabled (the LLM is not what parity tests), its raw
tables and its LLM stage tables (the cached answers) go to Spark, the Python job computes the
recall mart and the scorecard from Spark's tables, and dbt builds everything else on Spark
(`--target spark`). Then every model under models/marts is read from both engines (Spark's through
the Spark session, views too) and compared row by row on its unique key (spark_target.compare), and
each Parquet export of the Spark build must be under the storage root with the row count of
DuckDB's export. One line per mart, one for the exports, then
`parity: <tables> tables, <rows> rows, max rel diff <x>`; exit 0 only when all agree.

Everything on Spark happens in this process and in ONE Spark application: dbt runs in-process
(dbtRunner), and dbt-spark's session method picks up the session this process opened, so a cluster
starts executors once, not once per step. Where it runs is profiles.yml's (SPARK_MASTER, default
local[2]); `--cluster` starts a standalone master and worker on 127.0.0.1 for the run
(spark_target.cluster) and stops them after it. `--thrift` sends dbt's SQL through the spark_thrift
output (dbt-spark method: thrift) to a Spark Thrift Server started in the run's application
(spark_target.thrift_server), the Python jobs still using the session.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar

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
NO_LLM = "{enable_llm: false}"
Result = TypeVar("Result")


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


def duckdb_steps(parity_dir: Path) -> list[tuple[str, list[str]]]:
    """(name, command) of the steps before Spark, in order; each runs with WAREHOUSE_DIR=parity_dir."""
    return [
        ("ingest the bundled sample", [PYTHON, "-m", "python_ingest", "--source", "sample"]),
        (
            "load a signals file",
            [PYTHON, "-m", "python_ingest.signals", "--file", str(parity_dir / "signals.csv"), "--name", SIGNALS_NAME],
        ),
        ("dbt build on DuckDB", [DBT, "build", "--vars", NO_LLM, "--target-path", str(parity_dir / "duckdb_target")]),
    ]


def spark_steps(parity_dir: Path, dbt_target: str) -> list[tuple[str, Callable[[Any], None]]]:
    """(name, action on the Spark session) of the Spark build, in order; dbt builds through the
    profile output ``dbt_target`` (spark: this process's session; spark_thrift: a thrift server)."""
    from spark_target.inputs import PYTHON_JOB_TABLES, copy_tables
    from spark_target.python_job import run_jobs

    target_path = parity_dir / "spark" / "target"

    def dbt_build(*selection: str) -> Callable[[Any], None]:
        args = ["build", "--target", dbt_target, "--vars", NO_LLM, *selection, "--target-path", str(target_path)]
        return lambda _session: run_dbt(args)

    return [
        (
            "raw and LLM tables to Spark",
            lambda session: copy_tables(session, parity_dir / WAREHOUSE_FILE, PYTHON_JOB_TABLES),
        ),
        ("dbt build on Spark", dbt_build("--exclude", SCORECARD_READERS)),
        (
            "recall mart and scorecard on Spark",
            lambda session: run_jobs(session, ["recall", "scorecard"], target_path / "manifest.json"),
        ),
        ("dbt build on Spark (after the scorecard)", dbt_build("--select", SCORECARD_READERS)),
    ]


def run_command(command: list[str]) -> None:
    done = subprocess.run(command, cwd=PROJECT_DIR, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"exit {done.returncode}")


def run_dbt(args: list[str]) -> None:
    """dbt in this process, so dbt-spark uses this process's Spark session; raises when it fails."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke([*args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)])
    if not result.success:
        raise RuntimeError(f"dbt {args[0]} failed: {result.exception or 'see the lines above'}")


@contextmanager
def output_to(log: Path) -> Iterator[None]:
    """File descriptors 1 and 2 of this process into ``log``: Python's output, dbt's, and that of a
    JVM started meanwhile (it keeps them: the Spark driver's lines stay in the log it started in)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    try:
        with log.open("ab") as out:
            os.dup2(out.fileno(), 1)
            os.dup2(out.fileno(), 2)
            try:
                yield
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
    finally:
        os.close(saved[0])
        os.close(saved[1])


def run_logged(log: Path, action: Callable[[], Result]) -> Result:
    """``action()`` with all its output in ``log``; a failure raises UserError with the log's end."""
    with output_to(log):
        try:
            return action()
        except Exception as exc:  # whatever fails, the user gets the step's log
            traceback.print_exc()
            failure = exc
    tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-15:])
    raise UserError(f"step '{log.stem}' failed ({failure}); last lines of {log}:\n{tail}") from failure


def stop_session(session: Any) -> None:
    """Stop the Spark application; after an interruption (SIGTERM mid-call) the JVM bridge may be
    broken, which must not hide why the run ended, nor keep the cluster from being stopped."""
    try:
        session.stop()
    except Exception as exc:  # the run is over either way
        logger.warning("the Spark session did not stop cleanly: %s", str(exc).splitlines()[0])


def run_parity(
    parity_dir: Path, cluster: bool = False, thrift: bool = False
) -> tuple[list[TableComparison], list[str]]:
    """Every step, then the comparison; the Spark part in one Spark application (on a standalone
    cluster of this machine when ``cluster``, else where profiles.yml says), dbt through a thrift
    server in that application when ``thrift``. Returns the marts' comparisons and what is wrong with
    the exports (compare_exports). Each step's output is in parity_dir/logs/<n> <step>.log."""
    from spark_target.cluster import standalone_cluster
    from spark_target.session import spark_conf, spark_session
    from spark_target.thrift_server import HOST, thrift_server

    os.environ.update({"WAREHOUSE_DIR": str(parity_dir), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    (parity_dir / "logs").mkdir(parents=True, exist_ok=True)
    before_spark, on_spark = duckdb_steps(parity_dir), spark_steps(parity_dir, "spark_thrift" if thrift else "spark")
    with ExitStack() as stack:
        terminal = stack.enter_context(os.fdopen(os.dup(2), "w"))  # fd 2 goes to the logs meanwhile
        total = len(before_spark) + int(cluster) + 1 + int(thrift) + len(on_spark) + 2
        progress = stack.enter_context(tqdm(total=total, desc="spark-parity", unit="step", file=terminal))

        def step(name: str, action: Callable[[], Result]) -> Result:
            progress.set_postfix_str(name)
            started = time.monotonic()
            result = run_logged(parity_dir / "logs" / f"{progress.n + 1} {name}.log", action)
            progress.write(f"{name}: {time.monotonic() - started:.0f} s", file=terminal)
            progress.update()
            return result

        for name, command in before_spark:
            step(name, lambda command=command: run_command(command))
        if cluster:
            conf = spark_conf()
            cores, memory = int(conf["spark.cores.max"]), conf["spark.executor.memory"]
            cluster_dir = parity_dir / "cluster"
            master = step(
                "start a standalone cluster",
                lambda: stack.enter_context(standalone_cluster(cluster_dir, cores, memory)),
            )
            os.environ["SPARK_MASTER"] = master
        session = step("start the Spark application", spark_session)
        stack.callback(stop_session, session)  # before the cluster stops (last in, first out)
        if thrift:
            port = step("start a thrift server in the application", lambda: stack.enter_context(thrift_server(session)))
            os.environ.update({"SPARK_THRIFT_HOST": HOST, "SPARK_THRIFT_PORT": str(port)})
        for name, action in on_spark:
            step(name, lambda action=action: action(session))
        marts = step("compare every mart", lambda: compare_marts(parity_dir, session))
        return marts, step("compare the Parquet exports", lambda: compare_exports(parity_dir, session))


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


def compare_marts(parity_dir: Path, session: Any) -> list[TableComparison]:
    """Each mart as DuckDB built it against the same mart read through Spark (views included)."""
    from spark_target.python_job import table_frame

    keys = mart_keys(parity_dir / "duckdb_target" / "manifest.json")
    con = duckdb.connect(str(parity_dir / WAREHOUSE_FILE), read_only=True)
    try:
        return [
            compare_tables(table, con.sql(f"select * from main.{table}").df(), table_frame(session, table), key)
            for table, key in keys.items()
        ]
    finally:
        con.close()


def compare_exports(parity_dir: Path, session: Any) -> list[str]:
    """What is wrong with the Spark build's Parquet exports (empty: nothing): each mart dbt builds on
    Spark and the training splits must be a folder under the session's storage root holding as many
    rows as DuckDB's export of the same table. The rows themselves are compared in the tables; this
    shows the exports went where the storage root says (docs/spark.md)."""
    from spark_target.session import STORAGE_ROOT_KEY

    root = session.conf.get(STORAGE_ROOT_KEY)
    nodes = json.loads((parity_dir / "spark" / "target" / "manifest.json").read_text())["nodes"]
    marts = sorted(n["alias"] for n in nodes.values() if n["resource_type"] == "model" and n["fqn"][1] == "marts")
    exports = [(f"marts/{mart}", parity_dir / "marts" / f"{mart}.parquet") for mart in marts]
    exports.append(("training", parity_dir / "training" / "**" / "*.parquet"))
    problems = []
    con = duckdb.connect()
    try:
        for subdir, duckdb_files in exports:
            expected = con.execute("select count(*) from read_parquet(?)", [str(duckdb_files)]).fetchone()[0]
            try:
                found = session.read.parquet(f"{root}/{subdir}").count()
            except Exception as exc:  # pyspark's AnalysisException: no such folder
                problems.append(f"{subdir}: not under {root} ({str(exc).splitlines()[0]})")
                continue
            if found != expected:
                problems.append(f"{subdir}: {found} rows under {root}, {expected} in DuckDB's export")
    finally:
        con.close()
    logger.info("compared %d exports under %s", len(exports), root)
    return problems


def exports_line(problems: list[str]) -> str:
    if problems:
        return "exports: DIFFERENT: " + "; ".join(problems)
    return "exports: equal (each mart's and the training splits' Parquet under the storage root, DuckDB's row counts)"


def parity_line(results: list[TableComparison]) -> str:
    rows = sum(r.rows for r in results)
    max_diff = max((r.max_rel_diff for r in results), default=0.0)
    return f"parity: {len(results)} tables, {rows} rows, max rel diff {max_diff:.3g}"


@user_errors
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="run the Spark part on a standalone master and worker started on 127.0.0.1 for this run",
    )
    parser.add_argument(
        "--thrift",
        action="store_true",
        help="dbt through the spark_thrift output (dbt-spark method: thrift), to a thrift server this run starts",
    )
    parser.add_argument(
        "--compare-only", action="store_true", help="compare the builds already in $WAREHOUSE_DIR/parity"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # SIGTERM ends the run as Ctrl-C does: through the clean-up (Spark stopped, the cluster too)
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    parity_dir = warehouse_dir() / "parity"
    from spark_target.session import check_master, require_java, spark_conf, spark_session

    require_java()
    if not args.cluster:  # before the DuckDB build, not after it
        check_master(spark_conf()["spark.master"])
    if args.compare_only:
        os.environ["WAREHOUSE_DIR"] = str(parity_dir)  # the Spark tables of the parity builds
        session = spark_session()
        try:
            results, export_problems = compare_marts(parity_dir, session), compare_exports(parity_dir, session)
        finally:
            session.stop()
    else:
        shutil.rmtree(parity_dir, ignore_errors=True)
        parity_dir.mkdir(parents=True)
        write_signals_file(parity_dir / "signals.csv")
        results, export_problems = run_parity(parity_dir, args.cluster, args.thrift)
    for result in results:
        print(result.line())
    print(exports_line(export_problems))
    print(parity_line(results))
    return 0 if all(r.agrees for r in results) and not export_problems else 1


if __name__ == "__main__":
    sys.exit(main())
