"""The raw tables a Spark build reads: DuckDB's ``raw`` schema (written by the ingest CLIs).

``export`` writes tables of a DuckDB warehouse to Parquet under ``$WAREHOUSE_DIR/spark/inputs``;
``register`` declares each file as a Spark table (``raw.<table>``) in the metastore dbt's Spark
session uses, pointing at the file, not copying it. spark_target.python_job uses both for the
tables of the Python models.

    python -m spark_target.inputs            # both steps, from $WAREHOUSE_DIR/warehouse.duckdb
    python -m spark_target.inputs --with-llm-tables   # and the LLM stage tables of that build
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from warehouse_core.cli import user_errors
from warehouse_core.errors import UserError
from warehouse_core.paths import warehouse_dir, warehouse_path
from warehouse_core.warehouse import connect

logger = logging.getLogger(__name__)

RAW_SCHEMA = "raw"
TARGET_SCHEMA = "main"
# The LLM stage tables (and the recall probe's), built on DuckDB by dbt Python models; on Spark by
# spark_target.python_job.
PYTHON_JOB_TABLES = ("llm_market_analysis", "llm_signal_generation", "llm_risk_assessment", "llm_return_recall")


def inputs_dir() -> Path:
    return warehouse_dir() / "spark" / "inputs"


def export(
    duckdb_file: Path, out_dir: Path, python_job_tables: tuple[str, ...] = (), include_raw: bool = True
) -> dict[str, Path]:
    """Write every raw table (unless not include_raw) and the given tables of the target schema to
    ``out_dir/<schema>/<table>.parquet``; returns {schema.table: file}."""
    con = connect(duckdb_file, read_only=True)
    try:
        raw_tables = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = ? order by 1", [RAW_SCHEMA]
            ).fetchall()
        ]
        if include_raw and not raw_tables:
            raise UserError(f"{duckdb_file} has no raw tables: run the ingest (python -m python_ingest) first")
        wanted = [(RAW_SCHEMA, t) for t in raw_tables if include_raw] + [(TARGET_SCHEMA, t) for t in python_job_tables]
        written: dict[str, Path] = {}
        for schema, table in wanted:
            path = out_dir / schema / f"{table}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            con.execute(f"copy (select * from {schema}.{table}) to '{path}' (format parquet)")
            written[f"{schema}.{table}"] = path
        return written
    finally:
        con.close()


def register(session: Any, tables: dict[str, Path]) -> None:
    """Declare each ``schema.table`` -> Parquet file as a Spark table (replacing an earlier one)."""
    for name, path in tables.items():
        schema = name.split(".")[0]
        session.sql(f"create database if not exists {schema}")
        session.sql(f"drop table if exists {name}")
        session.sql(f"create table {name} using parquet location '{path.resolve().as_uri()}'")
        logger.info("registered %s -> %s", name, path)


@user_errors
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--with-llm-tables",
        action="store_true",
        help="also copy the DuckDB build's LLM stage tables (as python -m spark_target.python_job llm-copy; one Spark start less)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from spark_target.session import spark_session

    tables = export(warehouse_path(), inputs_dir(), PYTHON_JOB_TABLES if args.with_llm_tables else ())
    session = spark_session()
    register(session, tables)
    session.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
