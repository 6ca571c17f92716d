"""bin/spark-parity's first step, ``python -m spark_target.session``: without a Java runtime it stops
with one line naming the Debian package and exit 2; with the machine's Java it passes. Fast, no Spark."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from prerequisites import missing

from spark_target.session import JAVA_PACKAGE
from warehouse_core.project import PROJECT_DIR


def check_java(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spark_target.session"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True
    )


def test_no_java_is_one_line_naming_the_package(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(tmp_path)  # an empty folder: no java on the PATH
    result = check_java(env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and JAVA_PACKAGE in lines[0], result.stderr


def test_the_machine_java_passes() -> None:
    if shutil.which("java") is None:
        missing(
            "no Java on this machine, so bin/spark-parity cannot run (Debian: apt-get install openjdk-17-jre-headless)"
        )
    result = check_java(dict(os.environ))
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
