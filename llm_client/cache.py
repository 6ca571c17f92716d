"""Response cache: a DuckDB file next to the warehouse, outside anything dbt manages.

Keyed by (model digest, prompt hash, schema version, options). ``dbt build --full-refresh``
rebuilds the warehouse tables but never touches this file, so a re-run with unchanged inputs
makes no LLM call and returns the very same rows (latency, token counts and created_at of the
original call included). Only final answers are stored: 'ok' and 'invalid_output' (both are
deterministic at temperature 0 with a fixed seed); timeouts and unavailability are not.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

_COLUMNS = (
    "cache_key",
    "stage",
    "model",
    "model_digest",
    "prompt_hash",
    "schema_version",
    "options_json",
    "status",
    "answer_json",
    "raw_text",
    "error",
    "attempts",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "model_ns",
    "created_at",
)

_DDL = """
create table if not exists llm_responses (
    cache_key varchar primary key,
    stage varchar not null,
    model varchar not null,
    model_digest varchar not null,
    prompt_hash varchar not null,
    schema_version varchar not null,
    options_json varchar not null,
    status varchar not null,
    answer_json varchar,
    raw_text varchar,
    error varchar,
    attempts integer not null,
    latency_ms bigint not null,
    prompt_tokens integer not null,
    completion_tokens integer not null,
    model_ns bigint not null,
    created_at timestamptz not null
);
"""

CACHEABLE_STATUSES = frozenset({"ok", "invalid_output"})


def cache_key(model_digest: str, prompt_hash: str, schema_version: str, options: dict[str, Any]) -> str:
    """SHA-256 over everything that decides an answer."""
    material = json.dumps(
        {"digest": model_digest, "prompt": prompt_hash, "schema": schema_version, "options": options},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(material.encode()).hexdigest()


class ResponseCache:
    """Open with ``with ResponseCache(path) as cache:``; use from one thread only."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._con = duckdb.connect(str(path))
        self._con.execute(_DDL)

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored record for ``key``, or None."""
        row = self._con.execute(
            f"select {', '.join(_COLUMNS)} from llm_responses where cache_key = ?", [key]
        ).fetchone()
        return dict(zip(_COLUMNS, row, strict=True)) if row is not None else None

    def put(self, record: dict[str, Any]) -> None:
        """Store (or replace) one record; committed at once so a crashed run keeps what it paid for."""
        if record["status"] not in CACHEABLE_STATUSES:
            raise ValueError(f"status {record['status']!r} is not cached")
        placeholders = ", ".join("?" for _ in _COLUMNS)
        self._con.execute(
            f"insert or replace into llm_responses ({', '.join(_COLUMNS)}) values ({placeholders})",
            [record[c] for c in _COLUMNS],
        )

    def count(self) -> int:
        """Number of stored responses."""
        return int(self._con.execute("select count(*) from llm_responses").fetchone()[0])

    def close(self) -> None:
        """Release the file."""
        self._con.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
