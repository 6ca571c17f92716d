"""The recall probe's one failure mode, through dbt: a model that remembers how past months went.

An Ollama-compatible stub serves two models: ``oracle:1b`` answers every recall question with the
month's true total return (from int_llm_context's price history, as a model that read the financial
press would), ``noise:1b`` with seeded noise. mart_model_recall must flag the oracle (p < 0.05 on
every ticker and pooled) and not the noise. The feature itself runs on the real embedded model in
test_memorization_build.py; the stub exists only because no model here remembers history.
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

from llm_client.prompts import MONTH_NAMES
from signal_stats.recall import POOLED_TICKER

pytestmark = [pytest.mark.warehouse, pytest.mark.model]

QUESTION = re.compile(r"^(?P<ticker>[A-Z0-9.^-]+), (?P<month>[A-Za-z]+) (?P<year>\d{4}):")


class RecallingOllama(StubOllama):
    """Answers a recall question from ``truth`` (oracle:1b) or seeded noise (noise:1b)."""

    models: ClassVar[list[str]] = ["oracle:1b", "noise:1b"]
    truth: ClassVar[dict[tuple[str, int, int], float]] = {}

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        question = QUESTION.match(request["messages"][-1]["content"])
        assert question is not None, request["messages"]
        key = (question["ticker"], int(question["year"]), MONTH_NAMES.index(question["month"]) + 1)
        if request["model"] == "oracle:1b":
            percent = round(self.truth[key] * 100)
        else:
            percent = random.Random(str(key)).randint(-10, 10)
        return {"total_return_percent": percent}


@pytest.fixture()
def recalling_host() -> Iterator[str]:
    with serving(RecallingOllama) as host:
        yield host


def test_a_model_that_remembers_past_months_is_flagged_and_noise_is_not(
    built_warehouse: Path, recalling_host: str, tmp_path: Path
) -> None:
    shutil.copy(built_warehouse / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        months = con.sql("select ticker, month, actual_return from int_llm_recall_months").df()
    RecallingOllama.truth = {
        (row.ticker, pd.Timestamp(row.month).year, pd.Timestamp(row.month).month): row.actual_return
        for row in months.itertuples()
    }
    assert len(months) == 4 * 11, "the default window: 11 complete months per ticker"
    dbt_vars = {"llm_memorization_check": True, "llm_models": ["oracle:1b", "noise:1b"]}
    run_dbt(
        ["run", "-s", "llm_return_recall", "mart_model_recall", "--vars", json.dumps(dbt_vars)],
        tmp_path,
        OLLAMA_HOST=recalling_host,
    )
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        mart = con.sql("select * from mart_model_recall").df().set_index(["model", "ticker"])
    oracle, noise = mart.loc["oracle:1b"], mart.loc["noise:1b"]
    assert (oracle["answered"] == oracle["probes"]).all() and oracle.loc[POOLED_TICKER, "probes"] == 44
    assert oracle["recalls"].all() and (oracle["p_value"] < 0.05).all(), oracle
    assert (oracle["spearman_correlation"] > 0.9).all()
    assert not noise.loc[POOLED_TICKER, "recalls"] and noise.loc[POOLED_TICKER, "p_value"] > 0.05, noise
