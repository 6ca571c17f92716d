"""Several Ollama hosts: which hosts a build uses, and the scheduling policy (fake clock and hosts).

The policy is a unit of logic (least busy healthy host, down for a while after a failure), so it
is tested here with plain objects; the fan-out itself runs on real embedded servers in
test_llm_fanout.py.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from test_llm_client import CONTEXT, GOOD_ANALYSIS, FakeClient, chat_reply, settings

from llm_client.client import Outcome
from llm_client.hosts import Host, HostPool, dispatch
from llm_client.prompts import analysis_messages
from llm_client.runner import StageRequest, StageSpec, run_stage
from llm_client.schemas import MarketAnalysis
from warehouse_core.ollama_host import HostSetting, resolve_hosts


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def hosts(*concurrencies: int) -> list[Host]:
    return [Host(f"http://h{i}:1", n, client=None) for i, n in enumerate(concurrencies)]


def test_hosts_come_from_llm_hosts_then_llm_host_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOSTS", "a:1, b:2=3")
    monkeypatch.setenv("OLLAMA_HOST", "c:3")
    assert resolve_hosts(["gpu1=4", "http://gpu2:8000"], "x") == [
        HostSetting("http://gpu1:11434", 4),
        HostSetting("http://gpu2:8000", None),
    ]
    assert resolve_hosts(None, "x") == [HostSetting("http://x:11434")], "llm_host (a var) wins over the environment"
    assert resolve_hosts(None, None) == [HostSetting("http://a:1"), HostSetting("http://b:2", 3)]
    monkeypatch.delenv("OLLAMA_HOSTS")
    assert resolve_hosts([], None) == [HostSetting("http://c:3")], "the single host stays the default"
    with pytest.raises(ValueError, match="listed twice"):
        resolve_hosts(["a", "http://a:11434"])
    with pytest.raises(ValueError, match="host=N"):
        resolve_hosts(["a=0"])
    with pytest.raises(ValueError, match="host=N"):
        resolve_hosts("a=two,b")


def test_settings_give_each_host_its_concurrency(tmp_path: Path) -> None:
    chosen = settings(tmp_path, hosts="gpu1=4,gpu2", concurrency=2)
    assert chosen.host_settings() == [HostSetting("http://gpu1:11434", 4), HostSetting("http://gpu2:11434", 2)]
    with pytest.raises(ValueError, match="host=N"):
        settings(tmp_path, hosts=["gpu1=-1"])


def test_the_least_busy_healthy_host_gets_the_next_request() -> None:
    clock = FakeClock()
    a, b, c = hosts(2, 4, 1)
    pool = HostPool([a, b, c], down_seconds=30, clock=clock)
    assert pool.pick([a, b, c]) is a, "all idle, none sent: the first listed"
    a.in_flight, a.sent = 1, 1
    assert pool.pick([a, b, c]) is b, "b is idle; a is half busy"
    b.in_flight, b.sent = 2, 2
    assert pool.pick([a, b, c]) is c, "c idle beats a and b at half load"
    c.in_flight, c.sent = 1, 1
    assert pool.pick([a, b, c]) is a, "a and b both half busy: a was sent fewer"
    assert pool.pick([b, c]) is b, "only among the hosts that serve the model"
    a.in_flight, b.in_flight = 2, 4
    assert pool.pick([a, b, c]) is None, "every slot taken"


def test_a_failed_host_is_skipped_until_its_down_time_is_over(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    a, b = hosts(1, 1)
    pool = HostPool([a, b], down_seconds=30, clock=clock)
    with caplog.at_level(logging.WARNING, logger="llm_client"):
        pool.mark_down(a, "connection refused")
        pool.mark_down(a, "connection refused")
    assert len(caplog.records) == 1 and "http://h0:1 failed (connection refused)" in caplog.records[0].getMessage()
    assert pool.healthy() == [b] and pool.pick([a, b]) is b and pool.pick([a]) is None
    clock.now += 29.9
    assert pool.pick([a]) is None
    clock.now += 0.2
    assert pool.healthy() == [a, b] and pool.pick([a, b]) is a


def test_dispatch_moves_a_failed_hosts_request_to_another_host_at_once() -> None:
    """Connection retries with backoff only on the last healthy host; otherwise hand over at once."""
    clock = FakeClock()
    a, b = hosts(1, 1)
    pool = HostPool([a, b], down_seconds=30, clock=clock)
    calls: list[tuple[int, str, bool]] = []
    lock = threading.Lock()

    def ask(request: int, host: Host, alone: bool) -> Outcome:
        with lock:
            calls.append((request, host.url, alone))
        if host is a:
            return Outcome("llm_unavailable", error="connection refused", server_unavailable=True)
        time.sleep(0.05)  # a fails before b's first answer
        return Outcome("ok", answer={"n": request})

    answered: dict[int, str] = {}
    unanswered, failure = dispatch(
        [0, 1, 2, 3], pool, [a, b], ask, lambda done: answered.update((r, h.url) for r, _, h in done), "t"
    )
    assert unanswered == [] and failure == "connection refused"
    assert answered == dict.fromkeys(range(4), "http://h1:1"), "every request answered by b"
    assert sorted(calls) == [
        (0, "http://h0:1", False),  # a is not alone: no connection retries on it, the request moves on
        (0, "http://h1:1", True),  # from here on b is the last healthy host: retries with backoff allowed
        (1, "http://h1:1", False),
        (2, "http://h1:1", True),
        (3, "http://h1:1", True),
    ], "a gets nothing more while it is down"


def test_with_every_host_down_the_rest_is_unanswered() -> None:
    pool = HostPool(hosts(1, 1), down_seconds=30, clock=FakeClock())

    def ask(request: int, host: Host, alone: bool) -> Outcome:
        return Outcome("llm_unavailable", error=f"{host.url} refused", server_unavailable=True)

    results: list[tuple[int, Outcome]] = []
    unanswered, failure = dispatch(
        list(range(5)), pool, pool.hosts, ask, lambda done: results.extend((r, o) for r, o, _ in done), "t"
    )
    assert len(results) == 1, "the failure on the last healthy host is that request's own result"
    assert sorted(unanswered + [r for r, _ in results]) == list(range(5))
    assert failure is not None and "refused" in failure


class CountingClient(FakeClient):
    """Lists ``models`` with ``digest``; answers every chat with a valid analysis."""

    def __init__(self, models: list[str], digest: str = "d" * 64) -> None:
        super().__init__([json.dumps(GOOD_ANALYSIS)], models=models)
        self.digest = digest
        self.lock = threading.Lock()

    def list(self) -> SimpleNamespace:
        return SimpleNamespace(models=[SimpleNamespace(model=m, digest=self.digest) for m in self.models])

    def chat(self, **kwargs: Any) -> Any:
        with self.lock:
            self.requests.append(kwargs)
        return chat_reply(json.dumps(GOOD_ANALYSIS))


class UnreachableClient(CountingClient):
    def list(self) -> SimpleNamespace:
        raise ConnectionError("connection refused")


def test_a_host_without_the_model_or_with_another_build_of_it_gets_no_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clients = {
        "http://a:11434": CountingClient(["fake:1b"]),
        "http://b:11434": CountingClient(["other:7b"]),
        "http://c:11434": CountingClient(["fake:1b"], digest="e" * 64),
        "http://d:11434": UnreachableClient([]),
    }
    monkeypatch.setattr("llm_client.routing.make_client", lambda host, timeout: clients[host])
    spec = StageSpec("llm_market_analysis", "analysis", MarketAnalysis)
    requests = [
        StageRequest(keys={"i": i}, messages=analysis_messages({**CONTEXT, "close": 600 + i}, False)) for i in range(6)
    ]
    with caplog.at_level(logging.INFO, logger="llm_client"):
        rows = run_stage(spec, requests, settings(tmp_path, hosts=list(clients), use_cache=False))
    assert [r["status"] for r in rows] == ["ok"] * 6 and {r["model_digest"] for r in rows} == {"d" * 64}
    assert len(clients["http://a:11434"].requests) == 6
    assert not any(clients[host].requests for host in ("http://b:11434", "http://c:11434", "http://d:11434"))
    notes = [r for r in caplog.records if "not used" in r.getMessage()]
    assert all(r.levelno == logging.WARNING for r in notes), "the first stage warns"
    assert [r.getMessage().split(": ", 1)[1] for r in notes] == [
        "Ollama host not used: Ollama is unreachable at http://d:11434: connection refused",
        "Ollama host not used for fake:1b: model 'fake:1b' is not available at http://b:11434 "
        "(installed: other:7b); run `ollama pull fake:1b` there, or leave it out of var llm_models",
        "Ollama host not used for fake:1b: http://c:11434 holds another build of fake:1b "
        "(digest eeeeeeeeeeee, not dddddddddddd of http://a:11434)",
    ]

    caplog.clear()
    signal_spec = StageSpec("llm_signal_generation", "signal", MarketAnalysis)
    with caplog.at_level(logging.INFO, logger="llm_client"):
        run_stage(signal_spec, requests, settings(tmp_path, hosts=list(clients), use_cache=False))
    notes = [r for r in caplog.records if "not used" in r.getMessage()]
    assert len(notes) == 3 and all(r.levelno == logging.INFO for r in notes), "later stages say it at info level"
