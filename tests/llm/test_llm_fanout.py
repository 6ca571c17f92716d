"""LLM requests spread over several real embedded Ollama servers (each on one thread, a free port).

One server is killed mid-run (SIGKILL while a request is in flight on it): its requests must be
finished by the other server, with the very answers a one-host run gives. Hosts where nothing
listens give 'llm_unavailable' rows, or stop the stage with fail_fast.
"""

from __future__ import annotations

import ast
import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ollama
import pytest
from test_llm_client import CONTEXT, settings

from embedded_ollama.launcher import EmbeddedHandle, start_on_free_port
from embedded_ollama.netutil import free_loopback_port
from llm_client.prompts import analysis_messages
from llm_client.runner import StageRequest, StageSpec, run_stage
from llm_client.schemas import MarketAnalysis
from warehouse_core.project import project_vars

pytestmark = pytest.mark.model

MODEL = project_vars()["llm_models"][0]
SPEC = StageSpec("llm_market_analysis", "analysis", MarketAnalysis)
ANSWER_FIELDS = [*MarketAnalysis.model_fields, "status", "error", "prompt_hash", "model_digest"]


def requests(count: int) -> list[StageRequest]:
    """``count`` analysis requests on distinct closes and tickers (so distinct prompts)."""
    return [
        StageRequest(
            keys={"i": i},
            messages=analysis_messages({**CONTEXT, "ticker": f"T{i}", "close": 500.0 + 7 * i}, False),
            validation={"close": 500.0 + 7 * i},
        )
        for i in range(count)
    ]


def answers(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{field: row[field] for field in ANSWER_FIELDS} for row in rows]


def fanout_settings(tmp_path: Path, hosts: list[str], **overrides: Any) -> Any:
    return settings(
        tmp_path,
        models=[MODEL],
        hosts=hosts,
        concurrency=1,
        use_cache=False,
        max_retries=1,
        timeouts={"analysis": 120, "signal": 120, "risk": 120},
        num_predict={"analysis": 160, "signal": 128, "risk": 160},
        **overrides,
    )


@pytest.fixture(scope="module")
def steady_host() -> Iterator[str]:
    with start_on_free_port(extra_args=["--threads", "1"]) as handle:
        yield handle.host


@pytest.fixture()
def doomed_server() -> Iterator[EmbeddedHandle]:
    with start_on_free_port(extra_args=["--threads", "1"]) as handle:
        yield handle


class KillOnCall:
    """A real ``ollama.Client`` for one server that SIGKILLs that server while its ``nth`` chat is in flight."""

    def __init__(self, host: str, timeout: float, server: EmbeddedHandle, nth: int) -> None:
        self.client = ollama.Client(host=host, timeout=timeout)
        self.server, self.nth, self.calls = server, nth, 0
        self.lock = threading.Lock()

    def list(self) -> Any:
        return self.client.list()

    def chat(self, **kwargs: Any) -> Any:
        with self.lock:
            self.calls += 1
            if self.calls == self.nth:
                threading.Timer(0.15, self.server.process.kill).start()
        return self.client.chat(**kwargs)


def test_a_host_that_dies_mid_run_has_its_requests_finished_on_the_other(
    tmp_path: Path,
    steady_host: str,
    doomed_server: EmbeddedHandle,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    work = requests(6)
    reference = run_stage(SPEC, work, fanout_settings(tmp_path, [steady_host]))
    assert {row["status"] for row in reference} <= {"ok", "invalid_output"}

    killer = KillOnCall(doomed_server.host, 120, doomed_server, nth=3)
    real_client = ollama.Client
    monkeypatch.setattr(
        "llm_client.routing.make_client",
        lambda host, timeout: killer if host == doomed_server.host else real_client(host=host, timeout=timeout),
    )
    with caplog.at_level(logging.INFO, logger="llm_client"):
        rows = run_stage(SPEC, work, fanout_settings(tmp_path, [steady_host, doomed_server.host]))
    assert not doomed_server.is_running(), "precondition: the second server was killed during the run"
    assert answers(rows) == answers(reference), "same answers as one host, every row answered"
    log = "\n".join(r.getMessage() for r in caplog.records)
    per_host = re.search(r"calls per host (\{.*\})", log)
    assert per_host is not None, log
    calls = ast.literal_eval(per_host.group(1))
    assert calls[doomed_server.host] == 2 and calls[steady_host] == 4, "2 answered before the kill, the rest moved"
    assert f"Ollama host {doomed_server.host} failed" in log
    assert killer.calls == 3, "the dead host got nothing after it failed"


def test_with_every_host_down_the_rows_say_so_or_fail_fast_stops(tmp_path: Path) -> None:
    nobody = [f"http://127.0.0.1:{free_loopback_port()}", f"http://127.0.0.1:{free_loopback_port()}"]
    rows = run_stage(SPEC, requests(3), fanout_settings(tmp_path, nobody, backoff_seconds=0.0))
    assert [row["status"] for row in rows] == ["llm_unavailable"] * 3
    for row in rows:
        assert all(f"unreachable at {host}" in row["error"] for host in nobody)
    with pytest.raises(RuntimeError, match="llm_fail_fast"):
        run_stage(SPEC, requests(3), fanout_settings(tmp_path, nobody, backoff_seconds=0.0, fail_fast=True))
