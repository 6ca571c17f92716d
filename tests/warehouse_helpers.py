"""Helpers the tests import: run the real CLIs and the real dbt against a scratch warehouse.

(A module of its own, not conftest.py: several conftest modules exist, so ``from conftest
import`` would depend on which one pytest loaded last.)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
BIN_DIR = Path(sys.executable).parent


def child_env(warehouse_dir: Path, env: dict[str, str | None]) -> dict[str, str]:
    """This process's environment with WAREHOUSE_DIR and ``env`` on top (a value None removes the variable)."""
    merged = {**os.environ, "WAREHOUSE_DIR": str(warehouse_dir), **env}
    return {key: value for key, value in merged.items() if value is not None}


def run_cli(
    args: list[str],
    warehouse_dir: Path,
    check: bool = True,
    preexec_fn: Callable[[], None] | None = None,
    **env: str | None,
) -> subprocess.CompletedProcess:
    """Run ``python -m <args>`` from the project dir against ``warehouse_dir`` (``preexec_fn`` runs in the
    child before it starts, e.g. :func:`file_size_limit`)."""
    full_env = child_env(warehouse_dir, env)
    result = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=PROJECT_DIR,
        env=full_env,
        capture_output=True,
        text=True,
        preexec_fn=preexec_fn,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"python -m {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


def run_dbt(args: list[str], warehouse_dir: Path, check: bool = True, **env: str | None) -> subprocess.CompletedProcess:
    """Run the real ``dbt`` CLI from the project dir against ``warehouse_dir``."""
    # no DBT_SEND_ANONYMOUS_USAGE_STATS here: dbt_project.yml's flags keep tracking off for every dbt run
    full_env = child_env(warehouse_dir, env)
    result = subprocess.run(
        [
            str(BIN_DIR / "dbt"),
            *args,
            "--target-path",
            str(warehouse_dir / "target"),
            "--log-path",
            str(warehouse_dir / "logs"),
        ],
        cwd=PROJECT_DIR,
        env=full_env,
        capture_output=True,
        text=True,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"dbt {' '.join(args)} exited {result.returncode}:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
        )
    return result


OFFLINE_DIR = PROJECT_DIR / "tests" / "offline"


def offline_env(attempts_log: Path) -> dict[str, str]:
    """Environment for a child whose every Python process refuses (and logs to ``attempts_log``) any
    attempt to reach a non-loopback address: tests/offline/sitecustomize.py."""
    path = os.pathsep.join(p for p in (str(OFFLINE_DIR), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "NETWORK_ATTEMPTS_LOG": str(attempts_log)}


def descendants(pid: int) -> dict[int, str]:
    """Every process below ``pid`` (children, their children, ...) with its command line."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found: dict[int, str] = {}
    pending = list(children.get(pid, []))
    while pending:
        child = pending.pop()
        try:
            found[child] = (Path("/proc") / str(child) / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
        except OSError:
            continue
        pending += children.get(child, [])
    return found


def file_size_limit(limit: int) -> Callable[[], None]:
    """A ``preexec_fn``: the child cannot grow any file beyond ``limit`` bytes (a full disk, as the
    writer sees it: writes fail with EFBIG), also as root."""

    def apply() -> None:
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@contextlib.contextmanager
def unwritable(folder: Path) -> Iterator[None]:
    """``folder`` cannot get new files (a file in it stays writable): ``chattr +i`` as root (root ignores
    permissions), ``chmod 555`` otherwise; the test is skipped where neither holds."""
    as_root = os.geteuid() == 0
    if as_root and shutil.which("chattr"):
        subprocess.run(["chattr", "+i", str(folder)], check=False, capture_output=True)
    else:
        folder.chmod(0o555)
    try:
        probe = folder / ".probe"
        try:
            probe.touch()
        except OSError:
            pass
        else:
            probe.unlink()
            pytest.skip(f"cannot make {folder} unwritable here (no chattr, or a file system without it)")
        yield
    finally:
        if as_root and shutil.which("chattr"):
            subprocess.run(["chattr", "-i", str(folder)], check=False, capture_output=True)
        folder.chmod(0o755)


def snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table of the warehouse file with all its rows, in a stable order."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables order by all").fetchall()
        return {
            f"{schema}.{table}": con.execute(f'select * from "{schema}"."{table}" order by all').fetchall()
            for schema, table in tables
        }
