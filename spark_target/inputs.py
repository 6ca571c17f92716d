"""The raw tables a Spark build reads: DuckDB's ``raw`` schema (written by the ingest CLIs).

:func:`copy_tables` reads tables of a DuckDB warehouse on the driver and stores each as a Spark
table (``raw.<table>``, Parquet) through Spark's own writer, so the files land in Spark's storage
(``<storage root>/warehouse``, profiles.yml) where every executor of a cluster reads them, not in a
folder only the driver's machine sees. spark_target.python_job stores the tables of the Python
models the same way (:func:`write_arrow`).

    python -m spark_target.inputs            # from $WAREHOUSE_DIR/warehouse.duckdb
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
from warehouse_core.paths import warehouse_path
from warehouse_core.warehouse import connect

logger = logging.getLogger(__name__)

RAW_SCHEMA = "raw"
TARGET_SCHEMA = "main"
# The LLM stage tables (and the recall probe's), built on DuckDB by dbt Python models; on Spark by
# spark_target.python_job.
PYTHON_JOB_TABLES = ("llm_market_analysis", "llm_signal_generation", "llm_risk_assessment", "llm_return_recall")


def write_arrow(session: Any, data: Any, name: str) -> None:
    """Store a pyarrow Table as the Spark table ``schema.table`` (Parquet, replacing an earlier one).

    The column types are the Arrow types DuckDB gave (so Spark holds what DuckDB holds); Spark's
    writer puts the files under its warehouse folder, on the executors."""
    schema = name.split(".")[0]
    session.sql(f"create database if not exists {schema}")
    session.sql(f"drop table if exists {name}")
    session.createDataFrame(data).write.format("parquet").saveAsTable(name)
    logger.info("stored %s (%d rows)", name, data.num_rows)


def copy_tables(
    session: Any, duckdb_file: Path, python_job_tables: tuple[str, ...] = (), include_raw: bool = True
) -> list[str]:
    """Every raw table of ``duckdb_file`` (unless not include_raw) and the given tables of the target
    schema, stored as Spark tables of the same name; returns their names."""
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
        wanted = [f"{RAW_SCHEMA}.{t}" for t in raw_tables if include_raw]
        wanted += [f"{TARGET_SCHEMA}.{t}" for t in python_job_tables]
        for name in wanted:
            write_arrow(session, con.sql(f"select * from {name}").to_arrow_table(), name)
        return wanted
    finally:
        con.close()


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

    session = spark_session()
    copy_tables(session, warehouse_path(), PYTHON_JOB_TABLES if args.with_llm_tables else ())
    session.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
