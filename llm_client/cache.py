"""Response cache: a DuckDB file next to the warehouse, outside anything dbt manages.

Keyed by (model digest, prompt hash, schema version, options). ``dbt build --full-refresh``
rebuilds the warehouse tables but never touches this file, so a re-run with unchanged inputs
makes no LLM call and returns the very same rows (latency, token counts and created_at of the
original call included). Only answers the model gave are stored: 'ok' and 'invalid_output' (both
are deterministic at temperature 0 with a fixed seed); timeouts, refusals and unavailability are
not. Every answer is committed as it arrives (answers that arrive together, in one transaction),
so a killed build keeps what it paid for.

A cache file that cannot be opened or read (truncated, overwritten, not DuckDB) never stops a
build: it is moved aside to ``<name>.damaged-<timestamp>`` (its ``.wal`` too), one warning names
the new path, and the stage goes on with an empty cache. Some damage makes DuckDB crash the process
(a segmentation fault, which Python cannot catch) instead of raising: so before a stage opens the
file, a child process reads all of it once (:func:`check_in_child`), and a child that dies or
fails has the file moved aside the same way.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import signal
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

from warehouse_core import UserError
from warehouse_core.children import die_with_parent
from warehouse_core.warehouse import is_lock_conflict

from .client import Outcome

logger = logging.getLogger(__name__)

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

_OUTCOME_COLUMNS = (
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
_ABOUT_COLUMNS = ("cache_key", "stage", "model", "model_digest", "prompt_hash", "schema_version", "options_json")

CACHEABLE_STATUSES = frozenset({"ok", "invalid_output"})

CHECK_TIMEOUT_SECONDS = 600
"""A child still reading after this long is taken for a hang on a damaged file."""

_CHECK_SCRIPT = """
import sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
tables = con.execute("select table_name from information_schema.tables").fetchall()
if ("llm_responses",) in tables:
    key = con.execute("select max(cache_key) from llm_responses").fetchone()[0]
    con.execute("select * from llm_responses where cache_key = ?", [key]).fetchall()
    for _ in con.execute("select * from llm_responses").fetch_record_batch(10000):
        pass
"""


def cache_key(model_digest: str, prompt_hash: str, schema_version: str, options: dict[str, Any]) -> str:
    """SHA-256 over everything that decides an answer."""
    material = json.dumps(
        {"digest": model_digest, "prompt": prompt_hash, "schema": schema_version, "options": options},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(material.encode()).hexdigest()


def move_aside(path: Path) -> Path:
    """Rename ``path`` (and its ``.wal``) to ``<name>.damaged-<timestamp>``; return the new path."""
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    serial = 1
    while target.exists():
        serial += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{serial}")
    path.rename(target)
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        wal.rename(target.with_name(target.name + ".wal"))
    return target


class ResponseCache:
    """Open with ``with ResponseCache(path) as cache:``; use from one thread only."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._con = self._open_or_replace()

    def _open_or_replace(self) -> duckdb.DuckDBPyConnection:
        problem = check_in_child(self.path)
        if problem is not None:
            self._replace(problem)
        try:
            return self._open()
        except duckdb.Error as error:
            if is_lock_conflict(str(error)):
                raise _locked(self.path) from None
            self._replace(error)
            return self._open()

    def _open(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(str(self.path))
        try:
            con.execute(_DDL)
            con.execute("select count(*) from llm_responses").fetchone()
        except duckdb.Error:
            con.close()
            raise
        return con

    def _replace(self, error: duckdb.Error | str) -> None:
        """Move the unreadable file aside and say so, once, in one line."""
        moved = move_aside(self.path)
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        logger.warning(
            "LLM cache %s cannot be read (%s): moved it to %s; going on with an empty cache", self.path, reason, moved
        )

    def _recover(self, error: duckdb.Error) -> None:
        """A read or write failed on an open cache: close it, move it aside, open an empty one."""
        self._con.close()
        self._replace(error)
        self._con = self._open()

    def get(self, key: str) -> Outcome | None:
        """The stored answer for ``key`` (as it was first recorded), or None."""
        sql = f"select {', '.join(_OUTCOME_COLUMNS)} from llm_responses where cache_key = ?"
        try:
            row = self._con.execute(sql, [key]).fetchone()
        except duckdb.Error as error:
            self._recover(error)
            return None
        if row is None:
            return None
        stored = dict(zip(_OUTCOME_COLUMNS, row, strict=True))
        answer_json = stored.pop("answer_json")
        return Outcome(**stored, answer=json.loads(answer_json) if answer_json else None)

    def put(self, key: str, outcome: Outcome, about: dict[str, str]) -> None:
        """Store (or replace) one answer; ``about`` gives stage, model, model_digest, prompt_hash,
        schema_version and options_json. Committed at once."""
        self.put_many([(key, outcome, about)])

    def put_many(self, entries: Sequence[tuple[str, Outcome, dict[str, str]]]) -> None:
        """Store several answers (key, outcome, about) in one transaction: one commit (one sync to
        disk, ~25 ms on a busy disk) for the answers that arrived together."""
        columns = (*_ABOUT_COLUMNS, *_OUTCOME_COLUMNS)
        rows = []
        for key, outcome, about in entries:
            if outcome.status not in CACHEABLE_STATUSES:
                raise ValueError(f"status {outcome.status!r} is not cached")
            values = {**about, "cache_key": key, **_outcome_values(outcome)}
            rows.append([values[c] for c in columns])
        if not rows:
            return
        sql = f"insert or replace into llm_responses ({', '.join(columns)}) values ({', '.join('?' * len(columns))})"
        try:
            self._con.execute("begin transaction")
            self._con.executemany(sql, rows)
            self._con.execute("commit")
        except duckdb.Error as error:
            self._recover(error)
            self._con.executemany(sql, rows)

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


def check_in_child(path: Path) -> str | None:
    """Read the whole cache file in a child process; None when it reads, else what went wrong.

    The child opens the file read-only, looks one key up through the primary-key index and scans
    every column of every row; a damaged file can crash DuckDB there (SIGSEGV) without harming
    this process. A file another process holds raises :class:`UserError` (the same as at open).
    """
    if not path.exists():
        return None
    command = [sys.executable, "-c", _CHECK_SCRIPT, str(path)]
    try:
        # the calling thread waits for the child, so the child may die with this process (a killed build)
        child = subprocess.run(
            command, capture_output=True, text=True, timeout=CHECK_TIMEOUT_SECONDS, preexec_fn=die_with_parent()
        )
    except subprocess.TimeoutExpired:
        return f"a full read did not finish within {CHECK_TIMEOUT_SECONDS} s"
    if child.returncode == 0:
        return None
    last_line = (child.stderr.strip().splitlines() or [""])[-1]
    if is_lock_conflict(last_line):
        raise _locked(path)
    if child.returncode < 0:
        return f"a full read crashed DuckDB in a child process ({signal.Signals(-child.returncode).name})"
    return (
        re.sub(r"^_?duckdb\.\w+: ", "", last_line) or f"a full read failed in a child process (exit {child.returncode})"
    )


def _locked(path: Path) -> UserError:
    return UserError(
        f"LLM cache {path} is locked by another process (another build?): "
        "wait for it to finish, or give this build its own var llm_cache_path"
    )


def _outcome_values(outcome: Outcome) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "answer_json": json.dumps(outcome.answer, sort_keys=True) if outcome.answer is not None else None,
        "raw_text": outcome.raw_text,
        "error": outcome.error,
        "attempts": outcome.attempts,
        "latency_ms": outcome.latency_ms,
        "prompt_tokens": outcome.prompt_tokens,
        "completion_tokens": outcome.completion_tokens,
        "model_ns": outcome.model_ns,
        "created_at": outcome.created_at,
    }
