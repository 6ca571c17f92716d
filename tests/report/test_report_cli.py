"""``python -m report`` end to end: text, JSON and HTML from the marts only, and one-line errors."""

from __future__ import annotations

import json
import math
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import pytest
from warehouse_helpers import run_cli

from warehouse_core.project import project_vars

pytestmark = [pytest.mark.warehouse, pytest.mark.model]


def marts_rows(warehouse_dir: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse_dir / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


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


def svgs_of(page: str) -> list[str]:
    return [chunk.split("</svg>")[0] + "</svg>" for chunk in ("<svg" + c for c in page.split("<svg")[1:])]


def test_html_page_leads_with_header_scorecard_and_overview(marts_only: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    run_cli(["report", "--format", "html", "--output", str(target)], marts_only)
    page = target.read_text(encoding="utf-8")
    sections = [
        "Capital",
        "Cash share",
        "Scorecard",
        "PORTFOLIO equity of every strategy",
        "Calibration",
        "Strategies and tickers",
        "Signal tracking",
    ]
    positions = [page.index(s) for s in sections]
    assert positions == sorted(positions), "the page must lead with the header, scorecard and overview"
    svgs = svgs_of(page)
    for svg in svgs:
        ET.fromstring(svg)  # well-formed
    overview = ET.fromstring(svgs[0])
    ns = "{http://www.w3.org/2000/svg}"
    lines = {line.findtext(f"{ns}title") for line in overview.iter(f"{ns}polyline")}
    strategies = {s for (s,) in marts_rows(marts_only, "select distinct strategy from mart_backtest_summary")}
    assert strategies <= lines  # one PORTFOLIO equity line per strategy ...
    assert any(label.startswith("buy-and-hold basket") for label in lines)  # ... against buy-and-hold
    assert "viewBox" in svgs[0] and "width=" not in svgs[0].split(">")[0]  # scales with the page
    windows = marts_rows(
        marts_only, "select distinct start_date, end_date from mart_backtest_summary where ticker = 'PORTFOLIO'"
    )
    common = [svg for svg in svgs if "<title>common window</title>" in svg]
    assert len(common) == (len(windows) > 1)  # differing windows: every strategy again over the days they share
    if common:
        assert strategies <= {line.findtext(f"{ns}title") for line in ET.fromstring(common[0]).iter(f"{ns}polyline")}
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page


def test_html_has_a_chart_per_strategy_portfolio_and_ticker(marts_only: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    run_cli(["report", "--format", "html", "--output", str(target)], marts_only)
    page = target.read_text(encoding="utf-8")
    rows = marts_rows(marts_only, "select strategy, ticker from mart_backtest_summary")
    titles = [ET.fromstring(svg).findtext("{http://www.w3.org/2000/svg}title") for svg in svgs_of(page)]
    assert sorted(t for t in titles if " / " in t) == sorted(f"{s} / {t}" for s, t in rows)
    assert page.count("<details>") >= len({s for s, _ in rows})  # each strategy collapsible
    assert 'fill="#2ca02c"' in page  # BUY signals marked on the price


def test_html_ticker_charts_can_be_capped(marts_only: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    run_cli(["report", "--format", "html", "--ticker-charts", "1", "--output", str(target)], marts_only)
    page = target.read_text(encoding="utf-8")
    per_strategy = marts_rows(
        marts_only, "select strategy, count(*) - 1 from mart_backtest_summary group by strategy order by strategy"
    )
    titles = [ET.fromstring(svg).findtext("{http://www.w3.org/2000/svg}title") for svg in svgs_of(page)]
    tickers = [t for t in titles if " / " in t and not t.endswith("/ PORTFOLIO")]
    assert len(tickers) == len(per_strategy)  # one ticker chart per strategy
    for _, count in per_strategy:
        assert f"Charts for the first 1 of {count} tickers" in page


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


def test_calibration_buckets_match_the_tracking_mart(marts_only: Path, tmp_path: Path) -> None:
    """Per strategy that states its confidence (LLM models, signals files; not rule baselines or
    :no_risk twins): decided signals per equal-width bucket, their mean confidence and hit rate."""
    buckets = project_vars()["analysis_confidence_buckets"]
    decided = marts_rows(
        marts_only, "select strategy, confidence, is_hit from mart_signal_tracking where outcome in ('hit', 'miss')"
    )
    expected: dict[tuple[str, int], list[tuple[float, bool]]] = {}
    for strategy, confidence, hit in decided:
        if strategy.startswith(("llm:", "external:")) and not strategy.endswith(":no_risk"):
            bucket = min(math.floor(confidence * buckets), buckets - 1)
            expected.setdefault((strategy, bucket), []).append((confidence, hit))
    report = json.loads(run_cli(["report", "--format", "json"], marts_only).stdout)
    got = {(b["strategy"], b["bucket"]): b for b in report["calibration"]}
    assert got.keys() == expected.keys()
    for key, signals in expected.items():
        assert got[key]["signals"] == len(signals)
        assert got[key]["mean_confidence"] == pytest.approx(sum(c for c, _ in signals) / len(signals))
        assert got[key]["hit_rate"] == pytest.approx(sum(h for _, h in signals) / len(signals))
    target = tmp_path / "report.html"
    run_cli(["report", "--format", "html", "--output", str(target)], marts_only)
    page = target.read_text(encoding="utf-8")
    calibration = next(svg for svg in svgs_of(page) if "<title>Calibration" in svg)
    assert calibration.count("<circle") == len(expected)  # one dot per (strategy, bucket)
