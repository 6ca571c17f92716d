"""BI access: marts readable read-only through SQLAlchemy (duckdb-engine) and as Parquet files,
and a BI connection holding the DuckDB file makes a build fail clearly instead of hanging or
corrupting anything."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from warehouse_helpers import PROJECT_DIR, run_dbt

pytestmark = [pytest.mark.warehouse, pytest.mark.model]

READ_ONLY_CLIENT = textwrap.dedent(
    """
    # A BI tool's view of the warehouse: SQLAlchemy + duckdb-engine, read-only URL.
    import json, sys
    import sqlalchemy as sa

    engine = sa.create_engine(f"duckdb:///{sys.argv[1]}?access_mode=read_only")
    report = {}
    with engine.connect() as con:
        # relations a BI tool lists: tables and views (fct_backtest_daily is a view)
        report["tables"] = sa.inspect(con).get_table_names() + sa.inspect(con).get_view_names()
        for mart in sys.argv[2:]:
            # not inspect().get_columns(): duckdb-engine 0.17 + SQLAlchemy >= 2.0.45 column reflection
            # queries pg_catalog.pg_collation, which DuckDB lacks (Mause/duckdb_engine#1379)
            columns = con.execute(sa.text(
                "select column_name from information_schema.columns where table_name = :t order by ordinal_position"
            ), {"t": mart}).scalars().all()
            rows = con.execute(sa.text(f"select count(*) from {mart}")).scalar()
            report[mart] = {"rows": rows, "columns": columns}
        try:
            con.execute(sa.text("create table bi_scratch (x integer)"))
            report["write"] = "allowed"
        except sa.exc.DBAPIError as error:
            report["write"] = str(error.orig)
    print(json.dumps(report))
    """
)

HOLDING_CLIENT = textwrap.dedent(
    """
    # A BI tool that keeps its read-only connection open (a pooled connection).
    import sys, time
    import sqlalchemy as sa

    engine = sa.create_engine(f"duckdb:///{sys.argv[1]}?access_mode=read_only")
    with engine.connect() as con:
        con.execute(sa.text("select count(*) from fct_prices_daily")).scalar()
        print("holding", flush=True)
        time.sleep(120)
    """
)


# marts the default build leaves empty, and why (a BI tool still reads their columns)
EMPTY_ON_DEFAULTS = {"mart_model_recall": "the recall probe runs only with var llm_memorization_check"}


def _marts() -> list[str]:
    """Every model under models/marts (its files: the shared warehouse of bin/test has no manifest)."""
    return sorted(p.stem for p in (PROJECT_DIR / "models" / "marts").rglob("*") if p.suffix in {".sql", ".py"})


def test_a_second_process_reads_every_mart_read_only(built_warehouse: Path) -> None:
    marts = _marts()
    assert {"fct_prices_daily", "mart_dataset_splits", "mart_backtest_summary", "mart_signal_tracking"} <= set(marts)
    result = subprocess.run(
        [sys.executable, "-c", READ_ONLY_CLIENT, str(built_warehouse / "warehouse.duckdb"), *marts],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(result.stdout)
    assert set(marts) <= set(report["tables"])
    for mart in marts:
        assert report[mart]["rows"] > 0 or mart in EMPTY_ON_DEFAULTS, mart
        assert report[mart]["columns"], mart
    assert "read-only" in report["write"], report["write"]


def test_every_mart_is_exported_to_parquet_with_the_same_rows(built_warehouse: Path) -> None:
    engine = sa.create_engine("duckdb:///:memory:")  # how a BI tool reads the exports: no warehouse file involved
    # NullPool: the connection (and DuckDB's lock on the file) ends with the block, as BI tools should be set up
    warehouse = sa.create_engine(
        f"duckdb:///{built_warehouse / 'warehouse.duckdb'}?access_mode=read_only", poolclass=sa.pool.NullPool
    )
    try:
        with engine.connect() as files, warehouse.connect() as tables:
            for mart in _marts():
                path = built_warehouse / "marts" / f"{mart}.parquet"
                assert path.is_file(), f"{mart} was not exported to {path}"
                from_file = files.execute(sa.text(f"select * from read_parquet('{path}') order by all")).fetchall()
                from_table = tables.execute(sa.text(f"select * from {mart} order by all")).fetchall()
                assert from_file == from_table, mart
    finally:
        warehouse.dispose()
        engine.dispose()


@pytest.fixture()
def warehouse_copy(built_warehouse: Path, tmp_path: Path) -> Path:
    """A private copy of the built warehouse (with its Parquet exports) to lock and rebuild."""
    copy = tmp_path / "warehouse"
    copy.mkdir()
    shutil.copy(built_warehouse / "warehouse.duckdb", copy / "warehouse.duckdb")
    shutil.copytree(built_warehouse / "marts", copy / "marts")
    return copy


def test_a_bi_tool_holding_the_file_fails_the_build_clearly_and_harmlessly(
    warehouse_copy: Path, tmp_path: Path
) -> None:
    # the project's profile with fewer connection attempts, so the test waits 1 + 2 s instead of ~31 s
    profile = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())
    profile["signal_warehouse"]["outputs"]["dev"]["retries"]["connect_attempts"] = 2
    profiles_dir = tmp_path / "profiles"
    profiles_dir.mkdir()
    (profiles_dir / "profiles.yml").write_text(yaml.safe_dump(profile))

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDING_CLIENT, str(warehouse_copy / "warehouse.duckdb")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        started = time.monotonic()
        blocked = run_dbt(
            ["run", "-s", "fct_prices_daily", "--profiles-dir", str(profiles_dir)], warehouse_copy, check=False
        )
        assert blocked.returncode != 0
        message = blocked.stdout
        assert f'Could not set lock on file "{warehouse_copy / "warehouse.duckdb"}"' in message, message[-2000:]
        assert f"PID {holder.pid}" in message, "the error names the process holding the file"
        assert time.monotonic() - started < 60
        # the Parquet exports stay readable meanwhile
        with sa.create_engine("duckdb:///:memory:").connect() as files:
            path = warehouse_copy / "marts" / "fct_prices_daily.parquet"
            assert files.execute(sa.text(f"select count(*) from read_parquet('{path}')")).scalar() > 0
    finally:
        holder.kill()
        holder.wait()
    # once the BI tool lets go, the same build succeeds on the untouched file
    rebuilt = run_dbt(["run", "-s", "fct_prices_daily", "--profiles-dir", str(profiles_dir)], warehouse_copy)
    assert "Completed successfully" in rebuilt.stdout


def test_parquet_readers_never_block_a_build(warehouse_copy: Path) -> None:
    path = warehouse_copy / "marts" / "fct_prices_daily.parquet"
    build = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dbt"),
            "run",
            "-s",
            "fct_prices_daily",
            "--target-path",
            str(warehouse_copy / "target"),
            "--log-path",
            str(warehouse_copy / "logs"),
        ],
        cwd=PROJECT_DIR,
        env={**__import__("os").environ, "WAREHOUSE_DIR": str(warehouse_copy)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    reads = set()
    with sa.create_engine("duckdb:///:memory:").connect() as files:
        while build.poll() is None:
            reads.add(files.execute(sa.text(f"select count(*) from read_parquet('{path}')")).scalar())
            time.sleep(0.05)
    output = build.stdout.read() if build.stdout else ""
    assert build.returncode == 0, output[-3000:]
    assert len(reads) == 1 and reads.pop() > 0, "every read saw the complete file, before or after the export"
