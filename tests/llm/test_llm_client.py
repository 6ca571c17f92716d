"""Fast unit tests of llm_client with fake Ollama clients (no server, no dbt)."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import httpx
import ollama
import pytest
from pydantic import ValidationError

from llm_client.cache import ResponseCache, cache_key
from llm_client.client import (
    LlmUnavailableError,
    Outcome,
    ask_structured,
    install_hint,
    normalize_model_name,
    probe_model,
)
from llm_client.prompts import analysis_messages, prompt_hash, risk_messages, signal_messages
from llm_client.runner import StageRequest, StageSpec, run_stage
from llm_client.schemas import MarketAnalysis, RiskAssessment, TradingSignal, json_schema
from llm_client.settings import LlmSettings

CONTEXT: dict[str, Any] = {
    "ticker": "AAPL",
    "decision_date": date(2012, 3, 30),
    "asset_label": "ASSET_1",
    "decision_day": 21,
    "close": 599.55,
    "recent_closes": [601.1, 605.96, 599.55],
    "return_1d": -0.017,
    "return_5d": 0.006,
    "return_20d": 0.1,
    "return_60d": 0.45,
    "volatility_annualized": 0.253,
    "sma_short": 580.78,
    "sma_medium": 523.46,
    "sma_long": None,
    "rsi": 71.2,
    "drawdown": -0.029,
    "range_high": 621.45,
    "range_low": 516.22,
}

GOOD_ANALYSIS = {
    "trend": "up",
    "regime": "bull",
    "support": 580.0,
    "resistance": 620.0,
    "sentiment_score": 0.4,
    "summary": "Strong.",
}


def settings(tmp_path: Path, **overrides: Any) -> LlmSettings:
    values: dict[str, Any] = {
        "enable_llm": True,
        "fail_fast": False,
        "models": ["fake:1b"],
        "model": None,
        "blind": False,
        "memorization_check": False,
        "concurrency": 2,
        "timeouts": {"analysis": 5, "signal": 5, "risk": 5},
        "max_retries": 2,
        "connection_retries": 1,
        "backoff_seconds": 0.0,
        "seed": 42,
        "temperature": 0.0,
        "num_ctx": 2048,
        "num_predict": {"analysis": 64, "signal": 64, "risk": 64},
        "max_position_size": 0.25,
        "use_cache": True,
        "cache_path": str(tmp_path / "cache.duckdb"),
        "host": "http://fake",
        "hosts": None,
        "host_down_seconds": 60,
    }
    values.update(overrides)
    return LlmSettings.from_config(values)


def chat_reply(content: str, done_reason: str = "stop") -> SimpleNamespace:
    return SimpleNamespace(
        message=SimpleNamespace(content=content),
        prompt_eval_count=10,
        eval_count=5,
        prompt_eval_duration=1_000_000,
        eval_duration=2_000_000,
        done_reason=done_reason,
    )


class FakeClient:
    """Replies from a script; records every chat request."""

    def __init__(self, replies: list[Any], models: list[str] | None = None) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []
        self.models = models if models is not None else ["fake:1b"]

    def list(self) -> SimpleNamespace:
        return SimpleNamespace(models=[SimpleNamespace(model=m, digest="d" * 64) for m in self.models])

    def show(self, model: str) -> Any:
        raise ollama.ResponseError(f"model '{model}' not found", status_code=404)

    def chat(self, **kwargs: Any) -> Any:
        self.requests.append(kwargs)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        return chat_reply(reply)


def ask(client: FakeClient, response_model: type = MarketAnalysis, max_retries: int = 2, **kw: Any):
    return ask_structured(
        client,
        model="fake:1b",
        messages=analysis_messages(CONTEXT, False),
        response_model=response_model,
        schema=json_schema(response_model),
        options={"temperature": 0, "seed": 42, "num_predict": 64},
        max_retries=max_retries,
        connection_retries=1,
        backoff_seconds=0.0,
        **kw,
    )


def test_schemas_reject_out_of_range_values() -> None:
    with pytest.raises(ValidationError, match="support"):
        MarketAnalysis.model_validate({**GOOD_ANALYSIS, "support": 700.0})
    with pytest.raises(ValidationError):
        MarketAnalysis.model_validate({**GOOD_ANALYSIS, "sentiment_score": 70})
    with pytest.raises(ValidationError):
        TradingSignal.model_validate({"action": "STRONG BUY", "confidence": 0.5, "horizon": "1m", "rationale": "x"})
    risk = {"risk_score": 0.5, "volatility_regime": "high", "max_position_size": 0.3, "concerns": ["rates"]}
    with pytest.raises(ValidationError, match="above the cap"):
        RiskAssessment.model_validate(risk, context={"max_position_size": 0.25})
    assert RiskAssessment.model_validate({**risk, "max_position_size": 0.25}, context={"max_position_size": 0.25})
    assert (
        json_schema(RiskAssessment, {"max_position_size": 0.25})["properties"]["max_position_size"]["maximum"] == 0.25
    )
    with pytest.raises(ValidationError, match="below and resistance"):
        MarketAnalysis.model_validate(
            {**GOOD_ANALYSIS, "support": 590.0, "resistance": 595.0}, context={"close": 599.55}
        )
    assert MarketAnalysis.model_validate(GOOD_ANALYSIS, context={"close": 599.55})
    bounded = json_schema(MarketAnalysis, {"close": 599.55})["properties"]
    assert bounded["support"]["exclusiveMaximum"] == 599.55 and bounded["resistance"]["exclusiveMinimum"] == 599.55


def test_invalid_reply_is_re_asked_with_the_error_fed_back() -> None:
    client = FakeClient(['{"trend": "up"}', json.dumps(GOOD_ANALYSIS)])
    outcome = ask(client)
    assert outcome.status == "ok" and outcome.attempts == 2
    assert outcome.answer == GOOD_ANALYSIS
    second = client.requests[1]["messages"]
    assert second[-2] == {"role": "assistant", "content": '{"trend": "up"}'}
    assert "rejected" in second[-1]["content"] and "regime" in second[-1]["content"]
    assert client.requests[0]["format"] == json_schema(MarketAnalysis)
    assert outcome.prompt_tokens == 20 and outcome.completion_tokens == 10


def test_still_invalid_after_the_retries_ends_as_invalid_output_with_raw_text() -> None:
    client = FakeClient(["garbage"])
    outcome = ask(client, max_retries=2)
    assert outcome.status == "invalid_output"
    assert outcome.answer is None
    assert outcome.raw_text == "garbage"
    assert outcome.attempts == 3 and len(client.requests) == 3
    assert "Invalid JSON" in (outcome.error or "")


def test_timeout_and_connection_errors_get_their_own_status() -> None:
    assert ask(FakeClient([httpx.ReadTimeout("slow")])).status == "timeout"
    down = FakeClient([ConnectionError("refused")])
    outcome = ask(down)
    assert outcome.status == "llm_unavailable" and "refused" in (outcome.error or "")
    assert len(down.requests) == 2  # one retry with backoff
    reset = FakeClient([httpx.ReadError("connection reset by peer")])
    assert ask(reset).status == "llm_unavailable" and len(reset.requests) == 2


def test_a_refused_request_is_unavailable_not_invalid_output() -> None:
    """'invalid_output' means the model replied and the reply failed validation; a 4xx refusal got no reply."""
    refused = ask(FakeClient([ollama.ResponseError("prompt too long", status_code=400)]))
    assert refused.status == "llm_unavailable" and refused.raw_text is None
    assert "refused the request (HTTP 400): prompt too long" in (refused.error or "")
    assert not refused.server_unavailable, "one refused request says nothing about the others"
    missing = ask(FakeClient([ollama.ResponseError("model not found", status_code=404)]))
    assert missing.status == "llm_unavailable" and missing.server_unavailable


class PickyClient(FakeClient):
    """Answers every prompt except those mentioning ``refuse``, which get an HTTP 400."""

    def __init__(self, refuse: str) -> None:
        super().__init__([json.dumps(GOOD_ANALYSIS)])
        self.refuse = refuse

    def chat(self, **kwargs: Any) -> Any:
        if self.refuse in json.dumps(kwargs["messages"]):
            self.requests.append(kwargs)
            raise ollama.ResponseError("prompt too long", status_code=400)
        return super().chat(**kwargs)


def test_runner_keeps_going_after_a_refusal_and_never_caches_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    picky = PickyClient(refuse="MSFT")
    monkeypatch.setattr("llm_client.routing.make_client", lambda host, timeout: picky)
    spec = StageSpec("llm_market_analysis", "analysis", MarketAnalysis)
    requests = [
        StageRequest(keys={"ticker": t}, messages=analysis_messages({**CONTEXT, "ticker": t}, False))
        for t in ("AAPL", "MSFT", "IBM")
    ]
    rows = run_stage(spec, requests, settings(tmp_path, concurrency=1))
    assert [(r["ticker"], r["status"]) for r in rows] == [
        ("AAPL", "ok"),
        ("MSFT", "llm_unavailable"),
        ("IBM", "ok"),
    ]
    assert "refused the request (HTTP 400)" in rows[1]["error"] and rows[1]["raw_response"] is None
    with ResponseCache(tmp_path / "cache.duckdb") as cache:
        assert cache.count() == 2, "answers are cached, the refusal is not"
    picky.requests.clear()
    again = run_stage(spec, requests, settings(tmp_path, concurrency=1))
    assert [r["ticker"] for r in again] == ["AAPL", "MSFT", "IBM"]
    assert len(picky.requests) == 1 and "MSFT" in json.dumps(picky.requests[0]["messages"])


def test_probe_reports_a_missing_model_with_the_pull_command() -> None:
    client = FakeClient([], models=["other:7b"])
    with pytest.raises(LlmUnavailableError, match="ollama pull fake:1b"):
        probe_model(client, "fake:1b", 0, 0.0, "http://fake")
    assert probe_model(FakeClient([]), "fake:1b", 0, 0.0, "http://fake").digest == "d" * 64
    assert normalize_model_name("llama3") == "llama3:latest"


def test_blind_mode_hides_ticker_and_dates() -> None:
    for messages in (
        analysis_messages(CONTEXT, True),
        signal_messages(CONTEXT, GOOD_ANALYSIS, True),
        risk_messages([(CONTEXT, {"action": "BUY", "confidence": 0.6})], True, 0.25),
    ):
        text = json.dumps(messages)
        assert "AAPL" not in text and "2012" not in text
        assert "ASSET_1" in text or "day 21" in text
    plain = analysis_messages(CONTEXT, False)[1]["content"]
    assert "AAPL" in plain and "2012-03-30" in plain
    assert prompt_hash(analysis_messages(CONTEXT, True)) != prompt_hash(analysis_messages(CONTEXT, False))


def test_cache_round_trip_and_key(tmp_path: Path) -> None:
    key = cache_key("digest", "hash", "1", {"seed": 42})
    assert key != cache_key("digest", "hash", "1", {"seed": 43})
    assert key != cache_key("digest2", "hash", "1", {"seed": 42})
    about = {
        "stage": "analysis",
        "model": "m",
        "model_digest": "digest",
        "prompt_hash": "hash",
        "schema_version": "1",
        "options_json": "{}",
    }
    answer = Outcome("ok", answer=GOOD_ANALYSIS, attempts=1, latency_ms=5, prompt_tokens=1, completion_tokens=1)
    with ResponseCache(tmp_path / "c.duckdb") as cache:
        cache.put(key, answer, about)
        with pytest.raises(ValueError):
            cache.put(key, Outcome("timeout", error="slow"), about)
    with ResponseCache(tmp_path / "c.duckdb") as cache:
        assert cache.get(key) == answer and cache.count() == 1


def test_runner_caches_and_never_defaults_failures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeClient([json.dumps(GOOD_ANALYSIS)])
    monkeypatch.setattr("llm_client.routing.make_client", lambda host, timeout: fake)
    spec = StageSpec("llm_market_analysis", "analysis", MarketAnalysis)
    requests = [StageRequest(keys={"ticker": "AAPL"}, messages=analysis_messages(CONTEXT, False))]
    first = run_stage(spec, requests, settings(tmp_path))
    second = run_stage(spec, requests, settings(tmp_path))
    assert len(fake.requests) == 1, "the second run must be served from the cache"
    assert first == second and first[0]["status"] == "ok" and first[0]["trend"] == "up"

    broken = FakeClient(["not json"])
    monkeypatch.setattr("llm_client.routing.make_client", lambda host, timeout: broken)
    rows = run_stage(spec, requests, settings(tmp_path, use_cache=False))
    assert rows[0]["status"] == "invalid_output" and rows[0]["trend"] is None
    assert rows[0]["raw_response"] == "not json" and rows[0]["attempts"] == 3


def test_runner_marks_every_row_unavailable_or_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = FakeClient([], models=["other:7b"])
    monkeypatch.setattr("llm_client.routing.make_client", lambda host, timeout: missing)
    spec = StageSpec("llm_market_analysis", "analysis", MarketAnalysis)
    requests = [StageRequest(keys={"i": i}, messages=analysis_messages(CONTEXT, False)) for i in range(3)]
    rows = run_stage(spec, requests, settings(tmp_path))
    assert [r["status"] for r in rows] == ["llm_unavailable"] * 3
    assert all("not available" in r["error"] and r["prompt_hash"] for r in rows)
    assert not missing.requests
    with pytest.raises(RuntimeError, match="llm_fail_fast"):
        run_stage(spec, requests, settings(tmp_path, fail_fast=True))
    disabled = run_stage(spec, requests, settings(tmp_path, enable_llm=False))
    assert all(r["status"] == "llm_unavailable" and "enable_llm" in r["error"] for r in disabled)


def test_default_model_is_the_embedded_one_and_listed_in_the_seed() -> None:
    import csv

    import yaml

    from embedded_ollama.catalog import EMBEDDED_MODEL_NAME

    root = Path(__file__).resolve().parents[2]
    project_vars = yaml.safe_load((root / "dbt_project.yml").read_text())["vars"]
    assert project_vars["llm_models"] == [EMBEDDED_MODEL_NAME] and project_vars["llm_model"] is None
    seed = list(csv.DictReader((root / "seeds" / "llm_models.csv").open()))
    by_name = {row["model"]: row for row in seed}
    assert by_name[EMBEDDED_MODEL_NAME]["priority"] == "0"
    assert {"deepseek-coder:6.7b-instruct-q4_K_M", "codellama:13b-instruct-q4_K_M", "qwen:14b-chat-q4_K_M"} <= set(
        by_name
    )
    assert project_vars["llm_max_position_size"] == 0.25
    assert (
        project_vars["llm_timeout_analysis"],
        project_vars["llm_timeout_signal"],
        project_vars["llm_timeout_risk"],
    ) == (180, 180, 120)


class DyingClient(FakeClient):
    """Answers ``answers`` chats (slower for earlier ones, so they finish out of order), then refuses connections."""

    def __init__(self, answers: int) -> None:
        super().__init__([json.dumps(GOOD_ANALYSIS)])
        self.answers = answers
        self.lock = threading.Lock()

    def chat(self, **kwargs: Any) -> Any:
        with self.lock:
            self.requests.append(kwargs)
            turn = len(self.requests)
        if turn > self.answers:
            raise ConnectionError("connection refused")
        time.sleep(0.05 * (self.answers - turn))
        return chat_reply(json.dumps(GOOD_ANALYSIS))


def test_runner_keeps_input_order_and_stops_asking_when_the_server_goes_away(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dying = DyingClient(answers=3)
    monkeypatch.setattr("llm_client.routing.make_client", lambda host, timeout: dying)
    spec = StageSpec("llm_market_analysis", "analysis", MarketAnalysis)
    requests = [
        StageRequest(keys={"i": i}, messages=analysis_messages({**CONTEXT, "close": i}, False)) for i in range(8)
    ]
    rows = run_stage(spec, requests, settings(tmp_path, concurrency=2, use_cache=False))
    assert [r["i"] for r in rows] == list(range(8)), "one row per request, in input order"
    statuses = [r["status"] for r in rows]
    assert statuses[:3] == ["ok"] * 3 and statuses[3:] == ["llm_unavailable"] * 5
    assert all("connection refused" in r["error"] for r in rows[3:])
    # requests 4 and 5 were in flight when 4 failed (each tried twice: one backoff retry);
    # the rest were never sent
    assert len(dying.requests) <= 3 + 2 * 2
    assert [r["attempts"] for r in rows[5:]] == [0, 0, 0]
    with pytest.raises(RuntimeError, match="llm_fail_fast"):
        run_stage(spec, requests, settings(tmp_path, concurrency=2, use_cache=False, fail_fast=True))


def test_a_truncated_cache_is_moved_aside_and_the_stage_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeClient([json.dumps(GOOD_ANALYSIS)])
    monkeypatch.setattr("llm_client.routing.make_client", lambda host, timeout: fake)
    spec = StageSpec("llm_market_analysis", "analysis", MarketAnalysis)
    requests = [StageRequest(keys={"ticker": "AAPL"}, messages=analysis_messages(CONTEXT, False))]
    first = run_stage(spec, requests, settings(tmp_path))
    cache_file = tmp_path / "cache.duckdb"
    with cache_file.open("r+b") as handle:
        handle.truncate(5000)

    with caplog.at_level(logging.WARNING, logger="llm_client"):
        again = run_stage(spec, requests, settings(tmp_path))
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    moved = Path(re.search(r"moved it to (\S+);", warnings[0]).group(1))
    assert moved.name.startswith("cache.duckdb.damaged-") and moved.stat().st_size == 5000
    assert again[0]["status"] == "ok" and again[0]["trend"] == first[0]["trend"]
    assert len(fake.requests) == 2, "the answer lost with the damaged file is asked again"
    with ResponseCache(cache_file) as cache:
        assert cache.count() == 1, "the new cache holds the new answer"


def test_runner_talks_to_the_host_warehouse_core_resolves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hosts: list[str] = []

    def client_for(host: str, timeout: float) -> FakeClient:
        hosts.append(host)
        return FakeClient([], models=["other:7b"])

    monkeypatch.setattr("llm_client.routing.make_client", client_for)
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.3:1234")
    spec = StageSpec("llm_market_analysis", "analysis", MarketAnalysis)
    requests = [StageRequest(keys={"ticker": "AAPL"}, messages=analysis_messages(CONTEXT, False))]
    rows = run_stage(spec, requests, settings(tmp_path, host=None))
    assert hosts == ["http://127.0.0.3:1234"] and "at http://127.0.0.3:1234" in rows[0]["error"]
    run_stage(spec, requests, settings(tmp_path, host="other-box"), host="http://explicit:1")
    assert hosts[-1] == "http://explicit:1", "an explicit host parameter wins over the settings"


def test_a_cache_that_fails_only_when_read_is_replaced_mid_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Damage that DuckDB only notices on a lookup (a bad block checksum) is handled like a damaged open.

    The child-process check at open would see this damage (a full read); it is switched off here to
    stand for damage that appears after the check, while the stage runs."""
    monkeypatch.setattr("llm_client.cache.check_in_child", lambda path: None)
    path = tmp_path / "cache.duckdb"
    about = {"stage": "analysis", "model": "m", "model_digest": "d", "prompt_hash": "h", "schema_version": "1"}
    answer = Outcome("ok", answer=GOOD_ANALYSIS, attempts=1, latency_ms=5, prompt_tokens=1, completion_tokens=1)
    with ResponseCache(path) as cache:
        for i in range(3):
            cache.put(f"k{i}", answer, {**about, "options_json": "{}"})
    with duckdb.connect(str(path)) as con:
        con.execute("checkpoint")
    with path.open("r+b") as handle:  # the checksum of the second storage block (DuckDB 1.5: 12 KiB header + 256 KiB)
        handle.seek(12 * 1024 + 256 * 1024)
        handle.write(b"\xff" * 64)

    with caplog.at_level(logging.WARNING, logger="llm_client"), ResponseCache(path) as cache:
        assert cache.count() == 3, "precondition: the damage is not visible when the file is opened"
        assert cache.get("k1") is None, "the unreadable answer is a miss, not an exception"
        cache.put("k9", answer, {**about, "options_json": "{}"})
        assert cache.get("k9") == answer and cache.count() == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "Corrupt database file" in warnings[0], warnings
    moved = Path(re.search(r"moved it to (\S+);", warnings[0]).group(1))
    assert moved.is_file() and moved.name.startswith("cache.duckdb.damaged-")


def test_the_install_hint_is_only_a_hint() -> None:
    class Shows(FakeClient):
        def __init__(self, outcome: Exception | None) -> None:
            super().__init__([])
            self.outcome = outcome

        def show(self, model: str) -> Any:
            if self.outcome is not None:
                raise self.outcome
            return SimpleNamespace()

    embedded = ollama.ResponseError('model "q:1b" is not installed; install it with `bin/setup --model q:1b`', 404)
    assert (
        install_hint(Shows(embedded), "q:1b")
        == 'model "q:1b" is not installed; install it with `bin/setup --model q:1b`'
    )
    assert install_hint(Shows(ollama.ResponseError("model 'q:1b' not found", 404)), "q:1b") is None
    assert install_hint(Shows(ValueError("a reply that is not Ollama's")), "q:1b") is None
    assert install_hint(Shows(httpx.ConnectError("refused")), "q:1b") is None
    assert install_hint(Shows(None), "q:1b") is None
