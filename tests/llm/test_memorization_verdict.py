"""The memorisation check's one failure mode, through dbt: a model that knows how the story ended.

An Ollama-compatible stub serves two models over five years of monthly decisions on the sample:
``memory:1b`` answers the signal stage from the future (BUY when the next 20 trading days rose, SELL
when they fell) whenever the prompt names the ticker and the date, and a seeded coin flip when it is
blind; ``honest:1b`` follows the 20-day return shown in both prompts, so it answers the same named
and blind. The named memory twin must look like an edge and lose it: large gap, significant
memorisation p-value, check failed, not one signal ready for paper trading although its confident
hits have a valid backtest and an edge verdict. The honest model's gap is exactly 0. The check
itself runs with the real embedded model in test_memorization_build.py.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pandas as pd
import pytest
from ollama_stub import StubOllama, serving
from warehouse_helpers import run_dbt

pytestmark = [pytest.mark.warehouse, pytest.mark.model]

WINDOW = {"llm_start": "2008-01-01", "llm_end": "2012-12-31", "llm_decision_frequency": "monthly"}
KEY_FACTS = re.compile(r"^(?P<subject>\S+), close of (?P<when>[^:]+): close (?P<close>[\d.]+)")
RETURN_20D = re.compile(r"20d (?P<percent>[+-][\d.]+)%")
CLOSE_IN_ANALYSIS = re.compile(r"support \(below (?P<close>[\d.]+)\)")


class KnowingOllama(StubOllama):
    """Answers each stage's schema; the signal stage as the class docstring of the module says."""

    models: ClassVar[list[str]] = ["memory:1b", "honest:1b"]
    future: ClassVar[dict[tuple[str, str], str]] = {}

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        fields = set(request["format"]["properties"])
        prompt = request["messages"][-1]["content"]
        if "total_return_percent" in fields:
            return {"total_return_percent": 0}
        if "risk_score" in fields:
            return {"risk_score": 0.3, "volatility_regime": "normal", "max_position_size": 0.25, "concerns": []}
        if "trend" in fields:
            close = float(CLOSE_IN_ANALYSIS.search(prompt)["close"])
            return {
                "trend": "sideways",
                "regime": "range",
                "support": round(close * 0.9, 2),
                "resistance": round(close * 1.1, 2),
                "sentiment_score": 0.0,
                "summary": "stub",
            }
        facts = KEY_FACTS.match(prompt)
        assert facts is not None, prompt
        return {
            "action": self.action(request["model"], facts, prompt),
            "confidence": 0.9,
            "horizon": "1m",
            "rationale": "stub",
        }

    def action(self, model: str, facts: re.Match[str], prompt: str) -> str:
        if model == "honest:1b":
            shown = RETURN_20D.search(prompt)
            return "HOLD" if shown is None else ("BUY" if float(shown["percent"]) > 0 else "SELL")
        named = (facts["subject"], facts["when"])
        if named in self.future:
            return self.future[named]
        return random.Random(f"{facts['subject']} {facts['when']}").choice(["BUY", "SELL"])


@pytest.fixture()
def knowing_host() -> Iterator[str]:
    with serving(KnowingOllama) as host:
        yield host


def test_a_model_that_knows_the_future_only_by_name_loses_readiness_and_an_honest_one_has_no_gap(
    built_warehouse: Path, knowing_host: str, tmp_path: Path
) -> None:
    shutil.copy(built_warehouse / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        outcomes = con.sql(
            "select ticker, strftime(date, '%Y-%m-%d') as day, buy_hits, sell_hits from int_forward_outcomes "
            "where forward_return_horizon is not null"
        ).df()
    KnowingOllama.future = {
        (row.ticker, row.day): "BUY" if row.buy_hits else "SELL" if row.sell_hits else "HOLD"
        for row in outcomes.itertuples()
    }
    dbt_vars = {"llm_memorization_check": True, "llm_models": KnowingOllama.models, **WINDOW}
    run_dbt(["build", "--vars", json.dumps(dbt_vars)], tmp_path, OLLAMA_HOST=knowing_host)

    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        card = con.sql("select * from mart_strategy_scorecard").df().set_index("strategy")
        tracking = con.sql("select * from mart_signal_tracking where model = 'memory:1b'").df()
    named, blind, unsized = (
        card.loc["llm:memory:1b"],
        card.loc["llm:memory:1b:blind"],
        card.loc["llm:memory:1b:no_risk"],
    )
    assert named["verdict"] == "edge" and blind["verdict"] != "edge", card[["verdict", "verdict_reason"]]
    assert named["memorization_pairs"] > 150 and named["memorization_gap"] > 0.3
    assert named["memorization_p_value"] < 0.001
    assert not named["memorization_check_passed"] and not unsized["memorization_check_passed"]
    assert pd.isna(blind["memorization_check_passed"])
    assert "memorisation check failed" in named["verdict_reason"]
    named_rows = tracking[tracking["strategy"] == "llm:memory:1b"]
    would_be_ready = named_rows["is_hit"] & (named_rows["confidence"] >= 0.5) & named_rows["strategy_is_valid"]
    assert would_be_ready.sum() > 50 and (named_rows["strategy_verdict"] == "edge").all()
    assert not tracking["ready_for_paper_trading"].any()

    honest, honest_blind = card.loc["llm:honest:1b"], card.loc["llm:honest:1b:blind"]
    assert honest["memorization_gap"] == 0.0 and honest["memorization_p_value"] == 1.0
    assert honest["memorization_pairs"] == honest["signals"] == honest_blind["signals"]
    assert honest["verdict"] == honest_blind["verdict"]
    assert honest["memorization_check_passed"] == (honest_blind["verdict"] == "edge")
