"""Helpers the tests import: run the real CLIs and the real dbt against a scratch warehouse.

(A module of its own, not conftest.py: several conftest modules exist, so ``from conftest
import`` would depend on which one pytest loaded last.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
BIN_DIR = Path(sys.executable).parent


def run_cli(args: list[str], warehouse_dir: Path, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    """Run ``python -m <args>`` from the project dir against ``warehouse_dir``."""
    full_env = {**os.environ, "WAREHOUSE_DIR": str(warehouse_dir), **env}
    result = subprocess.run(
        [sys.executable, "-m", *args], cwd=PROJECT_DIR, env=full_env, capture_output=True, text=True
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"python -m {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


def run_dbt(args: list[str], warehouse_dir: Path, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    """Run the real ``dbt`` CLI from the project dir against ``warehouse_dir``."""
    full_env = {**os.environ, "WAREHOUSE_DIR": str(warehouse_dir), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env}
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
