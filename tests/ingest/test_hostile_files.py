"""Hostile and faulty price files and warehouses: one ticker's bad file never costs the others, every
problem is one line naming the file, row and value, and a write that fails (full disk, unwritable
folder, damaged file) leaves the warehouse exactly as it was."""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import pytest
from warehouse_helpers import file_size_limit, run_cli, snapshot, unwritable

HEADER = "date,open,high,low,close,adj_close,volume\n"
WEEKDAYS = [f"2012-01-{day:02d}" for day in (3, 4, 5, 6, 9, 10, 11, 12, 13, 16)]


def rows(dates: list[str] = WEEKDAYS) -> str:
    return "".join(f"{d},10,11,9,{10 + i / 10},{10 + i / 10},{1000 + i}\n" for i, d in enumerate(dates))


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def ingest(tmp_path: Path, tickers: str, *extra: str, **env: str) -> subprocess.CompletedProcess:
    args = ["--tickers", tickers, "--benchmark", "", "--start", "2012-01-01", "--end", "2012-12-31"]
    return run_cli(["python_ingest", *args, *extra], tmp_path, check=False, **env)


def test_one_tickers_bad_file_never_costs_the_others(tmp_path: Path) -> None:
    prices = tmp_path / "prices"
    prices.mkdir()
    (prices / "M00.csv").write_text(HEADER + rows())
    (prices / "M01.csv").write_text(HEADER + rows())
    with (prices / "HUGE.csv").open("wb") as huge:  # sparse: 129 MB on paper, nothing on disk
        huge.truncate(129 * 2**20)
    (prices / "VOL.csv").write_text(HEADER + rows().replace(",1003\n", ",1e30\n"))
    (prices / "CASE.csv").write_text("date,open,high,low,Close,close,adj_close,volume\n2012-01-03,10,11,9,10,10,10,5\n")
    (prices / "RAND.csv").write_bytes(bytes(range(256)) * 20)
    # daylight saving in a New York export: two UTC offsets in one column; each date counts as written
    (prices / "TZ.csv").write_text(
        HEADER + "2012-03-09T00:00:00-05:00,10,11,9,10,10,5\n2012-03-12T00:00:00-04:00,10,11,9,10,10,5\n"
    )
    result = ingest(tmp_path, "M00,M01,HUGE,VOL,CASE,RAND,TZ", "--source", "csv", "--csv-dir", str(prices))

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = error_lines(result.stderr)
    assert f"HUGE refused: csv: {prices}/HUGE.csv holds 129 MB, more than the 128 MB a price file may hold" in line
    assert f"VOL refused: csv: {prices}/VOL.csv line 5, column volume: '1e30' is not a share count" in line
    assert (
        f"CASE refused: csv: {prices}/CASE.csv: the header names column close more than once ('Close', 'close')" in line
    )
    assert f"RAND refused: csv: cannot read {prices}/RAND.csv" in line
    assert line.endswith("the other tickers were stored")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        stored = dict(con.execute("select ticker, count(*) from raw.prices group by ticker").fetchall())
        tz_dates = [
            str(d) for (d,) in con.execute("select date from raw.prices where ticker = 'TZ' order by 1").fetchall()
        ]
        statuses = dict(con.execute("select ticker, status from raw.ingest_runs").fetchall())
    assert stored == {"M00": 10, "M01": 10, "TZ": 2}
    assert tz_dates == ["2012-03-09", "2012-03-12"]
    assert {t: s for t, s in statuses.items() if s == "error"}.keys() == {"HUGE", "VOL", "CASE", "RAND"}


def test_a_file_read_in_chunks_names_lines_past_the_first_chunk(tmp_path: Path, monkeypatch) -> None:
    from datetime import date, timedelta

    from python_ingest.sources import csv_files
    from warehouse_core import UserError

    monkeypatch.setattr(csv_files, "CHUNK_ROWS", 4)
    days = [(date(2012, 1, 2) + timedelta(days=i)).isoformat() for i in range(11)]
    (tmp_path / "DUP.csv").write_text(HEADER + rows([*days[:9], days[2], days[10]]))
    with pytest.raises(UserError, match=r"DUP.csv lines 4, 11 hold the same date \(column date, value '2012-01-04'\)"):
        csv_files.fetch("DUP", date(2012, 1, 1), date(2012, 12, 31), tmp_path, 1)
    (tmp_path / "ODD.csv").write_text(HEADER + rows(days).replace("2012-01-11,", "2012-01-xx,"))
    with pytest.raises(UserError, match=r"ODD.csv line 11, column date: '2012-01-xx' is not a date"):
        csv_files.fetch("ODD", date(2012, 1, 1), date(2012, 12, 31), tmp_path, 1)
    (tmp_path / "OK.csv").write_text(HEADER + rows(days))
    assert len(csv_files.fetch("OK", date(2012, 1, 1), date(2012, 12, 31), tmp_path, 1).frame) == 11


def test_a_full_disk_during_the_ingest_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    run_cli(["python_ingest", "--tickers", "IBM", "--benchmark", "", "--start", "2012-01-01"], tmp_path)
    db = tmp_path / "warehouse.duckdb"
    before = snapshot(db)
    more = ["python_ingest", "--tickers", "MSFT,AAPL", "--benchmark", "", "--start", "2010-01-01"]
    # no file may grow past 4 KB: the warehouse cannot grow, its write-ahead log gets 4 KB
    full = run_cli(more, tmp_path, check=False, preexec_fn=file_size_limit(4096))
    assert full.returncode == 2, full.stderr
    assert "Traceback" not in full.stderr
    (line,) = error_lines(full.stderr)
    assert line.startswith(f"error: cannot write to warehouse {db} (File too large): free space on its disk or make")
    assert line.endswith("nothing was changed")
    assert snapshot(db) == before

    # room for the write-ahead log but not for the file to grow: the run commits, DuckDB cannot fold the
    # log into the file at close, and the log left behind is named in a warning
    committed = run_cli(more, tmp_path, check=False, preexec_fn=file_size_limit(db.stat().st_size))
    assert committed.returncode == 0, committed.stderr
    wal = db.with_name("warehouse.duckdb.wal")
    assert wal.stat().st_size > 0
    assert (
        f"warning: {wal} (0.1 MB) was left behind: DuckDB could not write it into warehouse.duckdb" in committed.stderr
    )
    after = snapshot(db)  # opened with room to write: DuckDB applies the log
    assert {t for (t, *_) in after["raw.prices"]} == {"IBM", "MSFT", "AAPL"}


def test_an_unwritable_warehouse_folder_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "wh"
    run_cli(["python_ingest", "--tickers", "IBM", "--benchmark", "", "--start", "2012-01-01"], folder)
    db = folder / "warehouse.duckdb"
    before = snapshot(db)
    with unwritable(folder):
        result = ingest(folder, "MSFT")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "cannot rollback" not in result.stderr
    (line,) = error_lines(result.stderr)
    assert line.startswith(f"error: cannot write to warehouse {db} (") and str(folder) in line
    assert snapshot(db) == before


def damage(db: Path) -> bytes:
    """Overwrite everything after the three header blocks: a valid header, unreadable blocks."""
    size = db.stat().st_size
    with db.open("r+b") as handle:
        handle.seek(12288)
        handle.write(bytes(range(256)) * ((size - 12288) // 256))
    return db.read_bytes()


def test_a_damaged_warehouse_is_called_damaged_not_locked(tmp_path: Path) -> None:
    run_cli(["python_ingest", "--tickers", "IBM", "--benchmark", "", "--start", "2012-01-01"], tmp_path)
    db = tmp_path / "warehouse.duckdb"
    damaged = damage(db)
    for command in (["python_ingest", "--tickers", "IBM"], ["report"]):
        result = run_cli(command, tmp_path, check=False)
        assert result.returncode == 2, result.stderr
        (line,) = error_lines(result.stderr)
        assert "is locked" not in line, line
        assert f"warehouse {db}: the file is damaged or not a DuckDB database (IO Error: Corrupt database file" in line
        assert "restore it from a backup, or move it aside and rebuild it" in line
    assert db.read_bytes() == damaged, "the damaged file is left as it was, for recovery"
