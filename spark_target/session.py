"""The Spark session the ``spark`` output of profiles.yml describes, for the jobs that run beside dbt.

dbt-spark's ``method: session`` opens ``SparkSession.builder.enableHiveSupport()`` with the output's
``server_side_parameters``; :func:`spark_session` opens the same one (same master, same storage
root, same metastore), so tables registered here are the tables dbt reads. The profile stays the
one place those settings are written, environment variables included (SPARK_MASTER,
SPARK_STORAGE_ROOT, ...: docs/spark.md): :func:`spark_conf` renders it as dbt does. In a process
that already runs a session (bin/spark-parity runs dbt in its own process), dbt-spark's
``getOrCreate()`` returns that one: one Spark application for every step.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import warnings
from typing import Any

import jinja2
import yaml

from warehouse_core.cli import user_errors
from warehouse_core.errors import UserError
from warehouse_core.paths import warehouse_dir
from warehouse_core.project import PROJECT_DIR

logger = logging.getLogger(__name__)

JAVA_PACKAGE = "openjdk-17-jre-headless"
SPARK_OUTPUT = "spark"
# Set by the profile from $SPARK_STORAGE_ROOT (default $WAREHOUSE_DIR/spark); the macros ask the running
# session for it (macros/spark_storage_root.sql).
STORAGE_ROOT_KEY = "spark.signal_warehouse.storage_root"


def require_java() -> None:
    """Raise a one-line UserError naming the Debian package when no Java runtime is found."""
    java = (
        shutil.which("java", path=os.path.join(os.environ["JAVA_HOME"], "bin")) if os.environ.get("JAVA_HOME") else None
    )
    java = java or shutil.which("java")
    if java is None or subprocess.run([java, "-version"], capture_output=True, check=False).returncode != 0:
        raise UserError(
            f"Spark needs Java 17: install it (Debian/Ubuntu: apt-get install {JAVA_PACKAGE}) or set JAVA_HOME"
        )


def _env_var(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise UserError(f"profiles.yml needs the environment variable {name}")
    return value


def spark_conf() -> dict[str, str]:
    """The ``server_side_parameters`` of the ``spark`` output, rendered as dbt renders them."""
    profile = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())
    output: dict[str, Any] = next(iter(profile.values()))["outputs"][SPARK_OUTPUT]
    render = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return {
        key: render.from_string(str(value)).render(env_var=_env_var)
        for key, value in output["server_side_parameters"].items()
    }


def check_master(master: str) -> None:
    """A standalone master (``spark://host:port``, or a comma-separated list for a standby pair) must
    answer on one of its addresses: without this check Spark retries for a minute, then fails the
    first query. Other masters (local, yarn, k8s) are not checked."""
    if not master.startswith("spark://"):
        return
    for address in master.removeprefix("spark://").split(","):
        host, _, port = address.rpartition(":")
        try:
            socket.create_connection((host, int(port)), timeout=5).close()
            return
        except (OSError, ValueError):
            continue
    raise UserError(f"no Spark master answers at {master}: start it, or set SPARK_MASTER (unset means local[2])")


def spark_session() -> Any:
    """Open (or return) this process's Spark session, configured like dbt's."""
    require_java()
    conf = spark_conf()
    check_master(conf["spark.master"])
    # pyspark 4.3 warns on import that it does not fully support pandas 3; these jobs hand rows
    # over as Python values (Row.asDict), never through pyspark's pandas conversion.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    from pyspark.sql import SparkSession

    # py4j logs each closed bridge connection at INFO ("Closing down clientserver connection")
    logging.getLogger("py4j").setLevel(logging.WARNING)

    # the driver's own files (the embedded metastore, derby.log) go to $WAREHOUSE_DIR/spark
    (warehouse_dir() / "spark").mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


@user_errors
def main() -> int:
    """``python -m spark_target.session``: exit 0 when Java is found, else one line and exit 2."""
    require_java()
    return 0


if __name__ == "__main__":
    sys.exit(main())
