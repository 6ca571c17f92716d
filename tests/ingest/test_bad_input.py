"""Every bad input gets a one-line error, a non-zero exit, and writes nothing."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from warehouse_helpers import PROJECT_DIR, run_cli

TOMORROW = (date.today() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tickers", "AAPL;DROP TABLE raw.prices"], "invalid ticker"),
        (["--tickers", "THIS-TICKER-IS-TOO-LONG"], "invalid ticker"),
        (["--tickers", " , "], "no tickers given"),
        (["--start", "2012-13-01"], "invalid --start date"),
        (["--end", "yesterday"], "invalid --end date"),
        (["--start", "2012-01-01", "--end", "2011-01-01"], "is after --end"),
        (["--end", TOMORROW], "is in the future"),
        (["--source", "bloomberg"], "unknown source"),
    ],
)
def test_invalid_arguments_fail_before_writing(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_cli(["python_ingest", *args], tmp_path, check=False)
    assert result.returncode == 2
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and message in error_lines[0], result.stderr
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_unknown_ticker_is_reported_and_others_are_kept(tmp_path: Path) -> None:
    result = run_cli(
        ["python_ingest", "--tickers", "AAPL,NOSUCH", "--benchmark", "", "--start", "2012-01-01"], tmp_path, check=False
    )
    assert result.returncode == 1
    assert "no data for NOSUCH" in result.stderr
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        statuses = dict(con.execute("select ticker, status from raw.ingest_runs").fetchall())
        tickers = {t for (t,) in con.execute("select distinct ticker from raw.prices").fetchall()}
    assert statuses == {"AAPL": "ok", "NOSUCH": "empty"}
    assert tickers == {"AAPL"}


def test_locked_warehouse_gives_a_clear_error_and_keeps_data(tmp_path: Path) -> None:
    run_cli(["python_ingest", "--tickers", "IBM", "--benchmark", "", "--start", "2012-01-01"], tmp_path)
    db = tmp_path / "warehouse.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        result = run_cli(
            ["python_ingest", "--tickers", "IBM", "--benchmark", "", "--start", "2011-01-01", "--refresh"],
            tmp_path,
            check=False,
        )
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 2
    assert "is locked by another process" in result.stderr and "close it and retry" in result.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*), min(date) from raw.prices").fetchone() == (291, date(2012, 1, 3))


CRASH_SCRIPT = """
import os, sys
from python_ingest import warehouse
real_write = warehouse._write_prices
calls = []
def write_then_die(*args, **kwargs):
    rows = real_write(*args, **kwargs)
    calls.append(rows)
    if len(calls) == 2:          # second ticker written inside the open transaction: die hard
        os._exit(9)
    return rows
warehouse._write_prices = write_then_die
from python_ingest.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_run_killed_mid_write_leaves_previous_state(tmp_path: Path) -> None:
    args = ["--tickers", "AAPL,MSFT,IBM", "--benchmark", "", "--start", "2012-01-01"]
    run_cli(["python_ingest", *args], tmp_path)
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        before_prices = con.execute("select * from raw.prices order by ticker, date").fetchall()
        before_runs = con.execute("select count(*) from raw.ingest_runs").fetchone()

    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, *args, "--start", "2011-01-01", "--refresh"],
        cwd=PROJECT_DIR,
        env={"WAREHOUSE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert crashed.returncode == 9, crashed.stderr

    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select * from raw.prices order by ticker, date").fetchall() == before_prices
        assert con.execute("select count(*) from raw.ingest_runs").fetchone() == before_runs
