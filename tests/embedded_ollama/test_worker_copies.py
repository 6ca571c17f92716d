"""Each copy of a model runs in its own worker process: a copy that dies is started again and the
request still answered; stopping the model, or losing the server, leaves no worker behind."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import ollama
import pytest

from embedded_ollama import EmbeddedHandle, start_on_free_port
from embedded_ollama.catalog import SMOLLM2_Q8_0
from embedded_ollama.model import Engine, EngineConfig
from embedded_ollama.worker import worker_pids

pytestmark = pytest.mark.model

REQUEST = {
    "messages": [{"role": "user", "content": "Name one colour."}],
    "max_tokens": 12,
    "temperature": 0.0,
    "seed": 7,
}


def _answer(engine: Engine) -> str:
    result, _waited = engine.generate("chat", REQUEST)
    assert result is not None and "error" not in result, result
    return str(result["choices"][0]["message"]["content"])


def _gone(pid: int, timeout: float = 15.0) -> bool:
    """True once process ``pid`` has exited (or is a zombie nobody waits for)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_a_copy_whose_worker_died_is_started_again_and_answers_as_before(embedded_models_dir: Path) -> None:
    engine = Engine(SMOLLM2_Q8_0.path(embedded_models_dir), EngineConfig(num_ctx=512, num_parallel=2))
    engine.load()
    try:
        before = _answer(engine)
        killed = engine.worker_pids
        assert len(killed) == 2
        for pid in killed:  # what a crash inside llama.cpp does to a copy
            os.kill(pid, signal.SIGKILL)
        assert all(_gone(pid) for pid in killed)
        answers: list[str] = []
        threads = [threading.Thread(target=lambda: answers.append(_answer(engine))) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert answers == [before, before], "a request on a dead copy was not answered as before"
        assert len(engine.worker_pids) == 2 and not set(engine.worker_pids) & set(killed)
    finally:
        workers = engine.worker_pids
        engine.close()
    assert workers and all(_gone(pid) for pid in workers), "closing the engine left a worker running"


def test_workers_exit_when_the_server_is_killed(embedded_models_dir: Path) -> None:
    handle = start_on_free_port(extra_args=["--models-dir", str(embedded_models_dir), "--num-parallel", "2"])
    try:
        workers = worker_pids(handle.pid)
        assert len(workers) == 2, f"expected one worker per copy, found {workers}"
        os.kill(handle.pid, signal.SIGKILL)
        handle.process.wait(timeout=10)
        assert all(_gone(pid) for pid in workers), "a worker outlived its server"
    finally:
        handle.stop()


def test_the_server_answers_as_before_after_its_workers_died(
    embedded_ollama_server: EmbeddedHandle, embedded_ollama_client: ollama.Client
) -> None:
    def ask(num_ctx: int | None) -> str:
        options: dict[str, int] = {"num_predict": 12, "temperature": 0, "seed": 7}
        if num_ctx is not None:
            options["num_ctx"] = num_ctx  # the server counts the prompt's tokens first (the pipeline does)
        reply = embedded_ollama_client.chat(model=SMOLLM2_Q8_0.name, messages=REQUEST["messages"], options=options)
        return str(reply.message.content)

    before = ask(None)
    log_start = embedded_ollama_server.log_path.stat().st_size
    killed = worker_pids(embedded_ollama_server.pid)
    assert killed, "the server runs no model worker"
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    assert all(_gone(pid) for pid in killed)
    with ThreadPoolExecutor(2) as pool:  # one request counts tokens first, one goes straight to generation
        answers = list(pool.map(ask, [1024, None]))
    assert answers == [before, before], "requests after the workers died were not answered as before"
    with open(embedded_ollama_server.log_path, "rb") as log:
        log.seek(log_start)
        assert b"starting the copy again" in log.read()


def test_a_stream_whose_worker_dies_ends_with_an_error_line(
    embedded_ollama_server: EmbeddedHandle, embedded_ollama_client: ollama.Client
) -> None:
    stream = embedded_ollama_client.chat(
        model=SMOLLM2_Q8_0.name,
        messages=[{"role": "user", "content": "Write a long story about a ship at sea."}],
        options={"num_predict": 400, "temperature": 0},
        stream=True,
    )
    next(stream)  # part of the answer has reached the client: it cannot be sent again
    for pid in worker_pids(embedded_ollama_server.pid):
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(ollama.ResponseError, match="not answered"):
        for _ in stream:
            pass
