"""The ingest says what it dropped or refused, and where: file, line (header = line 1), column, value.

Real CSV files through the real CLI; each case checks the one-line error (or the log) and the
raw.ingest_runs row, and that the other tickers are still stored.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from warehouse_helpers import run_cli

HEADER = "date,open,high,low,close,adj_close,volume\n"


def ingest(tmp_path: Path, files: dict[str, str], tickers: str) -> tuple[int, str]:
    csv_dir = tmp_path / "prices"
    csv_dir.mkdir()
    for name, text in files.items():
        (csv_dir / name).write_text(text)
    args = ["--tickers", tickers, "--benchmark", "", "--start", "2012-01-01", "--end", "2012-12-31"]
    result = run_cli(
        ["python_ingest", *args, "--source", "csv,sample", "--csv-dir", str(csv_dir)], tmp_path, check=False
    )
    return result.returncode, result.stderr


def runs(tmp_path: Path) -> dict[str, tuple]:
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("select ticker, status, rows, rows_dropped, error, warnings from raw.ingest_runs").fetchall()
    return {row[0]: row[1:] for row in rows}


def stored(tmp_path: Path) -> dict[str, int]:
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        return dict(con.execute("select ticker, count(*) from raw.prices group by ticker").fetchall())


def error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    return lines[0]


def test_two_rows_for_one_date_refuse_the_ticker_naming_lines_column_and_value(tmp_path: Path) -> None:
    dup = (
        HEADER
        + "2012-01-04,10,11,9,10.5,10.5,100\n"
        + "2012-01-05,10,11,9,10.6,10.6,100\n"
        + "2012-01-06,10,11,9,10.7,10.7,100\n"
        + "2012-01-06,10,11,9,,10.7,100\n"
        + "2012-01-09,10,11,9,10.8,10.8,100\n"
    )
    rc, stderr = ingest(tmp_path, {"DUP.csv": dup}, "DUP,IBM")
    assert rc == 1
    line = error_line(stderr)
    assert "DUP refused" in line and "DUP.csv lines 4, 5 hold the same date (column date, value '2012-01-06')" in line
    assert "check the symbol and dates" not in line, "the cause is a bad row, not a bad symbol"
    status, rows, dropped, error, _ = runs(tmp_path)["DUP"]
    assert (status, rows, dropped) == ("error", 0, None)
    assert "DUP.csv lines 4, 5 hold the same date (column date, value '2012-01-06')" in error
    assert stored(tmp_path) == {"IBM": 250}, "nothing of DUP is stored, the other ticker is"


def test_one_unparseable_date_names_file_line_column_value_and_reason(tmp_path: Path) -> None:
    bad = (
        HEADER
        + "2012-01-03,10,11,9,10.5,10.5,100\n"
        + "2012-01-04,10,11,9,10.6,10.6,100\n"
        + "2012-01-05,10,11,9,10.7,10.7,100\n"
        + "2012-13-06,10,11,9,10.8,10.8,100\n"
        + "2012-01-09,10,11,9,10.9,10.9,100\n"
        + "2012-01-10,10,11,9,11.0,11.0,100\n"
    )
    rc, stderr = ingest(tmp_path, {"BAD.csv": bad}, "BAD,IBM")
    assert rc == 1
    line = error_line(stderr)
    assert "BAD refused" in line and "BAD.csv line 5, column date: '2012-13-06' is not a date (use YYYY-MM-DD)" in line
    assert "check the symbol and dates" not in line
    assert "You might want to try" not in stderr, "pandas' multi-line hint never reaches the user"
    status, _, _, error, _ = runs(tmp_path)["BAD"]
    assert status == "error" and "BAD.csv line 5, column date: '2012-13-06' is not a date" in error
    assert stored(tmp_path) == {"IBM": 250}


def test_rows_without_any_price_are_dropped_counted_and_named(tmp_path: Path) -> None:
    gaps = (
        HEADER
        + "2012-01-03,10,11,9,10.5,10.5,100\n"
        + "2012-01-04,,,,,,100\n"
        + "2012-01-05,10,11,9,10.6,10.6,100\n"
        + "\n"
        + "2012-01-06,,,,,,\n"
        + "2012-01-09,10,11,9,10.7,10.7,100\n"
    )
    rc, stderr = ingest(tmp_path, {"GAPS.csv": gaps}, "GAPS")
    assert rc == 0, stderr
    status, rows, dropped, error, warnings = runs(tmp_path)["GAPS"]
    assert (status, rows, dropped, error) == ("ok", 3, 2, None)
    assert "2 row(s) with every price empty dropped" in warnings and "GAPS.csv lines 3, 6" in warnings
    assert "GAPS.csv lines 3, 6" in stderr, "the log says it too"
    assert stored(tmp_path) == {"GAPS": 3}


OLD_INGEST_RUNS = """
create schema raw;
create table raw.ingest_runs (
    run_id varchar not null, ticker varchar not null, source varchar, status varchar not null,
    rows integer not null, error varchar, started_at timestamp not null, finished_at timestamp not null,
    requested_start date not null, requested_end date not null
);
insert into raw.ingest_runs values
    ('old', 'MSFT', 'sample', 'ok', 0, null, now(), now(), date '2011-01-01', date '2011-12-31');
"""


def test_a_warehouse_written_before_the_new_columns_keeps_working(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute(OLD_INGEST_RUNS)
    run_cli(["python_ingest", "--tickers", "IBM", "--benchmark", "", "--start", "2012-01-01"], tmp_path)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select run_id, ticker, status, rows_dropped, warnings from raw.ingest_runs order by run_id = 'old' desc"
        ).fetchall()
    assert rows[0] == ("old", "MSFT", "ok", None, None), "the old row is kept, its new columns null"
    assert rows[1][1:] == ("IBM", "ok", 0, None)
