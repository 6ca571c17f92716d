"""Where Spark runs comes from the environment, read in one place (the `spark` output of
profiles.yml) by dbt and by spark_target alike; unset, today's defaults (local[2], loopback, tables
under $WAREHOUSE_DIR/spark). Fast, no Spark."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from spark_target.session import STORAGE_ROOT_KEY, check_master, spark_conf
from warehouse_core.project import PROJECT_DIR

SETTINGS = (
    "SPARK_MASTER",
    "SPARK_DRIVER_HOST",
    "SPARK_DRIVER_BIND_ADDRESS",
    "SPARK_CORES_MAX",
    "SPARK_EXECUTOR_MEMORY",
    "SPARK_STORAGE_ROOT",
    "SPARK_METASTORE_URIS",
)
CLUSTER_ENV = {
    "SPARK_MASTER": "spark://spark-master.internal:7077",
    "SPARK_DRIVER_HOST": "10.0.0.5",
    "SPARK_CORES_MAX": "16",
    "SPARK_EXECUTOR_MEMORY": "8g",
    "SPARK_STORAGE_ROOT": "s3a://analytics/signal_warehouse",
    "SPARK_METASTORE_URIS": "thrift://metastore.internal:9083",
}
# dbt renders profiles.yml itself (its env_var, its Jinja) and prints the spark output's parameters
DBT_RENDERING = """
import json, os
from argparse import Namespace
from dbt.config.profile import Profile, read_profile
from dbt.config.renderer import ProfileRenderer
from dbt.flags import set_from_args
from dbt_common.context import set_invocation_context
set_from_args(Namespace(), None)
set_invocation_context(os.environ)
profile = Profile.from_raw_profiles(read_profile('.'), 'signal_warehouse', ProfileRenderer({}), target_override='spark')
print(json.dumps(profile.credentials.server_side_parameters))
"""


@pytest.fixture
def no_spark_settings(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*SETTINGS, "WAREHOUSE_DIR"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_unset_means_todays_local_run_on_loopback(no_spark_settings: pytest.MonkeyPatch) -> None:
    conf = spark_conf()
    assert conf["spark.master"] == "local[2]"
    assert conf["spark.driver.host"] == conf["spark.driver.bindAddress"] == "127.0.0.1"
    assert conf[STORAGE_ROOT_KEY] == "data/spark"
    assert conf["spark.sql.warehouse.dir"] == "data/spark/warehouse"
    assert conf["spark.hadoop.hive.metastore.uris"] == ""  # the embedded Derby metastore
    assert "databaseName=data/spark/metastore_db" in conf["spark.hadoop.javax.jdo.option.ConnectionURL"]


def test_each_setting_comes_from_its_environment_variable(no_spark_settings: pytest.MonkeyPatch) -> None:
    for name, value in CLUSTER_ENV.items():
        no_spark_settings.setenv(name, value)
    conf = spark_conf()
    assert conf["spark.master"] == "spark://spark-master.internal:7077"
    # one variable for the common case: the driver listens where executors call it
    assert conf["spark.driver.host"] == conf["spark.driver.bindAddress"] == "10.0.0.5"
    assert (conf["spark.cores.max"], conf["spark.executor.memory"]) == ("16", "8g")
    assert conf[STORAGE_ROOT_KEY] == "s3a://analytics/signal_warehouse"
    assert conf["spark.sql.warehouse.dir"] == "s3a://analytics/signal_warehouse/warehouse"
    assert conf["spark.hadoop.hive.metastore.uris"] == "thrift://metastore.internal:9083"
    no_spark_settings.setenv("SPARK_DRIVER_BIND_ADDRESS", "0.0.0.0")
    assert spark_conf()["spark.driver.bindAddress"] == "0.0.0.0"


def test_the_storage_root_follows_warehouse_dir_when_unset(no_spark_settings: pytest.MonkeyPatch) -> None:
    no_spark_settings.setenv("WAREHOUSE_DIR", "/srv/warehouse")
    assert spark_conf()[STORAGE_ROOT_KEY] == "/srv/warehouse/spark"
    assert spark_conf()["spark.sql.warehouse.dir"] == "/srv/warehouse/spark/warehouse"


@pytest.mark.parametrize("env", [{}, CLUSTER_ENV], ids=["defaults", "cluster"])
def test_dbt_reads_the_same_settings(env: dict[str, str]) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    rendered = subprocess.run(
        [sys.executable, "-c", DBT_RENDERING],
        cwd=PROJECT_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    script = "import json; from spark_target.session import spark_conf; print(json.dumps(spark_conf()))"
    ours = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(rendered.stdout) == json.loads(ours.stdout)


@pytest.mark.spark  # runs the parity CLI (it stops before starting Spark)
def test_a_standalone_master_that_does_not_answer_is_one_line_before_any_build(tmp_path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens once the socket is closed
    env = {**os.environ, "SPARK_MASTER": f"spark://127.0.0.1:{port}", "WAREHOUSE_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "spark_target.parity"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: no Spark master answers at spark://127.0.0.1:{port}: start it, or set SPARK_MASTER (unset means local[2])"
    ]
    assert not (tmp_path / "parity" / "warehouse.duckdb").exists()  # stopped before the DuckDB build


def test_a_standalone_master_that_answers_passes() -> None:
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        check_master(f"spark://nohost.invalid:7077,127.0.0.1:{listening.getsockname()[1]}")  # one of a pair
    check_master("local[2]")  # not a standalone master: nothing to check
