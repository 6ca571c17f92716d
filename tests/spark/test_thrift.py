"""dbt's `spark_thrift` output (dbt-spark `method: thrift`) against a Spark Thrift Server from the
pip distribution (spark_target.thrift_server) whose own settings are Spark's defaults: the session
settings the SQL relies on (the storage root the export macro writes under, ANSI mode off so a
division by zero is null as in DuckDB, UTC) must reach the server from the profile, listening on
loopback only. ~40 s: one Spark application and one dbt invocation. The whole build through thrift
is `bin/spark-parity --thrift` (docs/spark.md)."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyhive", reason="the spark extra is not installed (bin/spark-parity installs it)")

from warehouse_core.project import PROJECT_DIR

pytestmark = [pytest.mark.spark, pytest.mark.warehouse]  # Spark, and dbt (dbt show) against it
READY_WITHIN_S = 300.0
# A thrift server in an application with Spark's defaults (ANSI on, the JVM's time zone, no storage
# root), in its own folder; it runs until its stdin closes.
SERVER = """
import sys
from pyspark.sql import SparkSession
from spark_target.thrift_server import thrift_server
folder = sys.argv[1]
spark = (SparkSession.builder.master("local[1]").enableHiveSupport()
         .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
         .config("spark.ui.enabled", "false").config("spark.sql.warehouse.dir", folder + "/warehouse")
         .config("spark.hadoop.javax.jdo.option.ConnectionURL", f"jdbc:derby:;databaseName={folder}/metastore_db;create=true")
         .config("spark.driver.extraJavaOptions", f"-Dderby.stream.error.file={folder}/derby.log")
         .getOrCreate())
with thrift_server(spark) as port:
    print(port, flush=True)
    sys.stdin.read()
spark.stop()
"""
PROBE = (
    "select '${spark.signal_warehouse.storage_root}' as storage_root, current_timezone() as time_zone, 1 / 0 as divided"
)


def test_the_thrift_output_brings_its_session_settings_to_the_server(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(tmp_path)],
        cwd=PROJECT_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        ready, _, _ = select.select([server.stdout], [], [], READY_WITHIN_S)
        port = server.stdout.readline().strip() if ready else ""
        assert port.isdigit(), "the thrift server did not start"
        listening = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True).stdout
        assert listening.split()[3].rsplit(":", 1)[0] in {"127.0.0.1", "[::ffff:127.0.0.1]"}, listening
        env = {
            **os.environ,
            "SPARK_THRIFT_PORT": port,
            "WAREHOUSE_DIR": str(tmp_path / "warehouse_dir"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        env.pop("SPARK_STORAGE_ROOT", None)
        dbt = str(Path(sys.executable).with_name("dbt"))
        paths = ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
        shown = subprocess.run(
            [
                dbt,
                "show",
                "--target",
                "spark_thrift",
                "--inline",
                PROBE,
                "--output",
                "json",
                "--log-format",
                "json",
                *paths,
            ],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
        )
        assert shown.returncode == 0, shown.stdout[-3000:]
        rows = [
            json.loads(event["data"]["preview"])
            for event in map(json.loads, shown.stdout.splitlines())
            if "preview" in event.get("data", {})
        ]
        assert rows == [[{"storage_root": f"{tmp_path}/warehouse_dir/spark", "time_zone": "UTC", "divided": None}]]
    finally:
        server.communicate(timeout=120)  # closing its stdin stops the server and the application
