"""The GX gate: every suite passes on a freshly built warehouse and fails on broken data."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from warehouse_helpers import PROJECT_DIR, run_cli

from expectations.suites import load_suites

pytestmark = [pytest.mark.warehouse, pytest.mark.model]

CONTRACT_RELATIONS = {
    "raw.prices",
    "raw.ingest_runs",
    "raw.signal_loads",
    "raw.signals",
    "main.int_prices_clean",
    "main.fct_prices_daily",
    "main.int_features",
    "main.mart_dataset_splits",
    "main.llm_market_analysis",
    "main.llm_signal_generation",
    "main.llm_risk_assessment",
    "main.int_signals",
    "main.fct_backtest_daily",
    "main.mart_backtest_summary",
    "main.mart_signal_tracking",
    "main.mart_strategy_scorecard",
}


def _status_by_suite(stdout: str) -> dict[str, str]:
    """suite name -> status, parsed from the runner's table."""
    statuses = {}
    for line in stdout.splitlines():
        cells = line.split()
        if len(cells) == 8 and cells[-1] in {"PASS", "FAIL", "MISSING", "SKIPPED", "ERROR"}:
            statuses[cells[1]] = cells[-1]
    return statuses


def _broken_copy(built: Path, target: Path, *statements: str) -> Path:
    """A copy of the built warehouse with ``statements`` applied (the original stays untouched)."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(built / "warehouse.duckdb", target / "warehouse.duckdb")
    with duckdb.connect(str(target / "warehouse.duckdb")) as con:
        for statement in statements:
            con.execute(statement)
    return target


def test_every_suite_file_is_a_gx_suite_and_uses_only_dbt_vars() -> None:
    project_vars = set(yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]) | {
        "tickers_in_scope",
        "scorecard_columns",
    }
    specs = load_suites()
    assert {spec.layer for spec in specs} == {"raw", "clean", "features", "llm", "backtest", "signals"}
    assert {spec.relation for spec in specs} >= CONTRACT_RELATIONS
    for spec in specs:
        suite = spec.to_gx_suite()  # GX validates every expectation type and its kwargs here
        assert suite.name == spec.name and len(suite.expectations) >= 5, spec.name
        assert spec.parameter_names() <= project_vars, (
            f"{spec.name} uses unknown vars {spec.parameter_names() - project_vars}"
        )


def test_all_suites_pass_on_the_built_warehouse_and_write_data_docs(built_warehouse: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    result = run_cli(["expectations", "--docs-dir", str(docs)], built_warehouse, check=False)
    statuses = _status_by_suite(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert statuses and set(statuses.values()) == {"PASS"}, result.stdout
    assert set(statuses) == {spec.name for spec in load_suites()}
    index = (docs / "index.html").read_text()
    for name in statuses:
        assert name in index, f"Data Docs index lacks suite {name}"
    # one validation page per batch: fct_prices_daily is validated ticker by ticker
    assert len(list((docs / "validations" / "clean_prices_daily_by_ticker").rglob("*.html"))) >= 5


def test_gate_fails_on_a_negative_clean_price(built_warehouse: Path, tmp_path: Path) -> None:
    broken = _broken_copy(
        built_warehouse,
        tmp_path / "broken",
        "update main.int_prices_clean set adj_close = -adj_close, close = -close "
        "where ticker = 'AAPL' and date = (select min(date) from main.int_prices_clean where ticker = 'AAPL')",
    )
    result = run_cli(["expectations", "--suites", "clean", "--no-docs"], broken, check=False)
    assert result.returncode == 1, result.stdout
    assert _status_by_suite(result.stdout) == {"clean_prices": "FAIL", "clean_prices_daily_by_ticker": "PASS"}
    assert re.search(r"expect_column_values_to_be_between \[adj_close\].*1 unexpected", result.stdout), result.stdout


def test_gate_fails_on_a_duplicate_raw_price(built_warehouse: Path, tmp_path: Path) -> None:
    broken = _broken_copy(
        built_warehouse,
        tmp_path / "broken",
        "insert into raw.prices select * from raw.prices where ticker = 'MSFT' limit 1",
    )
    result = run_cli(["expectations", "--suites", "raw_prices", "--no-docs"], broken, check=False)
    assert result.returncode == 1
    assert "expect_compound_columns_to_be_unique" in result.stdout


def test_validation_flags_are_checked_against_the_thresholds_in_vars(built_warehouse: Path, tmp_path: Path) -> None:
    # a flag that contradicts its threshold fails the backtest suite ...
    broken = _broken_copy(
        built_warehouse,
        tmp_path / "broken",
        "update main.mart_backtest_summary set passes_min_days = not passes_min_days "
        "where (strategy, ticker) in (select strategy, ticker from main.mart_backtest_summary limit 1)",
    )
    result = run_cli(["expectations", "--suites", "backtest_summary", "--no-docs"], broken, check=False)
    assert result.returncode == 1
    assert "[trading_days]" in result.stdout and "passes_min_days" in result.stdout
    # ... and so does the untouched table judged with another threshold: the suite reads dbt vars
    result = run_cli(
        ["expectations", "--suites", "backtest_summary", "--no-docs", "--vars", "{min_trading_days: 100000}"],
        built_warehouse,
        check=False,
    )
    assert result.returncode == 1, result.stdout
    assert "passes_min_days == True" in result.stdout


def test_a_table_that_is_not_built_is_reported_and_fails_unless_allowed(built_warehouse: Path, tmp_path: Path) -> None:
    broken = _broken_copy(built_warehouse, tmp_path / "broken", "drop table main.mart_signal_tracking")
    result = run_cli(["expectations", "--suites", "signals", "--no-docs"], broken, check=False)
    assert result.returncode == 1
    assert _status_by_suite(result.stdout)["signal_tracking"] == "MISSING"
    assert "table main.mart_signal_tracking is not in the warehouse" in result.stdout
    result = run_cli(["expectations", "--suites", "signals", "--no-docs", "--allow-missing"], broken, check=False)
    assert result.returncode == 0, result.stdout
    assert _status_by_suite(result.stdout) == {
        "signal_tracking": "SKIPPED",
        "signals": "PASS",
        "strategy_scorecard": "PASS",
    }


def test_a_warehouse_being_written_gives_a_one_line_error(built_warehouse: Path, tmp_path: Path) -> None:
    copy = _broken_copy(built_warehouse, tmp_path / "busy")
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, duckdb\n"
            "con = duckdb.connect(sys.argv[1])\n"
            "print('writing', flush=True)\n"
            "time.sleep(60)\n",
            str(copy / "warehouse.duckdb"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
        result = run_cli(["expectations", "--no-docs"], copy, check=False)
    finally:
        writer.kill()
        writer.wait()
    assert result.returncode == 2
    assert f"warehouse {copy / 'warehouse.duckdb'} is locked by" in result.stderr
    assert f"(PID {writer.pid})" in result.stderr


def _scorecard_failures(built_warehouse: Path, target: Path, *statements: str) -> list[str]:
    broken = _broken_copy(built_warehouse, target, *statements)
    result = run_cli(["expectations", "--suites", "strategy_scorecard", "--no-docs"], broken, check=False)
    assert result.returncode == 1, result.stdout
    return [line for line in result.stdout.splitlines() if line.startswith("  - ")]


def test_the_scorecard_suite_catches_a_broken_scorecard(built_warehouse: Path, tmp_path: Path) -> None:
    """A duplicated strategy, a p-value or hit rate above 1 and a verdict outside its set fail the suite; so do
    verdicts that contradict their rule in dbt vars: an 'edge' whose adjusted random-timing p-value and
    portfolio p-value do not pass, and a judged strategy with fewer decided signals or trades than its
    minimums."""
    malformed = _scorecard_failures(
        built_warehouse,
        tmp_path / "malformed",
        "insert into main.mart_strategy_scorecard select * from main.mart_strategy_scorecard where strategy = 'buy_and_hold'",
        "update main.mart_strategy_scorecard set spa_p_value = 1.5, hit_rate = 1.2 where strategy = 'sma_crossover'",
        "update main.mart_strategy_scorecard set verdict = 'maybe' where strategy like 'llm:%'",
    )
    contradicting = _scorecard_failures(
        built_warehouse,
        tmp_path / "contradicting",
        "update main.mart_strategy_scorecard set verdict = 'edge' where strategy = 'sma_crossover'",
        "update main.mart_strategy_scorecard set verdict = 'no_edge' where strategy = 'buy_and_hold'",
    )
    for failures, expected in [
        (malformed, "expect_column_values_to_be_unique [strategy]"),
        (malformed, "[spa_p_value] expected {'min_value': 0.0, 'max_value': 1.0}"),
        (malformed, "expect_column_values_to_be_in_set [verdict]"),
        (malformed, "[hit_rate] expected {'min_value': 0.0, 'max_value': 1.0}"),
        (
            contradicting,
            "[signal_timing_adjusted_p_value] expected {'max_value': 0.05, 'strict_max': True}; where verdict == 'edge'",
        ),
        (
            contradicting,
            "[portfolio_timing_p_value] expected {'max_value': 0.5, 'strict_max': True}; where verdict == 'edge'",
        ),
        (contradicting, "[signals] expected {'min_value': 30.0}; where verdict != 'insufficient_data'"),
        (contradicting, "[trades] expected {'min_value': 10.0}; where verdict != 'insufficient_data'"),
    ]:
        assert any(expected in line for line in failures), f"{expected} not among:\n" + "\n".join(failures)
