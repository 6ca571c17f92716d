"""Several models in one build, with a fake Ollama client (no server, no dbt).

The same behaviour on the real embedded server and dbt is in test_llm_pipeline.py; here the fake
lets each model answer differently, so a stage handing one model's answers to another shows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from test_llm_client import CONTEXT, GOOD_ANALYSIS, FakeClient, chat_reply, settings

from llm_client.settings import model_names
from llm_client.stages import market_analysis, risk_assessment, signal_generation
from pipeline import cli as pipeline_cli

SIGNAL = {"action": "BUY", "confidence": 0.7, "horizon": "1m", "rationale": "Trend."}
CONFIDENCE = {"alpha:1b": 0.61, "beta:1b": 0.62}
RISK = {"risk_score": 0.4, "volatility_regime": "normal", "max_position_size": 0.2, "concerns": ["x"]}


class TwoModelClient(FakeClient):
    """Serves ``served``; every answer names the model that gave it (summary, rationale)."""

    def __init__(self, served: list[str]) -> None:
        super().__init__([], models=served)
        self.lock = threading.Lock()

    def list(self) -> SimpleNamespace:
        """Each model with its own digest, as different weights have."""
        digests = {m: hashlib.sha256(m.encode()).hexdigest() for m in self.models}
        return SimpleNamespace(models=[SimpleNamespace(model=m, digest=d) for m, d in digests.items()])

    def chat(self, **kwargs: Any) -> Any:
        with self.lock:
            self.requests.append(kwargs)
        model, properties = kwargs["model"], kwargs["format"]["properties"]
        if "trend" in properties:
            answer = {**GOOD_ANALYSIS, "summary": f"by {model}"}
        elif "action" in properties:
            answer = {**SIGNAL, "rationale": f"by {model}", "confidence": CONFIDENCE.get(model, 0.5)}
        else:
            answer = RISK
        return chat_reply(json.dumps(answer))


def context_rows() -> list[dict[str, Any]]:
    return [{**CONTEXT, "ticker": ticker} for ticker in ("AAPL", "MSFT")]


def run_three_stages(tmp_path: Path, client: TwoModelClient, models: list[str], **overrides: Any):
    chosen = settings(tmp_path, models=models, **overrides)
    analyses = market_analysis(context_rows(), chosen)
    signals = signal_generation(context_rows(), analyses.to_dict("records"), chosen)
    risks = risk_assessment(context_rows(), signals.to_dict("records"), chosen)
    return analyses, signals, risks


def test_llm_model_is_a_one_model_alias_and_the_list_is_checked() -> None:
    assert model_names(["a", "b:7b"]) == ["a:latest", "b:7b"]
    assert model_names("a, b:7b") == ["a:latest", "b:7b"], "one comma-separated string works too"
    assert model_names(["a", "b"], model="c") == ["c:latest"], "llm_model, when set, wins"
    assert model_names(["a"], model="") == ["a:latest"]
    with pytest.raises(ValueError, match="llm_models is empty"):
        model_names([])
    with pytest.raises(ValueError, match="names llama3:latest more than once"):
        model_names(["llama3", "llama3:latest"])


def test_pipeline_passes_several_models_and_refuses_a_repeated_one(capsys: pytest.CaptureFixture[str]) -> None:
    args = pipeline_cli.build_parser().parse_args(["--llm-model", "a,b:7b", "--llm-hosts", "gpu1=4,gpu2"])
    assert pipeline_cli.dbt_vars(args) == {
        "llm_models": ["a:latest", "b:7b"],
        "llm_model": None,
        "llm_hosts": ["gpu1=4", "gpu2"],
    }
    with pytest.raises(SystemExit) as stopped:
        pipeline_cli.main(["--llm-model", "a,a:latest"])
    assert stopped.value.code == 2
    assert (
        capsys.readouterr().err.strip().splitlines()[-1].endswith("names a:latest more than once: list each model once")
    )


def test_every_stage_keeps_each_models_rows_and_feeds_it_its_own_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = TwoModelClient(["alpha:1b", "beta:1b"])
    monkeypatch.setattr("llm_client.routing.make_client", lambda host, timeout: client)
    analyses, signals, risks = run_three_stages(tmp_path, client, ["alpha:1b", "beta:1b"])
    for frame, per_model in ((analyses, 2), (signals, 2), (risks, 1)):
        assert frame.groupby("model").size().to_dict() == {"alpha:1b": per_model, "beta:1b": per_model}
        assert (frame["status"] == "ok").all()
    assert (analyses["summary"] == "by " + analyses["model"]).all()
    assert (signals["rationale"] == "by " + signals["model"]).all()
    signal_prompts = [r for r in client.requests if "action" in r["format"]["properties"]]
    assert len(signal_prompts) == 4
    for request in signal_prompts:
        assert f". by {request['model']}\n" in request["messages"][-1]["content"], "the model's own analysis"
    risk_prompts = [r for r in client.requests if "risk_score" in r["format"]["properties"]]
    for request in risk_prompts:
        confidence = CONFIDENCE[request["model"]]
        assert request["messages"][-1]["content"].count(f"BUY (confidence {confidence})") == 2, "its own signals"
    asked = [r["model"] for r in client.requests if "trend" in r["format"]["properties"]]
    assert asked == ["alpha:1b"] * 2 + ["beta:1b"] * 2, "all of one model's requests, then the next"


def test_a_missing_model_gets_its_own_unavailable_rows_and_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client = TwoModelClient(["alpha:1b"])
    monkeypatch.setattr("llm_client.routing.make_client", lambda host, timeout: client)
    with caplog.at_level(logging.INFO, logger="llm_client"):
        analyses, signals, risks = run_three_stages(tmp_path, client, ["gone:7b", "alpha:1b"])
    for frame in (analyses, signals, risks):
        gone, alpha = frame[frame["model"] == "gone:7b"], frame[frame["model"] == "alpha:1b"]
        assert len(gone) == len(alpha) > 0
        assert (gone["status"] == "llm_unavailable").all() and gone["model_digest"].isna().all()
        assert gone["error"].str.contains("ollama pull gone:7b", regex=False).all()
        assert (alpha["status"] == "ok").all() and alpha["model_digest"].notna().all()
    assert {r["model"] for r in client.requests} == {"alpha:1b"}
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "LLM unavailable for gone:7b" in warnings[0]
    still = [r.getMessage() for r in caplog.records if "still unavailable for gone:7b" in r.getMessage()]
    assert len(still) == 2

    with pytest.raises(RuntimeError, match=r"gone:7b.*llm_fail_fast"):
        run_three_stages(tmp_path, client, ["alpha:1b", "gone:7b"], fail_fast=True)


def test_a_cached_rerun_makes_no_call_for_any_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = TwoModelClient(["alpha:1b", "beta:1b"])
    monkeypatch.setattr("llm_client.routing.make_client", lambda host, timeout: client)
    first = run_three_stages(tmp_path, client, ["alpha:1b", "beta:1b"])
    assert len(client.requests) == 2 * (2 + 2 + 1)
    client.requests.clear()
    again = run_three_stages(tmp_path, client, ["alpha:1b", "beta:1b"])
    assert client.requests == []
    for before, after in zip(first, again, strict=True):
        assert before.equals(after)
    only_beta = run_three_stages(tmp_path, client, ["beta:1b"])
    assert client.requests == [] and (only_beta[1]["rationale"] == "by beta:1b").all(), "keyed by model digest"
