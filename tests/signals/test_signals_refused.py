"""A signals file with any bad row is refused whole: exit 2, one line per bad row naming where it is
(CSV line with the header as line 1, JSON item index), the column, the value and why; the warehouse
file is left exactly as it was. A file that cannot be read at all is one line, exit 2."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from signals_helpers import load, snapshot, write
from warehouse_helpers import file_size_limit, run_cli, unwritable

from python_ingest.signals import cli as signals_cli

TOMORROW = (date.today() + timedelta(days=1)).isoformat()
HEADER = "ticker,date,action,confidence\n"
GOOD = "AAPL,2012-01-06,BUY,0.8\nMSFT,2012-01-09,SELL,0.6\n"  # lines 2 and 3: a bad row added is line 4


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse file holding an earlier load of 'mine' and one of 'other'."""
    folder = tmp_path_factory.mktemp("refused")
    db = folder / "warehouse.duckdb"
    for name in ("mine", "other"):
        path = write(folder, f"{name}.csv", HEADER + GOOD)
        assert signals_cli.main(["--file", str(path), "--name", name, "--warehouse", str(db)]) == 0
    return db


BAD_CSV_ROWS = [
    ("AAPL;DROP TABLE,2012-01-10,BUY,0.8", "line 4, column ticker: 'AAPL;DROP TABLE' is not a ticker"),
    ("THIS-TICKER-IS-TOO-LONG,2012-01-10,BUY,0.8", "line 4, column ticker: 'THIS-TICKER-IS-TOO-LONG' is not a ticker"),
    (",2012-01-10,BUY,0.8", "line 4, column ticker is empty or missing"),
    ("AAPL,2012-13-10,BUY,0.8", "line 4, column date: '2012-13-10' is not a date"),
    ("AAPL,01/10/2012,BUY,0.8", "line 4, column date: '01/10/2012' is not a date"),
    ("AAPL,2012-01-10T25:00:00,BUY,0.8", "line 4, column date: '2012-01-10T25:00:00' is not a date"),
    (f"AAPL,{TOMORROW},BUY,0.8", f"line 4, column date: '{TOMORROW}' is in the future"),
    (f"AAPL,{TOMORROW}T00:00:01Z,BUY,0.8", "line 4, column date: "),
    ("AAPL,2012-01-10,BUYY,0.8", "line 4, column action: 'BUYY' is not BUY, SELL or HOLD"),
    ("AAPL,2012-01-10,,0.8", "line 4, column action is empty or missing"),
    ("AAPL,2012-01-10,BUY,1.5", "line 4, column confidence: '1.5' is not between 0 and 1"),
    ("AAPL,2012-01-10,BUY,-0.1", "line 4, column confidence: '-0.1' is not between 0 and 1"),
    ("AAPL,2012-01-10,BUY,75", "line 4, column confidence: '75' is not between 0 and 1 (if it is a percentage"),
    ("AAPL,2012-01-10,BUY,nan", "line 4, column confidence: 'nan' is not a number (write a decimal such as 0.75)"),
    ("AAPL,2012-01-10,BUY,high", "line 4, column confidence: 'high' is not a number"),
    # forms Python's float() reads but a decimal column does not hold: digit grouping, other scripts' digits
    ("AAPL,2012-01-10,BUY,0.5_5", "line 4, column confidence: '0.5_5' is not a number"),
    ("AAPL,2012-01-10,BUY,\u0660.\u0665", "line 4, column confidence: '\u0660.\u0665' is not a number"),
    ("AAPL,2012-01-10,BUY,0x1p-1", "line 4, column confidence: '0x1p-1' is not a number"),
    ("AAPL,2012-01-10,BUY", "line 4, column confidence is empty or missing"),
    ("AAPL,2012-01-10,BUY,0.8,extra", "line 4, 1 value(s) more than the header has columns"),
    ("aapl,2012-01-06,buy,0.9", "line 4, columns ticker, date, action: AAPL 2012-01-06 BUY repeats line 2"),
    (
        "AAPL,2012-01-06T21:30:00-05:00,Buy,0.9",
        "line 4, columns ticker, date, action: AAPL 2012-01-06 BUY repeats line 2",
    ),
]


@pytest.mark.parametrize(("row", "expected"), BAD_CSV_ROWS)
def test_a_bad_csv_row_refuses_the_file_and_writes_nothing(
    warehouse: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, row: str, expected: str
) -> None:
    before = snapshot(warehouse)
    path = write(tmp_path, "signals.csv", HEADER + GOOD + row + "\n")
    rc, errors, _ = load(caplog, warehouse, path)
    assert rc == 2
    assert errors[0].startswith(f"error: {path} {expected}"), errors
    assert len(errors) == 2 and f"{path} refused: 1 of 3 row(s) are bad" in errors[1], errors
    assert snapshot(warehouse) == before


def test_the_future_is_judged_on_the_date_as_written(warehouse: Path, tmp_path: Path, caplog) -> None:
    # late evening of today in New York is tomorrow in UTC: still today, so not in the future
    today = date.today().isoformat()
    path = write(tmp_path, "signals.csv", HEADER + f"AAPL,{today}T23:59:00-05:00,BUY,0.8\n")
    rc, errors, _ = load(caplog, warehouse, path, "today")
    assert (rc, errors) == (0, [])


BAD_JSON = [
    (
        '[{"ticker": "AAPL", "date": "2012-01-06", "action": "BUY", "confidence": 0.8}, 5]',
        "item [1], value 5 is not an object",
    ),
    (
        '{"signals": [{"ticker": "AAPL", "date": "2012-01-06", "action": "BUY", "confidence": 0.8},'
        ' {"ticker": "AAPL", "date": "2012-01-09", "action": "BUY", "confidence": true}]}',
        "item signals[1], column confidence: true is not a number",
    ),
    (
        '{"AAPL": [{"date": "2012-01-06", "action": "BUY", "confidence": 0.8},'
        ' {"ticker": "MSFT", "date": "2012-01-09", "action": "BUY", "confidence": 0.8}]}',
        "item AAPL[1], column ticker: 'MSFT' differs from the key 'AAPL'",
    ),
    (
        '{"AAPL": {"action": "BUY", "confidence": 0.8, "signal_timestamp": "2012-01-06T10:00:00"},'
        ' "MSFT": {"action": "HOLD", "confidence": 0.5, "error": "Ollama timeout"}}',
        "item MSFT, column date is empty or missing; column error: 'Ollama timeout' marks a failed call",
    ),
    (
        '[{"ticker": "AAPL", "date": 20120106, "action": "BUY", "confidence": 0.8}]',
        "item [0], column date: 20120106 is not a date",
    ),
    # a key named twice: JSON readers disagree on which counts (Python's keeps the last), so neither does
    (
        '[{"ticker": "AAPL", "date": "2012-01-06", "action": "BUY", "confidence": 0.8},'
        ' {"ticker": "AAPL", "date": "2012-01-09", "action": "BUY", "confidence": 0.9, "confidence": 0.1}]',
        "item [1], key 'confidence' names a column already given (0.9, then 0.1): readers disagree on which one "
        "counts, keep one",
    ),
    (
        '{"AAPL": [{"date": "2012-01-06", "action": "BUY", "Confidence": 0.9, "confidence": 0.1}]}',
        "item AAPL[0], key 'confidence' names a column already given (0.9, then 0.1)",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD_JSON)
def test_a_bad_json_item_refuses_the_file_and_writes_nothing(
    warehouse: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str, expected: str
) -> None:
    before = snapshot(warehouse)
    path = write(tmp_path, "signals.json", text)
    rc, errors, _ = load(caplog, warehouse, path)
    assert rc == 2
    assert errors[0].startswith(f"error: {path} {expected}"), errors
    assert "refused" in errors[-1] and "nothing was loaded" in errors[-1]
    assert snapshot(warehouse) == before


UNREADABLE = [
    ("signals.csv", b"ticker,date,action,confidence\nAAPL,2012-01-06,BUY,0.8\xff\n", "is not UTF-8 text (byte 0xff"),
    ("signals.parquet", b"PAR1\x15\x04\x15\x80\x80\x80\x80", "is not UTF-8 text"),
    ("signals.json", b'{"signals": [', "is not valid JSON (line 1, column 14"),
    ("signals.json", b"42", "holds a JSON int, not signals"),
    ("signals.json", b'{"AAPL": "BUY"}', "key 'AAPL' holds a str, not a signal object"),
    ("signals.json", b"[]", "holds no signal rows"),
    ("signals.csv", b"ticker,date,action,confidence\n", "holds no signal rows"),
    ("signals.csv", b"ticker,date,action\nAAPL,2012-01-06,BUY\n", "lacks required column(s) confidence"),
    (
        "signals.csv",
        b"ticker;date;action;confidence\nAAPL;2012-01-06;BUY;0.8\n",
        "lacks required column(s) ticker, date",
    ),
    ("signals.csv", b"ticker,date,Date,action,confidence\n", "the header names column(s) date more than once"),
    (
        "signals.json",
        b'{"AAPL": [{"date": "2012-01-06", "action": "BUY", "confidence": 0.8}],'
        b' "AAPL": [{"date": "2012-01-09", "action": "SELL", "confidence": 0.8}]}',
        "the top-level object names key(s) 'AAPL' more than once, and JSON readers disagree on which one counts",
    ),
    ("signals.json", b"[" * 1000 + b"]" * 1000, "nests JSON values deeper than Python's reader allows (near line 1)"),
    ("signals.json", b'[{"ticker": "AAPL"} {"ticker": "MSFT"}]', "is not valid JSON (line 1, column 21: Expecting ','"),
    # a field beyond the csv module's limit (131072 characters): not a signals file
    (
        "signals.csv",
        b"ticker,date,action,confidence\nAAPL,2012-01-06,BUY,0." + b"1" * 200000,
        "is not a readable CSV file",
    ),
]


@pytest.mark.parametrize(("file_name", "content", "expected"), UNREADABLE)
def test_an_unreadable_file_is_one_line_and_writes_nothing(
    warehouse: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, file_name: str, content: bytes, expected: str
) -> None:
    before = snapshot(warehouse)
    path = tmp_path / file_name
    path.write_bytes(content)
    rc, errors, _ = load(caplog, warehouse, path)
    assert rc == 2
    assert len(errors) == 1 and errors[0].startswith("error: ") and expected in errors[0], errors
    assert snapshot(warehouse) == before


def test_a_file_too_big_is_refused_before_it_is_read(warehouse: Path, tmp_path: Path, caplog) -> None:
    before = snapshot(warehouse)
    path = write(tmp_path, "big.csv", HEADER + "AAPL,2012-01-06,BUY,0.8\n" * 50_000)  # 1.1 MiB
    rc, errors, _ = load(caplog, warehouse, path, "mine", "--vars", "{ingest_max_file_mb: 1}")
    assert rc == 2
    assert errors == [
        f"error: {path} holds 1.1 MB, more than the 1 MB a signals file may hold (var ingest_max_file_mb): split it, "
        "or raise the limit with --vars '{ingest_max_file_mb: N}' if the machine has the memory"
    ]
    # a stream has no size to check first: it is cut off at the limit (or stops at its first bad row)
    for stream in ("/dev/zero", "/dev/urandom"):
        rc, errors, _ = load(caplog, warehouse, Path(stream), "mine", "--vars", "{ingest_max_file_mb: 1}")
        assert rc == 2 and len(errors) == 1 and errors[0].startswith(f"error: {stream} "), errors
    assert snapshot(warehouse) == before


def test_a_missing_file_and_a_bad_name_are_one_line(warehouse: Path, tmp_path: Path, caplog) -> None:
    before = snapshot(warehouse)
    rc, errors, _ = load(caplog, warehouse, tmp_path / "nowhere.csv")
    assert rc == 2 and len(errors) == 1 and "cannot read signals file" in errors[0]
    good = write(tmp_path, "signals.csv", HEADER + GOOD)
    for name in ("Mine", "has space", "x" * 41, "semi;colon", ""):
        rc, errors, _ = load(caplog, warehouse, good, name)
        assert rc == 2 and len(errors) == 1 and "invalid --name" in errors[0], (name, errors)
    assert snapshot(warehouse) == before


def test_at_most_twenty_bad_rows_are_listed_then_counted(warehouse: Path, tmp_path: Path, caplog) -> None:
    bad_rows = "".join(f"AAPL,2012-01-{day:02d},BUY,{day}\n" for day in range(2, 27))  # 25 rows, lines 2..26
    path = write(tmp_path, "signals.csv", HEADER + bad_rows)
    rc, errors, _ = load(caplog, warehouse, path)
    assert rc == 2
    assert len(errors) == 22
    assert errors[0].startswith(f"error: {path} line 2, column confidence: '2'")
    assert errors[19].startswith(f"error: {path} line 21, ")
    assert errors[20] == "error: ... and 5 more bad row(s)"
    assert f"{path} refused: 25 of 25 row(s) are bad" in errors[21]


def test_a_refused_file_creates_no_warehouse(tmp_path: Path, caplog) -> None:
    path = write(tmp_path, "signals.csv", HEADER + "AAPL,2012-01-06,BUY,7\n")
    rc, _, _ = load(caplog, tmp_path / "new" / "warehouse.duckdb", path)
    assert rc == 2 and not (tmp_path / "new").exists()


def test_a_locked_warehouse_is_the_usual_one_line_error(warehouse: Path, tmp_path: Path) -> None:
    before = snapshot(warehouse)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(warehouse)!r}); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    path = write(tmp_path, "signals.csv", HEADER + "IBM,2012-01-06,BUY,0.9\n")
    try:
        assert holder.stdout.readline().strip() == "held"
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "python_ingest.signals",
                "--file",
                str(path),
                "--name",
                "mine",
                "--warehouse",
                str(warehouse),
            ],
            capture_output=True,
            text=True,
        )
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 2
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and "is locked by another process" in error_lines[0], result.stderr
    assert snapshot(warehouse) == before


def load_in_child(path: Path, warehouse: Path, **options: object) -> subprocess.CompletedProcess:
    command = ["python_ingest.signals", "--file", str(path), "--name", "mine", "--warehouse", str(warehouse)]
    return run_cli(command, warehouse.parent, check=False, **options)


def test_a_full_disk_or_an_unwritable_folder_is_one_line_and_changes_nothing(warehouse: Path, tmp_path: Path) -> None:
    copy = tmp_path / "wh" / "warehouse.duckdb"
    copy.parent.mkdir()
    shutil.copy(warehouse, copy)
    before = snapshot(copy)
    days = [f"2011-{month:02d}-{day:02d}" for month in range(1, 13) for day in range(1, 29)]
    path = write(tmp_path, "many.csv", HEADER + "".join(f"T{i},{d},BUY,0.5\n" for i in range(150) for d in days))

    full = load_in_child(path, copy, preexec_fn=file_size_limit(copy.stat().st_size))  # the file cannot grow
    assert full.returncode == 2 and "Traceback" not in full.stderr, full.stderr
    (line,) = [line for line in full.stderr.splitlines() if line.startswith("error:")]
    assert line.startswith(f"error: cannot write to warehouse {copy} (File too large)"), line
    assert snapshot(copy) == before

    with unwritable(copy.parent):  # the file is writable, its folder takes no write-ahead log
        locked_out = load_in_child(path, copy)
    assert locked_out.returncode == 2, locked_out.stderr
    assert "Traceback" not in locked_out.stderr and "cannot rollback" not in locked_out.stderr
    (line,) = [line for line in locked_out.stderr.splitlines() if line.startswith("error:")]
    assert line.startswith(f"error: cannot write to warehouse {copy} ("), line
    assert snapshot(copy) == before
