"""The LLM stages end to end: real dbt builds against the embedded Ollama server and its real model.

A small window keeps the module fast (4 tickers x 1 decision date: 9 LLM requests per served model
plus re-asks). The module's build asks every model the embedded server serves (one or two) and one
model nobody has, side by side.
The garbage-replying server is the one hand-written stub, for the malformed-reply path only.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import ollama
import pandas as pd
import pytest
from test_llm_client import settings
from warehouse_helpers import run_cli, run_dbt

from embedded_ollama.catalog import CATALOG
from embedded_ollama.netutil import free_loopback_port
from llm_client.prompts import analysis_messages, prompt_hash
from llm_client.runner import StageRequest, StageSpec, run_stage
from llm_client.schemas import MarketAnalysis, RiskAssessment, TradingSignal
from warehouse_core.project import project_vars

pytestmark = [pytest.mark.warehouse, pytest.mark.model]

STAGES = ("llm_market_analysis", "llm_signal_generation", "llm_risk_assessment")
SMALL_WINDOW = {"llm_start": "2013-02-01", "llm_end": "2013-02-28", "llm_max_decisions": 4}
MISSING_MODEL = "no-such-model:7b"
ALLOWED_STATUSES = {"ok", "invalid_output", "llm_unavailable", "timeout"}


def vars_arg(**overrides: Any) -> str:
    return json.dumps({**SMALL_WINDOW, **overrides})


def table(warehouse_dir: Path, name: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse_dir / "warehouse.duckdb"), read_only=True) as con:
        # a stable row order to compare: the build does not preserve insertion order (profiles.yml)
        return con.sql(f"select * from {name} order by all").df()


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as Python objects with None for null: an all-null text column reads back as object
    (None), one holding text as a string column (nan), and the two must compare equal."""
    return frame.astype(object).where(frame.notna(), None)


def copy_warehouse(source: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "warehouse.duckdb", target / "warehouse.duckdb")
    return target


def build_models(ollama_host: str) -> tuple[list[str], str]:
    """The models the module's build asks: the default model, a second model the server serves if it
    serves one (the embedded server serves several on later versions), and a model nobody has."""
    default = project_vars()["llm_models"][0]
    others = sorted((m.size, m.model) for m in ollama.Client(host=ollama_host).list().models if m.model != default)
    return [default, *[name for _, name in others[:1]]], MISSING_MODEL  # the smallest other one: fast


@pytest.fixture(scope="module")
def llm_build(tmp_path_factory: pytest.TempPathFactory, ollama_host: str) -> tuple[Path, str]:
    """Sample ingested, then a full ``dbt build`` whose LLM stages ask several models side by side:
    the served ones run on the embedded server, the missing one gets 'llm_unavailable' rows."""
    warehouse_dir = tmp_path_factory.mktemp("llm_warehouse")
    run_cli(["python_ingest"], warehouse_dir)
    served, missing = build_models(ollama_host)
    result = run_dbt(
        ["build", "--vars", vars_arg(llm_models=[*served, missing])], warehouse_dir, OLLAMA_HOST=ollama_host
    )
    return warehouse_dir, result.stdout


def test_three_stages_end_to_end_give_schema_valid_rows_for_every_served_model(
    llm_build: tuple[Path, str], ollama_host: str
) -> None:
    warehouse_dir, log = llm_build
    served, _ = build_models(ollama_host)
    digests = {m.model: m.digest for m in ollama.Client(host=ollama_host).list().models}
    context = table(warehouse_dir, "int_llm_context")
    assert len(context) == 4 and set(context["decision_date"].astype(str)) == {"2013-02-28"}
    schemas = dict(zip(STAGES, (MarketAnalysis, TradingSignal, RiskAssessment), strict=True))
    for stage, schema in schemas.items():
        for model in served:
            rows = table(warehouse_dir, stage)
            rows = rows[rows["model"] == model]
            assert len(rows) == (1 if stage == "llm_risk_assessment" else 4)
            assert set(rows["status"]) <= ALLOWED_STATUSES
            assert (rows["model_digest"] == digests[model]).all()
            assert rows["prompt_hash"].str.fullmatch(r"[0-9a-f]{64}").all()
            assert (~rows["blind_mode"]).all() and (rows["latency_ms"] > 0).all() and (rows["prompt_tokens"] > 0).all()
            ok = rows[rows["status"] == "ok"]
            for record in ok.to_dict("records"):
                answer = {field: record[field] for field in schema.model_fields}
                if stage == "llm_risk_assessment":
                    answer["concerns"] = json.loads(answer["concerns"])
                schema.model_validate(answer, context={"max_position_size": 0.25})
            failed = rows[rows["status"] != "ok"]
            assert failed["error"].notna().all()
            assert failed[list(schema.model_fields)].isna().all().all(), "a failed row must not carry a made-up answer"
        assert f"{stage}: " in log and "LLM calls" in log
    signals = table(warehouse_dir, "llm_signal_generation")
    interface = table(warehouse_dir, "int_signals")
    summary = table(warehouse_dir, "mart_backtest_summary")
    for model in served:
        ok_signals = ((signals["model"] == model) & (signals["status"] == "ok")).sum()
        assert ok_signals > 0, f"the embedded model {model} should produce at least one valid signal"
        llm_rows = interface[interface["strategy"] == f"llm:{model}"]
        assert len(llm_rows) == ok_signals and llm_rows["advisory_only"].all()
        assert (summary["strategy"] == f"llm:{model}").any(), f"llm:{model} is backtested as its own strategy"


def test_a_missing_model_gets_its_own_rows_and_leaves_the_others_alone(
    llm_build: tuple[Path, str], ollama_host: str
) -> None:
    warehouse_dir, log = llm_build
    served, missing = build_models(ollama_host)
    for stage in STAGES:
        rows = table(warehouse_dir, stage)
        gone = rows[rows["model"] == missing]
        assert len(gone) == (1 if stage == "llm_risk_assessment" else 4)
        assert (gone["status"] == "llm_unavailable").all() and gone["model_digest"].isna().all()
        assert gone["error"].str.contains(f"ollama pull {missing}", regex=False).all()
        assert set(rows["model"]) == {*served, missing}
    assert log.count(f"LLM unavailable for {missing}") == 1, "one warning per model per build"
    assert log.count(f"LLM still unavailable for {missing}") == 2
    strategies = set(table(warehouse_dir, "int_signals")["strategy"])
    assert f"llm:{missing}" not in strategies, "no answers, no signals: never a HOLD"


def test_a_model_the_server_knows_but_has_not_installed_is_reported_with_its_install_command(
    ollama_host: str, tmp_path: Path
) -> None:
    listed = {m.model for m in ollama.Client(host=ollama_host).list().models}
    not_installed = [model for model in CATALOG if model.name not in listed]
    if not not_installed:
        pytest.skip("every embedded model is installed here")
    spec = StageSpec("llm_market_analysis", "analysis", MarketAnalysis)
    request = StageRequest(keys={"i": 0}, messages=[{"role": "user", "content": "hi"}])
    chosen = settings(tmp_path, models=[not_installed[0].name], host=ollama_host)
    [row] = run_stage(spec, [request], chosen)
    assert row["status"] == "llm_unavailable"
    assert f"is not installed; install it with `{not_installed[0].install_command}`" in row["error"], row["error"]


def test_cached_rerun_makes_no_calls_and_gives_identical_rows(llm_build: tuple[Path, str], ollama_host: str) -> None:
    warehouse_dir, _ = llm_build
    served, missing = build_models(ollama_host)
    before = {stage: table(warehouse_dir, stage) for stage in STAGES}
    result = run_dbt(
        ["run", "--full-refresh", "-s", "int_llm_context", *STAGES, "--vars", vars_arg(llm_models=[*served, missing])],
        warehouse_dir,
        OLLAMA_HOST=ollama_host,
    )
    calls = re.findall(r"(llm_\w+): (\d+) decisions, (\d+) cache hits, (\d+) LLM calls,.*; model (\S+);", result.stdout)
    assert sorted((stage, model, int(c)) for stage, _, _, c, model in calls) == sorted(
        (stage, model, 0) for stage in STAGES for model in served
    ), "every served model answered from the cache, none asked"
    assert all(int(d) == int(h) for _, d, h, _, _ in calls)
    for stage in STAGES:
        after = table(warehouse_dir, stage)
        answered = after["model"] != missing
        pd.testing.assert_frame_equal(after[answered], before[stage][answered])
        # rows of the missing model are made again: equal but for created_at, the time of this attempt
        pd.testing.assert_frame_equal(
            after[~answered].drop(columns="created_at"), before[stage][~answered].drop(columns="created_at")
        )


def test_llm_model_alias_wins_and_a_model_alone_gets_the_rows_it_gets_beside_others(
    llm_build: tuple[Path, str], ollama_host: str, tmp_path: Path
) -> None:
    served, missing = build_models(ollama_host)
    warehouse_dir = copy_warehouse(llm_build[0], tmp_path)
    shutil.copy(llm_build[0] / "llm_cache.duckdb", tmp_path / "llm_cache.duckdb")
    before = {stage: table(warehouse_dir, stage) for stage in STAGES}
    alone = run_dbt(
        ["run", "-s", *STAGES, "--vars", vars_arg(llm_model=served[0], llm_models=[missing])],
        warehouse_dir,
        OLLAMA_HOST=ollama_host,
    )
    assert "LLM unavailable" not in alone.stdout, "llm_model (the one-model alias) wins over llm_models"
    for stage in STAGES:
        one_model = table(warehouse_dir, stage)
        assert set(one_model["model"]) == {served[0]}
        beside_others = before[stage][before[stage]["model"] == served[0]].reset_index(drop=True)
        pd.testing.assert_frame_equal(
            plain(one_model), plain(beside_others), obj=f"{stage}: {served[0]} alone vs beside others"
        )


def test_missing_model_marks_rows_unavailable_and_fail_fast_stops(
    llm_build: tuple[Path, str], ollama_host: str, tmp_path: Path
) -> None:
    warehouse_dir = copy_warehouse(llm_build[0], tmp_path)
    result = run_dbt(
        ["run", "-s", "llm_market_analysis", "--vars", vars_arg(llm_model="no-such-model:7b")],
        warehouse_dir,
        OLLAMA_HOST=ollama_host,
    )
    rows = table(warehouse_dir, "llm_market_analysis")
    assert len(rows) == 4 and (rows["status"] == "llm_unavailable").all()
    assert rows["error"].str.contains("ollama pull no-such-model:7b", regex=False).all()
    assert rows["trend"].isna().all() and rows["model_digest"].isna().all()
    assert result.stdout.count("LLM unavailable") == 1

    stopped = run_dbt(
        ["run", "-s", "llm_market_analysis", "--vars", vars_arg(llm_model="no-such-model:7b", llm_fail_fast=True)],
        warehouse_dir,
        check=False,
        OLLAMA_HOST=ollama_host,
    )
    assert stopped.returncode != 0
    assert "no-such-model:7b" in stopped.stdout and "llm_fail_fast" in stopped.stdout


def test_server_down_marks_rows_unavailable(llm_build: tuple[Path, str], tmp_path: Path) -> None:
    warehouse_dir = copy_warehouse(llm_build[0], tmp_path)
    nobody = f"http://127.0.0.1:{free_loopback_port()}"
    result = run_dbt(["run", "-s", *STAGES, "--vars", vars_arg()], warehouse_dir, OLLAMA_HOST=nobody)
    for stage in STAGES:
        rows = table(warehouse_dir, stage)
        assert len(rows) > 0 and (rows["status"] == "llm_unavailable").all()
        assert rows["error"].str.contains(f"unreachable at {nobody}", regex=False).all()
    assert result.stdout.count("LLM unavailable") == 1, "one clear warning, not one per stage"
    assert result.stdout.count("LLM still unavailable") == 2


class GarbageOllama(BaseHTTPRequestHandler):
    """Lists one model, answers every chat with text that is not JSON, and /api/show of any other
    model with Ollama's 404."""

    chats: ClassVar[list[dict[str, Any]]] = []

    def _send(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._send({"models": [{"name": "garbage:1b", "model": "garbage:1b", "digest": "0" * 64, "size": 1}]})

    def do_POST(self) -> None:
        if self.path == "/api/show":  # as Ollama answers for a model it does not have
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b'{"error": "model not found"}')
            return
        GarbageOllama.chats.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self._send(
            {
                "model": "garbage:1b",
                "message": {"role": "assistant", "content": "Sure! The trend is up {"},
                "done": True,
                "done_reason": "stop",
                "prompt_eval_count": 3,
                "eval_count": 7,
            }
        )

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture()
def garbage_host() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), GarbageOllama)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    GarbageOllama.chats = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_malformed_replies_end_as_invalid_output_after_the_retries(
    llm_build: tuple[Path, str], garbage_host: str, tmp_path: Path
) -> None:
    warehouse_dir = copy_warehouse(llm_build[0], tmp_path)
    run_dbt(
        ["run", "-s", "llm_market_analysis", "--vars", vars_arg(llm_model="garbage:1b", llm_max_retries=2)],
        warehouse_dir,
        OLLAMA_HOST=garbage_host,
    )
    rows = table(warehouse_dir, "llm_market_analysis")
    assert (rows["status"] == "invalid_output").all()
    assert (rows["attempts"] == 3).all() and (rows["raw_response"] == "Sure! The trend is up {").all()
    assert rows["trend"].isna().all()
    assert len(GarbageOllama.chats) == 4 * 3
    re_ask = GarbageOllama.chats[-1]["messages"]
    assert re_ask[-1]["role"] == "user" and "rejected" in re_ask[-1]["content"]
    assert GarbageOllama.chats[0]["options"]["temperature"] == 0 and GarbageOllama.chats[0]["options"]["seed"] == 42
    assert GarbageOllama.chats[0]["format"]["properties"]["trend"]["enum"] == ["up", "down", "sideways"]


def test_prompts_never_change_when_later_prices_change(tmp_path: Path) -> None:
    """Build, rewrite every price after t, rebuild: prompts for decisions up to t stay identical."""
    cutoff = "2012-10-31"
    window = json.dumps({"enable_llm": False, "llm_start": "2012-06-01", "llm_end": "2013-03-01"})
    run_cli(["python_ingest"], tmp_path)
    selection = ["build", "-s", "+llm_market_analysis", "--exclude", "test_type:unit", "--vars", window]
    run_dbt(selection, tmp_path)

    def prompts() -> pd.DataFrame:
        context = table(tmp_path, "int_llm_context")
        context["prompt"] = [json.dumps(analysis_messages(row, False)) for row in context.to_dict("records")]
        stage = table(tmp_path, "llm_market_analysis")[["ticker", "decision_date", "prompt_hash"]]
        merged = context.merge(stage, on=["ticker", "decision_date"])
        merged["recomputed_hash"] = [prompt_hash(json.loads(p)) for p in merged["prompt"]]
        return merged.sort_values(["ticker", "decision_date"]).reset_index(drop=True)

    before = prompts()
    assert (before["prompt_hash"] == before["recomputed_hash"]).all()
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        changed = con.execute(
            f"""update raw.prices set open = open * 1.3, high = high * 1.3, low = low * 1.3,
                    close = close * 1.3, adj_close = adj_close * 1.3, volume = volume + 1
                where date > date '{cutoff}'"""
        ).fetchone()[0]
    assert changed > 0
    run_dbt(selection, tmp_path)
    after = prompts()

    early_before = before[before["decision_date"].astype(str) <= cutoff]
    early_after = after[after["decision_date"].astype(str) <= cutoff]
    assert len(early_before) >= 4 * 4
    pd.testing.assert_series_equal(early_before["prompt"], early_after["prompt"])
    pd.testing.assert_series_equal(early_before["prompt_hash"], early_after["prompt_hash"])
    late = before["decision_date"].astype(str) > cutoff
    assert (before.loc[late, "prompt_hash"] != after.loc[late, "prompt_hash"]).any(), "the test must see later changes"

    blind = json.loads(window) | {"llm_blind": True}
    run_dbt(["run", "-s", "llm_market_analysis", "--vars", json.dumps(blind)], tmp_path)
    blind_rows = table(tmp_path, "llm_market_analysis")
    assert blind_rows["blind_mode"].all()
    assert not set(blind_rows["prompt_hash"]) & set(after["prompt_hash"])


def test_llm_hosts_leave_out_a_host_without_the_model(
    llm_build: tuple[Path, str], ollama_host: str, garbage_host: str, tmp_path: Path
) -> None:
    """Var llm_hosts through dbt: a host that lists other models only gets no request; the answers
    are those the model gave in the module's build (asked again here: the copy has no cache)."""
    served, _ = build_models(ollama_host)
    warehouse_dir = copy_warehouse(llm_build[0], tmp_path)
    result = run_dbt(
        [
            "run",
            "-s",
            "llm_market_analysis",
            "--vars",
            vars_arg(llm_models=served[:1], llm_hosts=[garbage_host, f"{ollama_host}=2"]),
        ],
        warehouse_dir,
    )
    assert GarbageOllama.chats == [], "the host without the model got no request"
    notes = [line for line in result.stdout.splitlines() if f"Ollama host not used for {served[0]}" in line]
    assert len(notes) == 1 and f"not available at {garbage_host}" in notes[0]
    answer_columns = ["ticker", "decision_date", *MarketAnalysis.model_fields, "status", "prompt_hash", "model_digest"]
    rows = table(warehouse_dir, "llm_market_analysis")[answer_columns]
    before = table(llm_build[0], "llm_market_analysis")
    before = before[before["model"] == served[0]][answer_columns].reset_index(drop=True)
    assert (rows["status"] != "llm_unavailable").all()
    pd.testing.assert_frame_equal(plain(rows), plain(before))
