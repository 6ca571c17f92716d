"""Loading a good signals file: every accepted shape reads to the same rows, a name's signals are
replaced in one transaction (other names untouched), an identical file rewrites nothing (the load is
logged as 'unchanged'), a kill mid-load keeps the previous state, and tickers the build cannot
backtest are named in a warning with the command that fixes it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from signals_helpers import load, snapshot, write
from warehouse_helpers import PROJECT_DIR

from python_ingest.signals.checks import check_signals
from python_ingest.signals.reader import read_signals_file
from python_ingest.signals.rows import CheckedSignals
from python_ingest.warehouse import ensure_tables

# (ticker, date, action, confidence) as every shape below spells them
EXPECTED = [
    ("AAPL", date(2012, 1, 6), "BUY", 0.8),
    ("AAPL", date(2012, 1, 14), "SELL", 0.7),
    ("MSFT", date(2012, 1, 9), "HOLD", 0.55),
]
SHAPES = {
    "plain.csv": "ticker,date,action,confidence\nAAPL,2012-01-06,BUY,0.8\nAAPL,2012-01-14,SELL,0.7\nMSFT,2012-01-09,HOLD,0.55\n",
    # BOM, upper-case header with spaces, a blank line, a timestamp column, lower-case actions
    "excel.csv": "\ufeffTicker, Timestamp ,Action,Confidence,Reasoning\n"
    " aapl ,2012-01-06T16:00:00-05:00,buy,0.8,up\n\nAAPL,2012-01-14 09:30:00,Sell,0.70,\n"
    "msft,2012-01-09T23:59:59Z,hold,.55,flat\n",
    "list.json": json.dumps(
        [
            {"ticker": "AAPL", "signal_date": "2012-01-06", "action": "BUY", "confidence": 0.8, "model": "m"},
            {"ticker": "AAPL", "signal_date": "2012-01-14", "action": "SELL", "confidence": "0.7"},
            {"ticker": "MSFT", "signal_date": "2012-01-09", "action": "HOLD", "confidence": 0.55},
        ]
    ),
    "object.json": json.dumps(
        {
            "generated_at": "2012-01-15",
            "signals": [
                {"ticker": "AAPL", "timestamp": "2012-01-06T23:30:00-05:00", "action": "buy", "confidence": 0.8},
                {"ticker": "AAPL", "timestamp": "2012-01-14T10:00:00+09:00", "action": "sell", "confidence": 0.7},
                {"TICKER": "MSFT", "Timestamp": "2012-01-09", "ACTION": "Hold", "Confidence": 0.55},
            ],
        }
    ),
    # the original tool: its backtest script reads ticker -> list, its checkpoint holds ticker -> one signal
    "by_ticker.json": json.dumps(
        {
            "AAPL": [
                {"date": "2012-01-06", "action": "BUY", "confidence": 0.8},
                {"date": "2012-01-14", "action": "SELL", "confidence": 0.7},
            ],
            "MSFT": {
                "ticker": "MSFT",
                "action": "HOLD",
                "confidence": 0.55,
                "reasoning": "range-bound",
                "risk_level": "low",
                "signal_timestamp": "2012-01-09T18:42:10.123456",
                "llm_model": "qwen:14b-chat-q4_K_M",
            },
        }
    ),
}


def checked(path: Path) -> CheckedSignals:
    return check_signals(read_signals_file(path, max_mb=1))


@pytest.mark.parametrize("file_name", sorted(SHAPES))
def test_every_accepted_shape_reads_to_the_same_signals(tmp_path: Path, file_name: str) -> None:
    rows = checked(write(tmp_path, file_name, SHAPES[file_name]))
    assert [(r.ticker, r.signal_date, r.action, r.confidence) for r in rows] == EXPECTED


def test_rows_keep_where_they_are_in_the_file(tmp_path: Path) -> None:
    excel = checked(write(tmp_path, "excel.csv", SHAPES["excel.csv"]))
    # the blank line 3 is skipped but still counted: the user's editor shows the second row on line 4
    assert [(r.source_row, r.source_location) for r in excel] == [(2, "line 2"), (4, "line 4"), (5, "line 5")]
    assert excel[0].date_as_written == "2012-01-06T16:00:00-05:00"
    assert [r.rationale for r in excel] == ["up", None, "flat"]
    by_ticker = checked(write(tmp_path, "by_ticker.json", SHAPES["by_ticker.json"]))
    assert [r.source_location for r in by_ticker] == ["item AAPL[0]", "item AAPL[1]", "item MSFT"]
    assert (by_ticker[2].model, by_ticker[2].rationale) == ("qwen:14b-chat-q4_K_M", "range-bound")
    listed = checked(write(tmp_path, "list.json", SHAPES["list.json"]))
    assert [(r.source_row, r.source_location, r.model) for r in listed] == [
        (0, "item [0]", "m"),
        (1, "item [1]", None),
        (2, "item [2]", None),
    ]


def test_a_file_without_a_known_extension_is_sniffed(tmp_path: Path) -> None:
    for name in ("list.json", "plain.csv"):
        path = write(tmp_path, name.replace(".", "_") + ".txt", SHAPES[name])
        assert len(checked(path)) == 3


def signals_table(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select name, ticker, signal_date, action, confidence, load_id from raw.signals order by all"
        ).fetchall()


def loads_table(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select name, file_name, file_sha256, file_format, row_count, status from raw.signal_loads order by loaded_at"
        ).fetchall()


def test_loading_twice_changes_nothing_but_the_load_log(tmp_path: Path, caplog) -> None:
    db = tmp_path / "warehouse.duckdb"
    path = write(tmp_path, "plain.csv", SHAPES["plain.csv"])
    assert load(caplog, db, path)[0] == 0
    before = snapshot(db)
    assert load(caplog, db, path)[0] == 0
    after = snapshot(db)
    assert {t: rows for t, rows in after.items() if t != "raw.signal_loads"} == {
        t: rows for t, rows in before.items() if t != "raw.signal_loads"
    }
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert loads_table(db) == [
        ("mine", str(path.resolve()), sha, "csv", 3, "loaded"),
        ("mine", str(path.resolve()), sha, "csv", 3, "unchanged"),
    ]
    # the signals point at the load that wrote them
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(
            "select distinct l.status from raw.signals s join raw.signal_loads l using (load_id)"
        ).fetchall() == [("loaded",)]


def test_loading_a_name_again_replaces_only_its_signals(tmp_path: Path, caplog) -> None:
    db = tmp_path / "warehouse.duckdb"
    assert load(caplog, db, write(tmp_path, "a.csv", SHAPES["plain.csv"]), "mine")[0] == 0
    assert load(caplog, db, write(tmp_path, "b.json", SHAPES["list.json"]), "other")[0] == 0
    other_before = [row for row in signals_table(db) if row[0] == "other"]
    new = write(tmp_path, "new.csv", "ticker,date,action,confidence\nIBM,2012-02-01,BUY,0.9\n")
    assert load(caplog, db, new, "mine")[0] == 0
    rows = signals_table(db)
    assert [row[:5] for row in rows if row[0] == "mine"] == [("mine", "IBM", date(2012, 2, 1), "BUY", 0.9)]
    assert [row for row in rows if row[0] == "other"] == other_before
    assert [(name, status, n) for name, _, _, _, n, status in loads_table(db)] == [
        ("mine", "loaded", 3),
        ("other", "loaded", 3),
        ("mine", "loaded", 1),
    ]


CRASH_SCRIPT = """
import os, sys
from python_ingest.signals import store
real_insert = store.insert_signals
def insert_then_die(*args, **kwargs):
    real_insert(*args, **kwargs)   # the new rows are written inside the open transaction ...
    os._exit(9)                    # ... and the process dies before the load is logged and committed
store.insert_signals = insert_then_die
from python_ingest.signals.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_kill_during_the_load_leaves_the_previous_state(tmp_path: Path, caplog) -> None:
    db = tmp_path / "warehouse.duckdb"
    assert load(caplog, db, write(tmp_path, "a.csv", SHAPES["plain.csv"]))[0] == 0
    before = snapshot(db)
    new = write(tmp_path, "new.csv", "ticker,date,action,confidence\nIBM,2012-02-01,BUY,0.9\n")
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, "--file", str(new), "--name", "mine", "--warehouse", str(db)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
    )
    assert crashed.returncode == 9, crashed.stderr
    assert snapshot(db) == before


def test_tickers_the_build_cannot_backtest_are_named_with_the_fix(tmp_path: Path, caplog) -> None:
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        ensure_tables(con)
        con.execute("insert into raw.prices values ('AAPL', '2012-01-03', 1, 1, 1, 1, 1, 1, 'csv', now())")
    path = write(
        tmp_path,
        "signals.csv",
        "ticker,date,action,confidence\nAAPL,2012-01-06,BUY,0.8\nMSFT,2012-01-06,BUY,0.8\nACME,2012-01-05,BUY,0.8\n"
        "ACME,2012-01-09,SELL,0.8\nAAPL,2014-01-06,SELL,0.8\n",
    )
    rc, errors, warnings = load(caplog, db, path, "mine", "--vars", "{tickers: [AAPL, MSFT], end: '2013-03-01'}")
    assert (rc, errors) == (0, [])
    assert warnings == [
        "warning: external:mine: no prices in the warehouse for ACME, MSFT (3 signal(s) kept, not backtested until "
        f"prices exist): python -m python_ingest --tickers ACME,MSFT --start 2012-01-05 --end {date.today()}",
        "warning: external:mine: ACME not among the build's tickers (AAPL, MSFT): their 2 signal(s) are kept in raw "
        "and staging but not backtested; build with them: python -m pipeline --tickers AAPL,MSFT,ACME "
        "(or dbt build --vars '{tickers: [AAPL,MSFT,ACME]}')",
        "warning: external:mine: 1 signal(s) dated after the build window's end 2013-03-01 (var end; latest "
        "2014-01-06) act after the data ends and stay pending: build with a later --end (and prices up to it)",
    ]
    assert {row[1] for row in signals_table(db)} == {"AAPL", "MSFT", "ACME"}  # kept, not dropped
