"""The GX suites over raw.signals and raw.signal_loads pass on loaded files (and on the empty tables of
a warehouse that never loaded one) and fail on rows the loader would never write."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from signals_helpers import write
from warehouse_helpers import run_cli

SUITES = ["expectations", "--suites", "raw_signals", "raw_signal_loads", "--no-docs"]


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    path = write(
        tmp_path, "mine.csv", "ticker,date,action,confidence\nAAPL,2012-01-06,BUY,0.8\nAAPL,2012-01-09,SELL,0.6\n"
    )
    run_cli(["python_ingest.signals", "--file", str(path), "--name", "mine"], tmp_path)
    run_cli(["python_ingest.signals", "--file", str(path), "--name", "mine"], tmp_path)  # logged as unchanged
    return tmp_path


def test_the_suites_pass_on_loaded_and_on_empty_tables(loaded: Path, tmp_path_factory) -> None:
    result = run_cli(SUITES, loaded, check=False)
    assert result.returncode == 0 and "2/2 suites passed" in result.stdout, result.stdout
    empty = tmp_path_factory.mktemp("empty")
    run_cli(
        ["python_ingest", "--tickers", "IBM", "--benchmark", "", "--start", "2012-01-02", "--end", "2012-01-31"], empty
    )
    result = run_cli(SUITES, empty, check=False)
    assert result.returncode == 0 and "2/2 suites passed" in result.stdout, result.stdout


BROKEN = {
    "insert into raw.signals select * from raw.signals limit 1": "expect_compound_columns_to_be_unique",
    "update raw.signals set action = 'buy' where source_row = 2": "expect_column_values_to_be_in_set [action]",
    "update raw.signals set confidence = 1.5 where source_row = 2": "expect_column_values_to_be_between [confidence]",
    "update raw.signals set ticker = 'aapl' where source_row = 3": "expect_column_values_to_match_regex [ticker]",
    "update raw.signal_loads set status = 'partial'": "expect_column_values_to_be_in_set [status]",
    "insert into raw.signal_loads select * from raw.signal_loads limit 1": "expect_column_values_to_be_unique [load_id]",
    "update raw.signal_loads set name = 'Mine'": "expect_column_values_to_match_regex [name]",
}


def test_the_suites_fail_on_rows_the_loader_never_writes(loaded: Path) -> None:
    with duckdb.connect(str(loaded / "warehouse.duckdb")) as con:
        for statement in BROKEN:
            con.execute(statement)
    result = run_cli(SUITES, loaded, check=False)
    assert result.returncode == 1 and "0/2 suites passed" in result.stdout, result.stdout
    for statement, failed in BROKEN.items():
        assert failed in result.stdout, f"{statement!r} did not fail {failed}:\n{result.stdout}"
