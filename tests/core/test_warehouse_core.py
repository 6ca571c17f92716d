"""warehouse_core: one rule each for WAREHOUSE_DIR, the vars, opening the warehouse and the Ollama host."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from ollama._client import _parse_host  # the official client's own rule, as the oracle

from warehouse_core import UserError
from warehouse_core.ollama_host import resolve_host
from warehouse_core.paths import llm_cache_path, warehouse_dir, warehouse_path
from warehouse_core.project import PROJECT_DIR, parse_vars_option, project_vars
from warehouse_core.warehouse import connect


def test_warehouse_dir_default_relative_and_absolute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("WAREHOUSE_DIR", raising=False)
    assert warehouse_dir() == PROJECT_DIR / "data"
    monkeypatch.setenv("WAREHOUSE_DIR", "")
    assert warehouse_dir() == PROJECT_DIR / "data", "empty means unset, as in profiles.yml and the macro"
    monkeypatch.setenv("WAREHOUSE_DIR", "scratch/wh")
    assert warehouse_path() == PROJECT_DIR / "scratch" / "wh" / "warehouse.duckdb", "relative = from the project"
    monkeypatch.setenv("WAREHOUSE_DIR", str(tmp_path))
    assert warehouse_path() == tmp_path / "warehouse.duckdb"
    assert llm_cache_path(None) == tmp_path / "llm_cache.duckdb"
    assert llm_cache_path("caches/llm.duckdb") == PROJECT_DIR / "caches" / "llm.duckdb"


def test_project_vars_and_a_vars_override_as_dbt_reads_them() -> None:
    assert project_vars()["tickers"] == ["AAPL", "MSFT", "IBM", "GOOG"]
    overridden = project_vars(parse_vars_option("{tickers: [IBM], min_trading_days: 60}"))
    assert overridden["tickers"] == ["IBM"] and overridden["min_trading_days"] == 60
    assert overridden["benchmark_ticker"] == "^GSPC", "vars not overridden keep their dbt_project.yml value"
    assert parse_vars_option('{"use_cv": true}') == {"use_cv": True}
    with pytest.raises(UserError, match="not valid YAML/JSON"):
        parse_vars_option("{tickers: [IBM")
    with pytest.raises(UserError, match="must be a YAML/JSON mapping"):
        parse_vars_option("just words")


def test_user_error_is_always_one_line() -> None:
    assert str(UserError("first line\n  You might want to try:\n    - this")) == (
        "first line You might want to try: - this"
    )


def test_opening_a_missing_warehouse_read_only_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"not found: run `python -m pipeline`") as caught:
        connect(tmp_path / "warehouse.duckdb", read_only=True)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "warehouse.duckdb").exists(), "a read-only open never creates the file"


def test_a_locked_warehouse_names_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    code = f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('held', flush=True); time.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(UserError, match=rf"is locked by another process, .*\(PID {holder.pid}\)"):
            connect(path, read_only=True)
    finally:
        holder.kill()
        holder.wait()


def test_a_file_that_is_not_duckdb_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    path.write_text("not a database\n" * 100)
    with pytest.raises(UserError, match=r"cannot open warehouse .*not a valid DuckDB database file"):
        connect(path)
    with duckdb.connect(str(tmp_path / "ok.duckdb")):
        pass
    with connect(tmp_path / "ok.duckdb", read_only=True) as con:
        assert con.execute("select 1").fetchone() == (1,)


# the cases the official client documents for its own OLLAMA_HOST parsing (ollama/_client.py)
HOSTS = [
    "1.2.3.4",
    ":56789",
    "1.2.3.4:56789",
    "http://1.2.3.4",
    "https://1.2.3.4",
    "https://1.2.3.4:56789",
    "example.com",
    "example.com:56789",
    "http://example.com",
    "https://example.com:56789",
    "example.com/",
    "example.com:56789/path/",
    "[0001:002:003:0004::1]",
    "[0001:002:003:0004::1]:56789",
    "https://[0001:002:003:0004::1]:56789/path",
    "localhost",
    "[::1]:7000",
]


@pytest.mark.parametrize("host", HOSTS)
def test_host_resolution_agrees_with_the_ollama_client(host: str) -> None:
    assert resolve_host(host) == _parse_host(host)


def test_host_falls_back_to_ollama_host_then_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    assert resolve_host(None) == resolve_host("") == "http://127.0.0.1:11434"
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.2:9999")
    assert resolve_host(None) == "http://127.0.0.2:9999"
    assert resolve_host("http://other:1") == "http://other:1", "an explicit host wins over OLLAMA_HOST"


def _string_constants(path: Path) -> set[str]:
    """String literals in code (docstrings excluded)."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    }


def test_only_warehouse_core_reads_ollama_host() -> None:
    """One function resolves the host: no other product module reads $OLLAMA_HOST itself."""
    readers = [
        str(path.relative_to(PROJECT_DIR))
        for package in ("warehouse_core", "python_ingest", "pipeline", "llm_client", "embedded_ollama", "report")
        for path in sorted((PROJECT_DIR / package).rglob("*.py"))
        if "OLLAMA_HOST" in _string_constants(path)
    ]
    assert readers == ["warehouse_core/ollama_host.py"]


PARENT = """
import subprocess, sys, time
from warehouse_core.children import die_with_parent
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], preexec_fn=die_with_parent())
print(child.pid, flush=True)
time.sleep(60)
"""


def test_a_child_started_with_die_with_parent_ends_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.kill()  # SIGKILL: the parent runs no clean-up of its own
    parent.wait()
    for _ in range(50):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        if Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return  # dead, waiting for its new parent to reap it
        time.sleep(0.1)
    os.kill(child, 9)
    raise AssertionError("the child outlived its parent")
