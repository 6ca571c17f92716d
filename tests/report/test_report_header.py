"""The report header (capital, windows, cash share, the cap) and rows of tickers a strategy never traded."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import duckdb
import pytest
from warehouse_helpers import run_cli

from report.data import PORTFOLIO, BuildSettings, Report, ReportHeader, TickerSummary, TrackingReport
from report.html import render_html
from report.text import render_text
from report.wording import NO_TRADES_NOTE
from warehouse_core.project import project_vars


def query(warehouse_dir: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse_dir / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.warehouse
@pytest.mark.model
def test_header_states_capital_window_and_cash_share(marts_only: Path) -> None:
    report = json.loads(run_cli(["report", "--format", "json"], marts_only).stdout)
    header = report["header"]
    portfolio = query(
        marts_only,
        f"select strategy, start_date, end_date, initial_capital from mart_backtest_summary where ticker = '{PORTFOLIO}'",
    )
    assert {(w["strategy"], w["start_date"], w["end_date"]) for w in header["windows"]} == {
        (s, str(a), str(b)) for s, a, b, _ in portfolio
    }
    assert header["capital"] == sorted({c for *_, c in portfolio})
    for window in header["windows"]:  # cash share = 1 - mean gross exposure of the PORTFOLIO rows, day by day
        exposures = [
            e
            for (e,) in query(
                marts_only,
                f"select exposure from fct_backtest_daily where ticker = '{PORTFOLIO}' and strategy = '{window['strategy']}'",
            )
        ]
        assert window["cash_share"] == pytest.approx(1 - sum(exposures) / len(exposures))
    cap = project_vars()["max_position_size"]
    assert header["position_cap"] == cap and "dbt_project.yml" in header["settings_source"]

    text = run_cli(["report"], marts_only).stdout
    assert "Capital: 100,000 per backtest" in text
    for window in header["windows"]:
        line = next(line for line in text.splitlines() if line.startswith(window["strategy"] + " "))
        assert f"{window['start_date']} .. {window['end_date']}" in line
        assert line.endswith(f"{window['cash_share'] * 100:.1f}%")
    assert f"capped at {cap:.0%}" in text and f"fewer than {math.ceil(1 / cap)} tickers" in text and "diluted" in text


@pytest.mark.warehouse
@pytest.mark.model
def test_cap_given_with_vars_is_used_and_named(marts_only: Path) -> None:
    text = run_cli(["report", "--vars", "{max_position_size: 0.5}"], marts_only).stdout
    assert "50% of the portfolio per ticker" in text and "fewer than 2 tickers" in text
    assert "--vars max_position_size" in text
    bad = run_cli(["report", "--vars", "[1, 2]"], marts_only, check=False)
    assert bad.returncode == 2 and "--vars must be a YAML/JSON mapping" in bad.stderr


@pytest.mark.warehouse
@pytest.mark.model
def test_every_row_without_trades_is_marked_and_no_other(marts_only: Path, tmp_path: Path) -> None:
    text = run_cli(["report"], marts_only).stdout
    page_file = tmp_path / "r.html"
    run_cli(["report", "--format", "html", "--output", str(page_file)], marts_only)
    page = page_file.read_text(encoding="utf-8")
    rows = query(marts_only, "select strategy, ticker, trades from mart_backtest_summary")
    for strategy, ticker, trades in rows:
        block = text[text.index(f"BACKTEST: {strategy} ") :]
        line = next(line for line in block.splitlines() if line.startswith(f"{ticker} "))
        assert (NO_TRADES_NOTE in line) == (trades == 0), line
    assert page.count("<tr class=notrade>") == sum(trades == 0 for *_, trades in rows)


def _one_ticker_report(trades: int) -> Report:
    """A report with one hand-made row: a strategy that stayed in cash while buy-and-hold lost 29.5 %."""
    row = TickerSummary(
        strategy="llm:m", ticker="AAPL", start_date=date(2012, 5, 1), end_date=date(2013, 3, 1), trading_days=209,
        initial_capital=100_000, final_equity=100_000, total_return=0.0, annual_return=0.0, annual_volatility=0.0,
        sharpe_ratio=None, sortino_ratio=None, max_drawdown=0.0, calmar_ratio=None, buy_hold_return=-0.295,
        buy_hold_annual_return=-0.2954, alpha_vs_buy_hold=0.2954, beta=None, capm_alpha=None, win_rate=None,
        trades=trades, exposure=0.0, turnover=0.0, passes_min_return=False, beats_buy_hold=True, passes_min_days=True,
        passes_sharpe=False, passes_capital=True, is_valid=False,
    )  # fmt: skip
    header = ReportHeader(
        capital=[100_000], position_cap=0.25, confidence_threshold=0.5, settings_source="test", windows=[]
    )
    tracking = TrackingReport(
        total_signals=0, validated_signals=0, pending_signals=0, validation_rate=None, ready_for_trading=0,
        by_strategy=[], by_ticker=[], ready_for_paper_trading=[],
    )  # fmt: skip
    return Report(
        warehouse="w",
        strategies=["llm:m"],
        header=header,
        scorecard=None,
        summary=[row],
        tracking=tracking,
        calibration=[],
    )


@pytest.mark.parametrize("trades", [0, 1])
def test_a_cash_only_row_says_its_alpha_is_not_skill(trades: int) -> None:
    report = _one_ticker_report(trades)
    line = next(line for line in render_text(report).splitlines() if line.startswith("AAPL"))
    assert "29.54" in line
    assert (NO_TRADES_NOTE in line) == (trades == 0)
    page = render_html(report, {}, lambda s, t: [], lambda s, t: [])
    assert ("<tr class=notrade>" in page) == (trades == 0)
    assert (NO_TRADES_NOTE in page) == (trades == 0)


def test_settings_come_from_the_vars() -> None:
    from report.cli import settings

    declared = project_vars()
    assert settings(None) == BuildSettings(
        position_cap=declared["max_position_size"],
        confidence_threshold=declared["confidence_threshold"],
        source="dbt_project.yml vars; the warehouse does not record them",
        confidence_buckets=declared["analysis_confidence_buckets"],
        min_bucket_signals=declared["analysis_min_bucket_signals"],
        min_annual_return=declared["min_annual_return"],
        min_trading_days=declared["min_trading_days"],
        min_sharpe_ratio=declared["min_sharpe_ratio"],
        min_capital=declared["min_capital"],
    )
    assert settings("{confidence_threshold: 0.7}").source.startswith(
        "dbt_project.yml vars with --vars confidence_threshold"
    )
