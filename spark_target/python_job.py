"""On Spark, the tables dbt builds with Python models on DuckDB (dbt-spark runs Python models only on
Databricks): the same Python code, fed from Spark tables, writing Parquet tables Spark reads.

    python -m spark_target.python_job llm          # the three LLM stages and the recall probe over Spark's tables
    python -m spark_target.python_job llm-copy     # copy the LLM stage tables of the DuckDB build
    python -m spark_target.python_job recall       # mart_model_recall from Spark's tables
    python -m spark_target.python_job scorecard    # mart_strategy_scorecard from Spark's marts
    python -m spark_target.python_job recall scorecard   # several jobs in order, one Spark session

Each table is stored as main.<table> (Parquet, under Spark's storage root) with DuckDB's typing of
the same pandas frame, as dbt-duckdb stores a Python model's result.
The settings are the models' rendered configs (llm_settings, scorecard_settings) from the manifest
of the last Spark parse or build (--manifest). Order in a Spark build (bin/spark-parity does it):
dbt up to int_llm_context, `llm`, dbt up to mart_backtest_summary, `recall`, `scorecard`, the rest of dbt.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from spark_target.inputs import PYTHON_JOB_TABLES, TARGET_SCHEMA, copy_tables, write_arrow
from warehouse_core.cli import user_errors
from warehouse_core.errors import UserError
from warehouse_core.paths import warehouse_path
from warehouse_core.project import PROJECT_DIR

logger = logging.getLogger(__name__)

DEFAULT_MANIFEST = PROJECT_DIR / "target" / "manifest.json"


def model_config(manifest: Path, model: str, key: str) -> dict[str, Any]:
    """The rendered config ``key`` of a model that is disabled on Spark (so listed under ``disabled``)."""
    if not manifest.exists():
        raise UserError(f"{manifest} not found: run `dbt parse --target spark` (or a Spark build) first")
    nodes = json.loads(manifest.read_text()).get("disabled", {}).get(f"model.signal_warehouse.{model}") or []
    if not nodes or key not in nodes[0].get("config", {}):
        raise UserError(f"{manifest} has no Spark-disabled model {model} with config {key}: parse with --target spark")
    return nodes[0]["config"][key]


def table_rows(session: Any, table: str, where: str | None = None) -> list[dict[str, Any]]:
    """All rows of a Spark table as dicts of plain Python values (dates stay ``datetime.date``)."""
    frame = session.table(f"{TARGET_SCHEMA}.{table}")
    return [row.asDict(recursive=True) for row in (frame.where(where) if where else frame).collect()]


def table_frame(session: Any, table: str, where: str | None = None) -> pd.DataFrame:
    """A Spark table as pandas, date columns as datetime64 (as DuckDB's ``.df()`` gives them)."""
    frame = session.table(f"{TARGET_SCHEMA}.{table}")
    columns = frame.columns
    rows = table_rows(session, table, where)
    result = pd.DataFrame(rows, columns=columns)
    for column in columns:
        if any(isinstance(value, dt.date) for value in result[column].head(1)):
            result[column] = pd.to_datetime(result[column])
    return result


def write_table(session: Any, frame: pd.DataFrame, table: str) -> None:
    """Store ``frame`` as the Spark table main.<table>, typed as DuckDB types the frame."""
    con = duckdb.connect()
    try:
        con.register("frame", frame)
        write_arrow(session, con.sql("select * from frame").to_arrow_table(), f"{TARGET_SCHEMA}.{table}")
    finally:
        con.close()


def run_llm_stages(session: Any, manifest: Path) -> None:
    """The three LLM stages over Spark's int_llm_context, as the dbt Python models run them."""
    from llm_client.settings import LlmSettings
    from llm_client.stages import market_analysis, return_recall, risk_assessment, signal_generation

    settings = LlmSettings.from_config(model_config(manifest, "llm_market_analysis", "llm_settings"))
    context = table_rows(session, "int_llm_context")
    write_table(session, market_analysis(context, settings), "llm_market_analysis")
    analyses = table_rows(session, "llm_market_analysis")
    write_table(session, signal_generation(context, analyses, settings), "llm_signal_generation")
    signals = table_rows(session, "llm_signal_generation")
    write_table(session, risk_assessment(context, signals, settings), "llm_risk_assessment")
    months = [{"ticker": row["ticker"], "month": row["month"]} for row in table_rows(session, "int_llm_recall_months")]
    risk = table_rows(session, "llm_risk_assessment")
    write_table(session, return_recall(months, risk, settings), "llm_return_recall")


def copy_llm_tables(session: Any, duckdb_file: Path) -> None:
    """The LLM stage tables of a DuckDB build, as they are (the cached answers; no LLM call)."""
    copy_tables(session, duckdb_file, PYTHON_JOB_TABLES, include_raw=False)


def run_recall(session: Any, manifest: Path) -> None:
    """mart_model_recall from Spark's tables, as the dbt Python model computes it."""
    from signal_stats.recall import RecallSettings, recall_table

    settings = RecallSettings.from_config(model_config(manifest, "mart_model_recall", "recall_settings"))
    answers = table_frame(session, "llm_return_recall")
    months = table_frame(session, "int_llm_recall_months")
    write_table(session, recall_table(answers, months, settings), "mart_model_recall")


def run_scorecard(session: Any, manifest: Path) -> None:
    """mart_strategy_scorecard from Spark's tables, through the same entry point as the dbt model."""
    from signal_stats.scorecard import build_scorecard, read_inputs
    from signal_stats.settings import ScorecardSettings

    settings = ScorecardSettings.from_config(model_config(manifest, "mart_strategy_scorecard", "scorecard_settings"))

    def read(relation: str, condition: str | None, columns: list[str] | None) -> pd.DataFrame:
        frame = table_frame(session, relation, condition)
        return frame if columns is None else frame[columns]

    write_table(session, build_scorecard(read_inputs(read, settings), settings), "mart_strategy_scorecard")


def run_jobs(session: Any, jobs: list[str], manifest: Path) -> None:
    """The jobs, in order, in the given session (bin/spark-parity runs them in its own session)."""
    actions = {
        "llm": lambda: run_llm_stages(session, manifest),
        "llm-copy": lambda: copy_llm_tables(session, warehouse_path()),
        "recall": lambda: run_recall(session, manifest),
        "scorecard": lambda: run_scorecard(session, manifest),
    }
    for job in jobs:
        actions[job]()


@user_errors
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "jobs",
        nargs="+",
        choices=["llm", "llm-copy", "recall", "scorecard"],
        help="run in this order, one Spark session",
    )
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST, help="manifest.json of a Spark parse/build")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from spark_target.session import spark_session

    session = spark_session()
    run_jobs(session, args.jobs, args.manifest)
    session.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
