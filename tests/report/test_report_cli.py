"""``python -m report`` end to end: text, JSON and HTML from the marts only, and one-line errors."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import pytest
from warehouse_helpers import run_cli

pytestmark = pytest.mark.slow

MARTS = ("mart_backtest_summary", "mart_signal_tracking", "fct_backtest_daily")


def marts_rows(warehouse_dir: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse_dir / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def marts_only(built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding nothing but the three marts: the report must work from it alone."""
    target = tmp_path_factory.mktemp("marts_only")
    con = duckdb.connect(str(target / "warehouse.duckdb"))
    try:
        con.execute(f"attach '{built_warehouse / 'warehouse.duckdb'}' as built (read_only)")
        for mart in MARTS:
            con.execute(f"create table main.{mart} as select * from built.main.{mart}")
        con.execute("detach built")
    finally:
        con.close()
    return target


def test_text_report_has_the_seed_tables_with_mart_values(marts_only: Path) -> None:
    out = run_cli(["report"], marts_only).stdout
    strategies = marts_rows(marts_only, "select count(distinct strategy) from mart_backtest_summary")[0][0]
    assert out.count("SUMMARY BY TICKER") == strategies >= 2  # one per strategy
    for header in ("Ticker", "Total%", "Annual%", "vs B&H%", "Sharpe", "MaxDD%", "Trades", "Valid"):
        assert header in out
    for section in (
        "OVERALL SUMMARY",
        "Total Signals Tracked:",
        "Validated Signals:",
        "Validation Rate:",
        "Ready for Trading:",
        "PERFORMANCE BY TICKER",
        "SIGNALS READY FOR PAPER TRADING",
    ):
        assert section in out
    total, annual, alpha, sharpe, maxdd, trades = marts_rows(
        marts_only,
        "select total_return, annual_return, alpha_vs_buy_hold, sharpe_ratio, max_drawdown, trades from mart_backtest_summary "
        "where strategy = 'sma_crossover' and ticker = 'AAPL'",
    )[0]
    block = out[out.index("BACKTEST: sma_crossover") :]
    row = next(line for line in block.splitlines() if line.startswith("AAPL"))
    assert row.split()[:7] == [
        "AAPL",
        f"{total * 100:.2f}",
        f"{annual * 100:.2f}",
        f"{alpha * 100:.2f}",
        f"{sharpe:.2f}",
        f"{maxdd * 100:.2f}",
        str(trades),
    ]
    signals = marts_rows(marts_only, "select count(*) from mart_signal_tracking")[0][0]
    assert f"Total Signals Tracked: {signals}" in out


def test_json_report_equals_the_marts(marts_only: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.json"
    run_cli(["report", "--format", "json", "--output", str(target)], marts_only)
    report = json.loads(target.read_text())
    assert {"buy_and_hold", "sma_crossover"} <= set(report["strategies"])  # plus llm:<model> when the LLM ran
    mart = {
        (s, t): (total, valid)
        for s, t, total, valid in marts_rows(
            marts_only, "select strategy, ticker, total_return, is_valid from mart_backtest_summary"
        )
    }
    assert {(r["strategy"], r["ticker"]): (r["total_return"], r["is_valid"]) for r in report["summary"]} == mart
    total, validated, pending, ready = marts_rows(
        marts_only,
        "select count(*), count(*) filter (where is_hit), count(*) filter (where outcome = 'pending'), "
        "count(*) filter (where ready_for_paper_trading) from mart_signal_tracking",
    )[0]
    tracking = report["tracking"]
    assert (tracking["total_signals"], tracking["validated_signals"], tracking["ready_for_trading"]) == (
        total,
        validated,
        ready,
    )
    assert tracking["validation_rate"] == pytest.approx(validated / (total - pending))
    assert len(tracking["ready_for_paper_trading"]) == ready
    assert sum(t["total"] for t in tracking["by_ticker"]) == total


def test_strategy_filter(marts_only: Path) -> None:
    report = json.loads(run_cli(["report", "--format", "json", "--strategy", "buy_and_hold"], marts_only).stdout)
    assert {r["strategy"] for r in report["summary"]} == {"buy_and_hold"}
    assert report["tracking"]["total_signals"] == 4
    result = run_cli(["report", "--strategy", "llm:nope"], marts_only, check=False)
    assert result.returncode == 2 and "no backtest or signals for strategy llm:nope" in result.stderr


def test_html_report_has_equity_drawdown_and_signal_charts(marts_only: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    run_cli(["report", "--format", "html", "--output", str(target)], marts_only)
    page = target.read_text(encoding="utf-8")
    rows = marts_rows(
        marts_only, "select count(*), count(*) filter (where ticker <> 'PORTFOLIO') from mart_backtest_summary"
    )[0]
    svgs = [chunk.split("</svg>")[0] + "</svg>" for chunk in ("<svg" + c for c in page.split("<svg")[1:])]
    assert len(svgs) == 2 * rows[0] + rows[1]  # equity + drawdown per row, price + signals per ticker row
    for svg in svgs:
        ET.fromstring(svg)  # well-formed
    assert page.count("equity vs buy and hold") == rows[0] and page.count(": drawdown") == rows[0]
    assert page.count("price and signals") == rows[1]
    assert "▲" in page and "▼" in page  # BUY and SELL marked on the price
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")


def test_html_defaults_to_the_warehouse_dir(marts_only: Path, tmp_path: Path) -> None:
    copy = tmp_path / "wh"
    copy.mkdir()
    shutil.copy(marts_only / "warehouse.duckdb", copy / "warehouse.duckdb")
    result = run_cli(["report", "--format", "html"], copy)
    assert (copy / "report.html").exists() and "report.html" in result.stderr


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_missing_warehouse_is_one_line(tmp_path: Path) -> None:
    result = run_cli(["report"], tmp_path / "nowhere", check=False)
    assert result.returncode == 2
    assert "not found" in one_error_line(result.stderr) and "dbt build" in result.stderr


def test_warehouse_without_marts_is_one_line(tmp_path: Path) -> None:
    duckdb.connect(str(tmp_path / "warehouse.duckdb")).close()
    result = run_cli(["report"], tmp_path, check=False)
    assert result.returncode == 2
    assert "mart_backtest_summary" in one_error_line(result.stderr)


def test_locked_warehouse_is_one_line(marts_only: Path, tmp_path: Path) -> None:
    shutil.copy(marts_only / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    writer = duckdb.connect(str(tmp_path / "warehouse.duckdb"))  # holds the write lock, like a running dbt build
    try:
        result = run_cli(["report"], tmp_path, check=False)
    finally:
        writer.close()
    assert result.returncode == 2
    assert "locked" in one_error_line(result.stderr)


def test_report_opens_the_warehouse_read_only(marts_only: Path, tmp_path: Path) -> None:
    shutil.copy(marts_only / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    reader = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)  # another reader, e.g. a BI tool
    try:
        result = run_cli(["report", "--format", "json"], tmp_path, check=False)
    finally:
        reader.close()
    assert result.returncode == 0, result.stderr
