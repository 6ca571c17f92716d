"""The model pool with real models: requests for the resident model run side by side, as many as it
has copies; a request for another model waits until they are done before the switch."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from embedded_ollama.catalog import SMOLLM2_Q4_1, SMOLLM2_Q8_0, CatalogModel
from embedded_ollama.model import EngineConfig
from embedded_ollama.pool import ModelPool

pytestmark = pytest.mark.model

HOLD_SECONDS = 2.0
"""How long each request below keeps its model in use (longer than loading a model takes)."""


def _use(pool: ModelPool, model: CatalogModel, events: list[tuple[str, str, float]], label: str) -> None:
    with pool.using(model) as (engine, _waited):
        events.append((label, "start", time.perf_counter()))
        assert engine.loaded
        time.sleep(HOLD_SECONDS)
        events.append((label, "end", time.perf_counter()))


def test_requests_share_the_resident_model_and_a_switch_waits_for_them(embedded_models_dir: Path) -> None:
    pool = ModelPool(embedded_models_dir, EngineConfig(num_ctx=512, num_parallel=2))
    events: list[tuple[str, str, float]] = []
    try:
        pool.load(SMOLLM2_Q8_0)
        same = [threading.Thread(target=_use, args=(pool, SMOLLM2_Q8_0, events, f"q8_{i}")) for i in range(2)]
        for thread in same:
            thread.start()
        time.sleep(0.1)  # both requests on the resident model are in
        other = threading.Thread(target=_use, args=(pool, SMOLLM2_Q4_1, events, "q4"))
        other.start()
        for thread in [*same, other]:
            thread.join(timeout=30)
        at = {(label, what): seen for label, what, seen in events}
        assert at["q8_1", "start"] < at["q8_0", "end"] and at["q8_0", "start"] < at["q8_1", "end"], (
            "two requests for the resident model did not run side by side"
        )
        assert at["q4", "start"] >= max(at["q8_0", "end"], at["q8_1", "end"]), (
            "the other model was loaded while requests were still using the resident one"
        )
        resident = pool.resident
        assert resident is not None and resident[0].name == SMOLLM2_Q4_1.name
    finally:
        pool.close()


def test_a_request_needing_a_reload_is_not_starved_by_requests_that_keep_coming(embedded_models_dir: Path) -> None:
    """Two clients keep the resident model busy without a gap; a request for a larger context (or for
    another model: the same wait) gets in once the requests in flight are done, because requests
    arriving after it queue behind it (a model switch used to wait until both clients happened to be
    idle at once: never, here)."""
    model, num_ctx = SMOLLM2_Q8_0, 1024
    pool = ModelPool(embedded_models_dir, EngineConfig(num_ctx=512, num_parallel=1))
    stop = threading.Event()

    def keep_busy(offset: float) -> None:
        time.sleep(offset)
        while not stop.is_set():
            with pool.using(SMOLLM2_Q8_0):
                time.sleep(0.2)

    got: list[tuple[str, int]] = []

    def ask() -> None:
        with pool.using(model, num_ctx) as (engine, _waited):
            got.append((engine.name, engine.config.num_ctx))

    try:
        pool.load(SMOLLM2_Q8_0)
        busy = [threading.Thread(target=keep_busy, args=(offset,), daemon=True) for offset in (0.0, 0.1)]
        for thread in busy:
            thread.start()
        time.sleep(0.3)  # both are cycling, one always holding the model
        asking = threading.Thread(target=ask, daemon=True)
        asking.start()
        asking.join(timeout=20)
        assert got == [(model.name, num_ctx)], "the request needing a reload never got in"
    finally:
        stop.set()
        pool.close()
