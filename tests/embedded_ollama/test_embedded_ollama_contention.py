"""The embedded server beside a busy process keeps a fair share of its idle throughput.

The exact ratios (idle, +1 and +2 busy loops, against the issue's targets) belong to
``benchmarks/embedded_model_speed.py``; this test only catches a collapse, such as OpenMP threads
spinning at barriers again (which took generation from ~110 to 2-35 tokens/s beside one busy loop).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import ollama
import pytest

from benchmarks.cpu_load import busy_loops
from embedded_ollama import EMBEDDED_MODEL_NAME

MESSAGES = [
    {"role": "system", "content": "You are a cautious trading assistant. Answer only with JSON."},
    {"role": "user", "content": "MSFT fell 3.2% today; 20-day return -6.4%, RSI 31. Give a signal with a confidence."},
]
FRACTION = 0.25
"""Generous on purpose: other processes on a shared machine move both figures."""


def ask(client: ollama.Client) -> None:
    """One greedy call (same tokens every time, so idle and loaded compare)."""
    answer = client.chat(
        model=EMBEDDED_MODEL_NAME,
        messages=MESSAGES,
        format="json",
        options={"temperature": 0, "seed": 42, "num_predict": 64},
    )
    assert answer.eval_count


def calls_per_second(client: ollama.Client, calls: int, in_flight: int) -> float:
    """Throughput with ``in_flight`` requests at once (one per copy of the model, as the LLM stages send them)."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        list(pool.map(lambda _: ask(client), range(calls)))
    return calls / (time.perf_counter() - started)


@pytest.mark.model
def test_throughput_beside_a_busy_loop_stays_a_fair_share_of_idle(
    embedded_ollama_client: ollama.Client, embedded_server_copies: int
) -> None:
    calls_per_second(embedded_ollama_client, embedded_server_copies, embedded_server_copies)  # warm-up
    idle = calls_per_second(embedded_ollama_client, 4, embedded_server_copies)
    with busy_loops(1, max_seconds=120):
        time.sleep(0.3)
        loaded = calls_per_second(embedded_ollama_client, 4, embedded_server_copies)
    assert loaded >= FRACTION * idle, f"beside one busy loop {loaded:.2f} calls/s against {idle:.2f} idle"
