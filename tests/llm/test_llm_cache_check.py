"""A cache file whose damage crashes DuckDB (SIGSEGV) is found in a child process and moved aside.

The damage is real: 64 bytes overwritten inside a checkpointed cache written by ResponseCache, at
an offset where DuckDB 1.5.6 segfaults on a scan and on a lookup (found by overwriting every 4 KiB
block of such a file in turn). The precondition shows the crash without the check.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest
from warehouse_helpers import PROJECT_DIR

from llm_client.cache import ResponseCache, check_in_child
from llm_client.client import Outcome

CRASH_OFFSET = 40960
"""Inside the column data of ``llm_responses`` in the file :func:`write_cache` makes."""

LOOKUP_WITHOUT_CHECK = """
import sys
import llm_client.cache as cache
cache.check_in_child = lambda path: None  # the stage as it was before the check
with cache.ResponseCache(cache.Path(sys.argv[1])) as opened:
    print(opened.count(), flush=True)
    opened.get(f"{0:064x}")
"""


def write_cache(path: Path, answers: int = 300) -> None:
    """A checkpointed cache of ``answers`` analysis answers, the same bytes each time but for the header."""
    about = {"stage": "analysis", "model": "m:1b", "model_digest": "d" * 64, "schema_version": "4"}
    with ResponseCache(path) as cache:
        for i in range(answers):
            answer = {"trend": "up", "regime": "bull", "support": 1.0 + i, "resistance": 2.0 + i}
            outcome = Outcome(
                "ok",
                answer={**answer, "sentiment_score": 0.1, "summary": f"row {i} " * 5},
                raw_text=str(answer),
                attempts=1,
                latency_ms=5,
                prompt_tokens=100,
                completion_tokens=50,
                model_ns=1000,
                created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
            )
            cache.put(f"{i:064x}", outcome, {**about, "prompt_hash": f"{i:064x}", "options_json": "{}"})
    with duckdb.connect(str(path)) as con:
        con.execute("checkpoint")


def damage(path: Path, offset: int = CRASH_OFFSET) -> None:
    with path.open("r+b") as handle:
        handle.seek(offset)
        handle.write(b"\xff" * 64)


def test_a_cache_that_segfaults_duckdb_is_moved_aside_and_the_build_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "llm_cache.duckdb"
    write_cache(path)
    damage(path)
    damaged_bytes = path.read_bytes()
    without_check = subprocess.run(
        [sys.executable, "-c", LOOKUP_WITHOUT_CHECK, str(path)], cwd=PROJECT_DIR, capture_output=True, text=True
    )
    assert without_check.returncode == -11, f"precondition: this damage crashes DuckDB ({without_check})"
    assert without_check.stdout.strip() == "300", "the file opens and counts fine; the lookup crashes"

    with caplog.at_level(logging.WARNING, logger="llm_client"), ResponseCache(path) as cache:
        assert cache.count() == 0 and cache.get(f"{0:064x}") is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "crashed DuckDB in a child process (SIGSEGV)" in warnings[0], warnings
    moved = Path(re.search(r"moved it to (\S+);", warnings[0]).group(1))
    assert moved.name.startswith("llm_cache.duckdb.damaged-") and moved.read_bytes() == damaged_bytes


def test_a_sound_cache_passes_the_check_and_a_missing_one_needs_none(tmp_path: Path) -> None:
    path = tmp_path / "llm_cache.duckdb"
    assert check_in_child(path) is None and not path.exists()
    write_cache(path, answers=3)
    assert check_in_child(path) is None
    with ResponseCache(path) as cache:
        assert cache.count() == 3
    path.write_bytes(b"not a database at all" * 100)
    assert "not a valid DuckDB database file" in (check_in_child(path) or "")
