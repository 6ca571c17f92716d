"""The report says why: the headline, each strategy's facts, the failing flags and the chart labels,
on hand-made reports (no warehouse): the default run's story (an LLM that says BUY to everything at
low confidence), an edge, a warehouse without a scorecard."""

from __future__ import annotations

import re
from datetime import date, timedelta

import duckdb
import pytest

from report.charts import YARDSTICK_DASH, calibration_chart
from report.data import (
    REQUIRED_SCORECARD_COLUMNS,
    BuildSettings,
    CalibrationBucket,
    EquityPoint,
    Report,
    ReportHeader,
    ScorecardRow,
    SignalMix,
    TickerSummary,
    TrackingReport,
)
from report.html import _calibration_figure, _overview_section, render_html
from report.story import failing_flags, headline, strategy_facts
from report.text import render_text
from warehouse_core.strategy_names import states_confidence, states_confidence_sql

LLM, TWIN, SMA = "llm:m", "llm:m:no_risk", "sma_crossover"
SETTINGS = BuildSettings(
    position_cap=0.25,
    confidence_threshold=0.5,
    source="test",
    min_annual_return=0.10,
    min_trading_days=30,
    min_sharpe_ratio=0.0,
    min_capital=10_000,
    min_bucket_signals=10,
)
START, END = date(2012, 5, 1), date(2013, 3, 1)


def summary(strategy: str, ticker: str, trades: int, **flags: bool) -> TickerSummary:
    passes = {"passes_min_return": True, "beats_buy_hold": True, "passes_min_days": True, "passes_sharpe": True,
              "passes_capital": True} | flags  # fmt: skip
    return TickerSummary(
        strategy=strategy, ticker=ticker, start_date=START, end_date=END, trading_days=209, initial_capital=100_000,
        final_equity=100_000, total_return=0.0, annual_return=0.0, annual_volatility=0.1, sharpe_ratio=0.1,
        sortino_ratio=0.1, max_drawdown=-0.1, calmar_ratio=None, buy_hold_return=0.0, buy_hold_annual_return=0.0,
        alpha_vs_buy_hold=0.0, beta=None, capm_alpha=None, win_rate=None, trades=trades, exposure=0.5, turnover=0.0,
        is_valid=all(passes.values()), **passes,
    )  # fmt: skip


def scorecard_row(strategy: str, verdict: str, reason: str, **figures: float) -> ScorecardRow:
    return ScorecardRow(
        **dict.fromkeys(REQUIRED_SCORECARD_COLUMNS)
        | {"strategy": strategy, "verdict": verdict, "verdict_reason": reason}
        | figures
    )


def mix(strategy: str, ticker: str, buy: int, sell: int, hold: int, below: int, acted: int) -> SignalMix:
    n = buy + sell + hold
    return SignalMix(strategy=strategy, ticker=ticker, signals=n, buy=buy, sell=sell, hold=hold,
                     mean_confidence=0.23, below_threshold=below, acted=acted)  # fmt: skip


def default_run() -> Report:
    """The shape of the default run: the LLM said BUY to all 48 decisions, 3 at or above the threshold,
    AAPL never traded; the rule baseline said BUY and SELL and traded on every ticker."""
    tickers = ("AAPL", "GOOG", "IBM", "MSFT")
    rows = [
        summary(s, t, trades=0 if t == "AAPL" else 1, passes_min_return=False) for s in (LLM, TWIN) for t in tickers
    ]
    rows += [summary(s, "PORTFOLIO", trades=3, passes_min_return=False) for s in (LLM, TWIN)]
    rows += [summary(SMA, t, trades=30, passes_min_return=False, beats_buy_hold=False) for t in (*tickers, "PORTFOLIO")]
    mixes = [
        mix(s, t, 12, 0, 0, below=12 if t == "AAPL" else 11, acted=0 if t == "AAPL" else 1)
        for s in (LLM, TWIN)
        for t in tickers
    ]
    mixes += [mix(SMA, t, 32, 31, 0, below=0, acted=63) for t in tickers]
    too_little = "too little to judge: 3 trades < 10 (scorecard_min_trades); its signals span too few trading days"
    scorecard = [
        scorecard_row(LLM, "insufficient_data", too_little),
        scorecard_row(TWIN, "insufficient_data", too_little),
        scorecard_row(SMA, "no_edge", "luck explains it: signals right 51.2 % of the time against 50.3 %"),
    ]  # fmt: skip
    return Report(
        warehouse="w",
        strategies=[LLM, TWIN, SMA],
        header=ReportHeader(
            capital=[100_000], position_cap=0.25, confidence_threshold=0.5, settings_source="test", windows=[]
        ),
        scorecard=scorecard,
        summary=rows,
        tracking=TrackingReport(
            total_signals=0,
            validated_signals=0,
            pending_signals=0,
            validation_rate=None,
            ready_for_trading=0,
            by_strategy=[],
            by_ticker=[],
            ready_for_paper_trading=[],
        ),
        calibration=[],
        signal_mix=mixes,
        settings=SETTINGS,
    )


def test_the_headline_names_the_reason_that_matters_most() -> None:
    assert headline(default_run()) == (
        "No strategy shows an edge: llm:m said BUY to all 48 decisions and only 3 cleared the confidence "
        "threshold 0.5, so it is too little to judge: 3 trades < 10 (scorecard_min_trades)."
    )


def test_the_headline_names_the_strategies_with_an_edge() -> None:
    report = default_run()
    report.scorecard[2] = scorecard_row(SMA, "edge", "signals beat random timing", hit_rate=0.61,
                                        random_timing_hit_rate=0.5)  # fmt: skip
    assert headline(report) == (
        "sma_crossover (hit rate 61.0% vs 50.0% at random times) shows an edge; 2 other strategies do not."
    )
    report.scorecard = None
    assert headline(report) == "No verdict yet: this warehouse has no scorecard (run dbt build)."


def test_the_facts_explain_the_numbers() -> None:
    assert strategy_facts(default_run(), LLM) == [
        "Said BUY to all 48 signals (mean confidence 0.23).",
        "The backtest acted on 3 of 48: 45 below the confidence threshold 0.5 (ignored).",
        "Its portfolio opened 3 positions (trades) from 2012-05-01 to 2013-03-01.",
        "AAPL never traded (all 12 of its signals were below the confidence threshold 0.5): its row is cash "
        "against buy-and-hold.",
        "PORTFOLIO not valid: annual return not above 10%.",
    ]
    sma = strategy_facts(default_run(), SMA)
    assert sma[:2] == ["BUY 128, SELL 124 of 252 signals (mean confidence 0.23).", "The backtest acted on all 252."]
    assert sma[-1] == "PORTFOLIO not valid: annual return not above 10%, does not beat buy-and-hold."


def test_holds_are_counted_apart_from_the_signals_below_the_threshold() -> None:
    report = default_run()
    report.signal_mix = [mix(LLM, "AAPL", 2, 1, 7, below=3, acted=2)]
    assert strategy_facts(report, LLM)[:2] == [
        "HOLD 7, BUY 2, SELL 1 of 10 signals (mean confidence 0.23).",
        "The backtest acted on 2 of 10: 3 below the confidence threshold 0.5 (ignored); 5 HOLD (keep the position).",
    ]


@pytest.mark.parametrize(
    ("flag", "rule", "rule_without_vars"),
    [
        ("passes_min_return", "annual return not above 10%", "annual return not above var min_annual_return"),
        ("beats_buy_hold", "does not beat buy-and-hold", "does not beat buy-and-hold"),
        ("passes_min_days", "fewer than 30 trading days", "fewer trading days than var min_trading_days"),
        ("passes_sharpe", "Sharpe not above 0", "Sharpe not above var min_sharpe_ratio"),
        ("passes_capital", "capital below 10,000", "capital below var min_capital"),
    ],
)
def test_each_failing_flag_is_named_with_its_rule(flag: str, rule: str, rule_without_vars: str) -> None:
    row = summary(LLM, "AAPL", trades=1, **{flag: False})
    assert failing_flags(row, SETTINGS) == [rule]
    assert failing_flags(row, BuildSettings()) == [rule_without_vars]
    assert failing_flags(summary(LLM, "AAPL", trades=1), SETTINGS) == []


def test_text_and_html_name_the_failing_flags_and_lead_with_the_headline() -> None:
    report = default_run()
    text = render_text(report)
    assert text.splitlines()[1].startswith("No strategy shows an edge: llm:m said BUY")
    aapl = next(line for line in text[text.index("BACKTEST: sma_crossover") :].splitlines() if line.startswith("AAPL"))
    assert aapl.endswith("annual return not above 10%; does not beat buy-and-hold")
    page = render_html(report, {}, lambda s, t: [], lambda s, t: [])
    assert page.index('id="headline"') < page.index("Scorecard")
    assert page.count('class="invalid">not valid: ') == sum(not r.is_valid for r in report.summary)
    assert "Time in market%" in page and "Exposure%" not in page


def test_states_confidence_is_the_sql_rule() -> None:
    names = ["buy_and_hold", "sma_crossover", "llm:m:1", "llm:m:1:no_risk", "llm:m:1:blind", "external:mine"]
    con = duckdb.connect()
    con.execute("create table s as select unnest(?) as strategy", [names])
    in_sql = {r[0] for r in con.execute(f"select strategy from s where {states_confidence_sql()}").fetchall()}
    assert {n for n in names if states_confidence(n)} == in_sql


def test_calibration_counts_and_marks_buckets_with_too_few_signals() -> None:
    svg = calibration_chart({LLM: [(0.15, 0.4, 30), (0.25, 0.6, 12), (0.95, 0.0, 1)]}, {LLM: ("#d62728", "")}, 10)
    assert list(re.findall(r'class="count">(n=\d+)<', svg)) == ["n=30", "n=12", "n=1"]
    circles = re.findall(r"<circle [^>]*>", svg)
    assert ['fill="#fff"' in c for c in circles] == [False, False, True]  # hollow: too few
    assert "fewer than 10: too few to read" in svg
    line = re.search(r'<polyline [^>]*points="([^"]*)"', svg).group(1)
    assert len(line.split()) == 2  # the line joins the buckets with enough signals only
    report = default_run()
    report.calibration = [
        CalibrationBucket(strategy=LLM, bucket=1, signals=30, mean_confidence=0.15, hit_rate=0.4),
        CalibrationBucket(strategy=LLM, bucket=9, signals=1, mean_confidence=0.95, hit_rate=0.0, too_few=True),
    ]
    assert "too few</b>, fewer than 10 decided signals (var analysis_min_bucket_signals; 1 such bucket here)" in (
        _calibration_figure(report, {LLM: ("#d62728", "")})
    )


def test_each_strategy_has_its_own_named_yardstick_and_titled_axes() -> None:
    report = default_run()
    days = [START + timedelta(days=i) for i in range(30)]
    own = [EquityPoint(d, 100_000 + i, 100_000 - i) for i, d in enumerate(days)]
    later = [EquityPoint(d, 100_000 + 2 * i, 100_000 + i) for i, d in enumerate(days[5:])]
    section = _overview_section(
        report, {LLM: own, TWIN: own, SMA: later}, dict.fromkeys(report.strategies, ("#111111", ""))
    )
    labels = re.findall(r"<title>(buy-and-hold basket of [^<]*)</title>", section)
    assert labels == [f"buy-and-hold basket of {LLM} and {TWIN}", f"buy-and-hold basket of {SMA}"]
    assert section.count(f'stroke-dasharray="{YARDSTICK_DASH}"') == 2  # dotted, unlike the strategies' lines
    for title in ("Equity (starts at 100,000; log scale)", "Date (trading days)"):
        assert title in section


def checked_run(passed: bool, recalls: bool, cutoff: date | None, after: int, blind: str = "edge") -> Report:
    """The default run's shape with the memorisation check: the LLM strategy has an edge, its blind
    twin's figures beside it, the recall probe and the training cutoff."""
    report = default_run()
    figures = {"model": "m", "signals": 40, "hit_rate": 0.7, "random_timing_hit_rate": 0.5}
    checks = {
        "memorization_check_passed": passed,
        "memorization_pairs": 40,
        "memorization_gap": 0.125,
        "memorization_p_value": 0.0004,
        "recalls": recalls,
        "recall_p_value": 0.001 if recalls else 0.49,
        "recall_spearman_correlation": 0.61 if recalls else -0.01,
        "recall_probes": 44,
        "training_cutoff": cutoff,
        "signals_before_cutoff": None if cutoff is None else 40 - after,
        "signals_after_cutoff": None if cutoff is None else after,
    }
    report.scorecard[0] = scorecard_row(LLM, "edge", "signals right 70.0 % ...", **figures, **checks)
    report.scorecard.append(scorecard_row(f"{LLM}:blind", blind, "...", model="m", signals=40))
    return report


def test_the_facts_say_what_the_memorisation_check_found() -> None:
    facts = strategy_facts(checked_run(passed=False, recalls=True, cutoff=date(2023, 1, 31), after=0), LLM)
    assert (
        "Memorisation check failed: named answers +12.5 hit-rate points against the blind twin's on 40 paired "
        "decisions (p 4.0e-04): the edge may be memory of what happened next." in facts
    )
    assert (
        "The model recalls past monthly returns (Spearman 0.61, p 0.001 over 44 probes): its named record may be memory."
        in facts
    )
    assert (
        "Every decided signal predates the model's training cutoff (2023-01-31): the whole record is in-sample for memory."
        in facts
    )
    facts = strategy_facts(checked_run(passed=False, recalls=False, cutoff=None, after=0, blind="no_edge"), LLM)
    assert (
        "Memorisation check not passed: its blind twin's verdict is no_edge: the edge may be memory, not skill; "
        "named answers +12.5 hit-rate points against the blind twin's on 40 paired decisions (p 4.0e-04)." in facts
    )
    facts = strategy_facts(checked_run(passed=True, recalls=False, cutoff=None, after=0), LLM)
    assert any(
        f.startswith("Memorisation check passed: the blind twin shows an edge too; named answers +12.5") for f in facts
    )
    assert "No recall of past monthly returns found (Spearman -0.01, p 0.49 over 44 probes)." in facts
    assert "The model's training cutoff is unknown: any of its 40 decided signals may be in what it read." in facts
    facts = strategy_facts(checked_run(passed=True, recalls=False, cutoff=date(2012, 9, 30), after=12), LLM)
    assert (
        "12 of its decided signals come after the training cutoff (2012-09-30), the only ones memory cannot explain."
        in facts
    )


def test_no_memorisation_line_without_the_check() -> None:
    facts = " ".join(strategy_facts(default_run(), LLM))
    assert "Memorisation" not in facts and "recall" not in facts


def test_an_edge_that_fails_the_memorisation_check_leads_the_headline() -> None:
    assert headline(checked_run(passed=False, recalls=False, cutoff=None, after=0, blind="no_edge")) == (
        "llm:m shows an edge that may be memory: its memorisation check failed, so none of its signals is ready "
        "for paper trading."
    )
    assert headline(checked_run(passed=True, recalls=False, cutoff=None, after=0)).startswith(
        "llm:m (hit rate 70.0% vs 50.0% at random times), llm:m:blind (hit rate"
    )
    # the blind twin shows an edge too, but the named answers beat it: the named one is marked
    assert headline(checked_run(passed=False, recalls=False, cutoff=None, after=0)).startswith(
        "llm:m (hit rate 70.0% vs 50.0% at random times; its memorisation check failed), llm:m:blind"
    )
