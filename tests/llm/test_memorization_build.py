"""The memorisation check end to end: a real dbt build with the embedded model on a small window.

The module copies the session's default build (its warehouse and LLM cache) and builds everything
from int_llm_context on with var llm_memorization_check on a two-month window (4 tickers x 2 month
ends): every model is asked as the named and the blind twin, the blind twin is its own strategy
llm:<model>:blind through the backtest, tracking and the scorecard, and the recall probe asks for
each ticker's return over each complete month of the window. The named twin's prompts are those of
the default build, so they come from the cache: the check costs the blind twin and the probe only.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from test_memorization_prompts import leaks
from warehouse_helpers import run_cli, run_dbt

from llm_client.prompts import analysis_messages
from signal_stats.recall import POOLED_TICKER, RecallSettings, recall_table
from warehouse_core.project import project_vars

pytestmark = [pytest.mark.warehouse, pytest.mark.model]

CHECK = {"llm_memorization_check": True, "llm_start": "2013-01-01", "llm_end": "2013-02-28"}
STAGES = ("llm_market_analysis", "llm_signal_generation", "llm_risk_assessment")
MODEL = "smollm2:135m-instruct-q8_0"
BLIND = f"llm:{MODEL}:blind"


def frame(warehouse_dir: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse_dir / "warehouse.duckdb"), read_only=True) as con:
        return con.sql(sql).df()


@pytest.fixture(scope="module")
def checked(built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory, ollama_host: str) -> tuple[Path, str]:
    warehouse_dir = tmp_path_factory.mktemp("memorization_check")
    for name in ("warehouse.duckdb", "llm_cache.duckdb"):
        shutil.copy(built_warehouse / name, warehouse_dir / name)
    result = run_dbt(
        ["build", "-s", "int_llm_context+", "--vars", json.dumps(CHECK)], warehouse_dir, OLLAMA_HOST=ollama_host
    )
    return warehouse_dir, result.stdout


def test_both_twins_flow_through_every_stage_to_the_scorecard(checked: tuple[Path, str]) -> None:
    warehouse_dir, log = checked
    decisions = len(frame(warehouse_dir, "select * from int_llm_context"))
    assert decisions == 8
    for stage in STAGES:
        twins = frame(warehouse_dir, f"select blind_mode, count(*) as n from {stage} group by 1 order by 1")
        expected = 2 if stage == "llm_risk_assessment" else decisions
        assert list(twins["blind_mode"]) == [False, True] and list(twins["n"]) == [expected, expected], stage
    assert f"llm_market_analysis: {2 * decisions} decisions, {decisions} cache hits" in log, (
        "the named twin's prompts are the default build's: answered from the cache"
    )
    ok_blind = frame(
        warehouse_dir, "select count(*) as n from llm_signal_generation where blind_mode and status = 'ok'"
    ).n[0]
    assert ok_blind > 0
    signals = frame(warehouse_dir, "select strategy, count(*) as n from int_signals group by 1")
    by_strategy = dict(zip(signals["strategy"], signals["n"], strict=True))
    assert by_strategy[BLIND] == ok_blind and f"{BLIND}:no_risk" not in by_strategy
    for relation in ("mart_backtest_summary", "mart_signal_tracking", "mart_strategy_scorecard", "fct_backtest_daily"):
        assert BLIND in set(frame(warehouse_dir, f"select distinct strategy from {relation}")["strategy"]), relation
    caps = frame(warehouse_dir, "select strategy, blind_mode from int_backtest_risk_caps")
    assert set(caps.loc[caps["blind_mode"], "strategy"]) <= {BLIND}
    assert set(caps.loc[~caps["blind_mode"], "strategy"]) <= {f"llm:{MODEL}"}


def test_no_blind_prompt_of_the_build_shows_the_asset_or_the_period(checked: tuple[Path, str]) -> None:
    """No ticker, company name, year, ISO date, nor any close/high/low/open of the sample (raw, adjusted,
    or on a decision date's scale as the named prompts show it) from a year before the window to its
    end, to the 2 decimals prices are shown with. The signal prompt's "Analysis:" line is taken out
    first: it repeats the model's own blind answer (its summary, and its support and resistance on
    the rebased scale, which test_memorization_prompts checks), not data we showed it; a made-up
    resistance of 203.00 once matched an IBM close of 2012 by chance."""
    warehouse_dir, _ = checked
    tickers = set(project_vars()["tickers"]) | {"GSPC"}
    prices = frame(
        warehouse_dir,
        "select open, high, low, close, adj_close from raw.prices where date between date '2012-01-01' and date '2013-02-28'",
    )
    context = frame(warehouse_dir, "select * from int_llm_context")
    levels = [*prices.to_numpy().ravel()]
    for row in context.to_dict("records"):
        levels += [row[c] for c in ("close", "sma_short", "sma_medium", "sma_long", "range_high", "range_low")]
        levels += list(row["recent_closes"])
    raw_levels = {f"{float(v):.2f}" for v in levels if v is not None and pd.notna(v)}
    assert len(raw_levels) > 4000
    checked_prompts = 0
    for stage in STAGES:
        rows = frame(warehouse_dir, f"select prompt_messages, blind_mode from {stage}")
        for text, blind in zip(rows["prompt_messages"], rows["blind_mode"], strict=True):
            content = "\n".join(message["content"] for message in json.loads(text))
            if not blind:
                assert leaks(content, tickers, raw_levels), "the detector must see what a named prompt shows"
                continue
            content = re.sub(r"^Analysis: .*$", "", content, flags=re.MULTILINE)
            assert leaks(content, tickers, raw_levels) == [], content
            checked_prompts += 1
    assert checked_prompts == 8 + 8 + 2


def test_every_row_keeps_the_exact_prompt_the_model_saw(checked: tuple[Path, str], built_warehouse: Path) -> None:
    warehouse_dir, _ = checked
    for stage in (*STAGES, "llm_return_recall"):
        rows = frame(warehouse_dir, f"select prompt_messages, prompt_hash from {stage}")
        assert len(rows) > 0
        for text, digest in zip(rows["prompt_messages"], rows["prompt_hash"], strict=True):
            assert hashlib.sha256(text.encode()).hexdigest() == digest
    context = frame(warehouse_dir, "select * from int_llm_context").to_dict("records")
    named = frame(warehouse_dir, "select * from llm_market_analysis where not blind_mode")
    stored = {(r["ticker"], str(r["decision_date"])[:10]): r["prompt_messages"] for r in named.to_dict("records")}
    for row in context:
        assert json.loads(stored[(row["ticker"], str(row["decision_date"])[:10])]) == analysis_messages(row, False)
    default = frame(built_warehouse, "select ticker, decision_date, prompt_hash from llm_market_analysis")
    same = named.merge(default, on=["ticker", "decision_date"], suffixes=("", "_default"))
    assert len(same) == 8 and (same["prompt_hash"] == same["prompt_hash_default"]).all()


def test_the_recall_probe_asks_every_month_of_the_window_and_the_mart_sums_it_up(checked: tuple[Path, str]) -> None:
    warehouse_dir, _ = checked
    months = frame(warehouse_dir, "select * from int_llm_recall_months order by ticker, month")
    assert len(months) == 4 * 2 and set(months["month"].astype(str)) == {"2013-01-01", "2013-02-01"}
    answers = frame(warehouse_dir, "select * from llm_return_recall order by ticker, month")
    assert list(zip(answers["ticker"], answers["month"], strict=True)) == list(
        zip(months["ticker"], months["month"], strict=True)
    )
    for row in answers.to_dict("records"):
        question = json.loads(row["prompt_messages"])[-1]["content"]
        month = pd.Timestamp(row["month"])
        assert question.startswith(f"{row['ticker']}, {month:%B} {month.year}:"), question
        assert not re.search(r"\d+\.\d", question), "the question shows no market data"
    assert (answers["status"] == "ok").sum() >= 6, "the embedded model answers one whole number validly"
    mart = frame(warehouse_dir, "select * from mart_model_recall").sort_values("ticker").reset_index(drop=True)
    assert list(mart["ticker"]) == sorted([*project_vars()["tickers"], POOLED_TICKER])
    vars_ = project_vars()
    settings = RecallSettings(
        permutations=vars_["recall_permutations"], significance=vars_["recall_significance"], seed=vars_["recall_seed"]
    )
    again = recall_table(answers, months, settings).sort_values("ticker").reset_index(drop=True)
    pd.testing.assert_frame_equal(
        mart.astype(object).where(mart.notna(), None),
        again.astype(object).where(again.notna(), None),
        check_dtype=False,
    )


def test_the_scorecard_shows_the_memorisation_check_beside_each_twin(checked: tuple[Path, str]) -> None:
    """The paired test on the decisions both twins decided, the recall flag and the cutoff columns:
    on the named row (and its un-sized twin), the figures and whether the check passed; on the blind
    row the same figures and no pass/fail of its own; readiness in tracking never overrides a fail."""
    warehouse_dir, _ = checked
    card = frame(warehouse_dir, "select * from mart_strategy_scorecard").set_index("strategy")
    named, unsized, blind = card.loc[f"llm:{MODEL}"], card.loc[f"llm:{MODEL}:no_risk"], card.loc[BLIND]
    pairs = frame(
        warehouse_dir,
        "select count(*) as n from int_signal_outcomes n join int_signal_outcomes b using (ticker, signal_date) "
        f"where n.strategy = 'llm:{MODEL}' and b.strategy = '{BLIND}' "
        "and n.outcome in ('hit', 'miss') and b.outcome in ('hit', 'miss')",
    ).n[0]
    for row in (named, unsized, blind):
        assert row["memorization_pairs"] == pairs
        assert (pairs == 0) == pd.isna(row["memorization_p_value"])
    assert not pd.isna(named["memorization_check_passed"]) and pd.isna(blind["memorization_check_passed"])
    assert named["memorization_check_passed"] == unsized["memorization_check_passed"]
    assert not pd.isna(named["recall_probes"]) and named["recalls"] == blind["recalls"]
    assert pd.isna(named["training_cutoff"]), "SmolLM2's makers state no cutoff"
    assert "memorisation check" in named["verdict_reason"]
    tracking = frame(
        warehouse_dir, "select * from mart_signal_tracking where strategy_memorization_check_passed = false"
    )
    assert not tracking["ready_for_paper_trading"].any()


def test_each_model_asked_gets_its_training_cutoff(checked: tuple[Path, str]) -> None:
    warehouse_dir, _ = checked
    cutoffs = frame(warehouse_dir, "select * from int_llm_training_cutoffs")
    assert list(cutoffs["model"]) == [MODEL]
    assert cutoffs["training_cutoff"].isna().all(), "SmolLM2's makers state no cutoff"
    assert cutoffs["training_cutoff_source"][0].startswith("seeds/llm_models.csv: not stated")


def test_the_gx_suites_pass_on_the_checked_build(checked: tuple[Path, str]) -> None:
    warehouse_dir, _ = checked
    result = run_cli(
        ["expectations", "--suites", "llm", "signals", "--no-docs", "--vars", json.dumps(CHECK)],
        warehouse_dir,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mart_model_recall" in result.stdout and "llm_return_recall" in result.stdout


def test_the_default_build_asks_no_blind_twin_and_no_recall(built_warehouse: Path) -> None:
    for stage in STAGES:
        assert not frame(built_warehouse, f"select bool_or(blind_mode) as b from {stage}").b[0], stage
    for relation in ("llm_return_recall", "mart_model_recall"):
        assert frame(built_warehouse, f"select count(*) as n from {relation}").n[0] == 0, relation
    strategies = set(frame(built_warehouse, "select distinct strategy from int_signals")["strategy"])
    assert not any(s.endswith(":blind") for s in strategies)
