"""Benchmark of the LLM fan-out over several Ollama hosts.

1. Scaling: the analysis stage (llm_client.stages.market_analysis, the code the dbt model runs,
   response cache included) over 1, 2 and 4 Ollama-compatible stub servers that answer every
   request after a fixed latency (benchmarks/ollama_latency_stub.py, in a process of its own).
   Real GPU hosts are latency-bound from the client's side, so this measures what the client adds:
   throughput with n hosts against one host. Target: >= 3.5x at 4 hosts.
2. Correctness: the three LLM dbt models on the sample warehouse (default window), once on one
   real embedded server and once on two (each server on one thread, one request at a time), each
   with its own empty cache: every row's answer and status must be identical (seed, temperature 0).

    python benchmarks/llm_fanout.py [--latency-ms 250] [--per-host 4] [--requests 240] [--skip-real]

The last line sums it up: ``llm_fanout: ...``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import yaml

from warehouse_core.project import DBT_PROJECT_FILE, PROJECT_DIR

STAGES = ("llm_market_analysis", "llm_signal_generation", "llm_risk_assessment")
VARYING_COLUMNS = {"latency_ms", "created_at"}
"""Columns that say when and how fast a call was, not what it answered."""

logger = logging.getLogger("llm_fanout")


@contextmanager
def stub_servers(count: int, latency_ms: float) -> Iterator[list[str]]:
    """``count`` latency stubs in one child process; yields their URLs."""
    with tempfile.TemporaryDirectory(prefix="llm_fanout_stub_") as folder:
        ready = Path(folder) / "ready.json"
        command = [
            sys.executable,
            str(PROJECT_DIR / "benchmarks" / "ollama_latency_stub.py"),
            "--ports",
            ",".join("0" * count),
            "--latency-ms",
            str(latency_ms),
            "--ready-file",
            str(ready),
        ]
        process = subprocess.Popen(command)
        try:
            while not ready.exists() or not ready.read_text():
                time.sleep(0.05)
            yield json.loads(ready.read_text())
        finally:
            process.terminate()
            process.wait()


def context_rows(count: int) -> list[dict[str, Any]]:
    """``count`` distinct point-in-time contexts (one ticker, consecutive business days)."""
    first = date(2012, 1, 2)
    return [
        {
            "ticker": "AAPL",
            "decision_date": first + timedelta(days=i),
            "asset_label": "ASSET_1",
            "decision_day": i,
            "close": 400.0 + i,
            "recent_closes": [398.0 + i, 399.0 + i, 400.0 + i],
            "return_1d": 0.001,
            "return_5d": 0.01,
            "return_20d": 0.03,
            "return_60d": 0.1,
            "volatility_annualized": 0.25,
            "sma_short": 395.0 + i,
            "sma_medium": 390.0 + i,
            "sma_long": 380.0 + i,
            "rsi": 60.0,
            "drawdown": -0.02,
            "range_high": 410.0 + i,
            "range_low": 385.0 + i,
        }
        for i in range(count)
    ]


def stage_settings(hosts: list[str], cache_path: Path, **overrides: Any) -> Any:
    """The project's LLM settings (dbt_project.yml vars) with these hosts and cache."""
    from llm_client.settings import LlmSettings

    project = yaml.safe_load(DBT_PROJECT_FILE.read_text())["vars"]
    config = {
        "enable_llm": True,
        "fail_fast": False,
        "models": project["llm_models"],
        "model": None,
        "blind": False,
        "memorization_check": False,
        "concurrency": project["llm_concurrency"],
        "timeouts": {s: project[f"llm_timeout_{s}"] for s in ("analysis", "signal", "risk")},
        "max_retries": project["llm_max_retries"],
        "connection_retries": project["llm_connection_retries"],
        "backoff_seconds": project["llm_backoff_seconds"],
        "seed": project["llm_seed"],
        "temperature": project["llm_temperature"],
        "num_ctx": project["llm_num_ctx"],
        "num_predict": {s: project[f"llm_num_predict_{s}"] for s in ("analysis", "signal", "risk")},
        "max_position_size": project["llm_max_position_size"],
        "use_cache": True,
        "cache_path": str(cache_path),
        "host": None,
        "hosts": hosts,
        "host_down_seconds": project["llm_host_down_seconds"],
    }
    return LlmSettings.from_config({**config, **overrides})


def scaling(latency_ms: float, per_host: int, requests: int, host_counts: list[int]) -> dict[int, float]:
    """Requests per second of the analysis stage with each number of stub hosts."""
    from llm_client.stages import market_analysis

    rates: dict[int, float] = {}
    with stub_servers(max(host_counts), latency_ms) as urls, tempfile.TemporaryDirectory() as folder:
        for count in host_counts:
            hosts = [f"{url}={per_host}" for url in urls[:count]]
            settings = stage_settings(hosts, Path(folder) / f"cache_{count}.duckdb", models=["stub:latency"])
            started = time.perf_counter()
            frame = market_analysis(context_rows(requests), settings)
            seconds = time.perf_counter() - started
            assert (frame["status"] == "ok").all(), frame["status"].value_counts()
            rates[count] = requests / seconds
            print(
                f"scaling: {count} host(s) x {per_host}: {requests} requests in {seconds:.2f} s = {rates[count]:.1f}/s"
            )
    return rates


def run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")


def llm_tables(workdir: Path, hosts: list[str], env: dict[str, str], label: str) -> tuple[dict[str, Any], float]:
    """Run the three LLM dbt models with ``hosts`` and an empty cache; their tables and seconds."""
    dbt_vars = json.dumps({"llm_hosts": hosts, "llm_cache_path": str(workdir / f"cache_{label}.duckdb")})
    started = time.perf_counter()
    dbt = str(Path(sys.executable).parent / "dbt")
    run([dbt, "run", "-s", *STAGES, "--vars", dbt_vars, "--target-path", str(workdir / "target")], env)
    seconds = time.perf_counter() - started
    with duckdb.connect(str(workdir / "warehouse.duckdb"), read_only=True) as con:
        tables = {stage: con.sql(f"select * from {stage}").df() for stage in STAGES}
    return tables, seconds


def correctness() -> tuple[int, int, bool, float, float]:
    """Rows, 'ok' rows, identical answers, seconds on one and on two real embedded servers."""
    from embedded_ollama.launcher import start_on_free_port

    workdir = Path(tempfile.mkdtemp(prefix="llm_fanout_"))
    env = {**os.environ, "WAREHOUSE_DIR": str(workdir), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    logger.info("ingesting the sample and building int_llm_context in %s", workdir)
    run([sys.executable, "-m", "python_ingest"], env)
    target = ["--target-path", str(workdir / "target")]
    run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "build",
            "-s",
            "+int_llm_context",
            "--exclude",
            "test_type:unit",
            *target,
        ],
        env,
    )
    with (
        start_on_free_port(extra_args=["--threads", "1"]) as first,
        start_on_free_port(extra_args=["--threads", "1"]) as second,
    ):
        one, one_seconds = llm_tables(workdir, [f"{first.host}=1"], env, "one")
        two, two_seconds = llm_tables(workdir, [f"{first.host}=1", f"{second.host}=1"], env, "two")
    same = all(
        one[stage].drop(columns=list(VARYING_COLUMNS)).equals(two[stage].drop(columns=list(VARYING_COLUMNS)))
        for stage in STAGES
    )
    rows = sum(len(frame) for frame in two.values())
    ok = sum(int((frame["status"] == "ok").sum()) for frame in two.values())
    statuses = {stage: two[stage]["status"].value_counts().to_dict() for stage in STAGES}
    print(f"correctness: 2 real embedded servers vs 1: {rows} rows, statuses {statuses}, identical answers: {same}")
    print(f"correctness: LLM stages {one_seconds:.1f} s on 1 server, {two_seconds:.1f} s on 2 (2 cores)")
    return rows, ok, same, one_seconds, two_seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-ms", type=float, default=250.0, help="stub latency per request")
    parser.add_argument("--per-host", type=int, default=4, help="requests in flight per host (host=N)")
    parser.add_argument("--requests", type=int, default=240, help="analysis requests per scaling run")
    parser.add_argument("--skip-real", action="store_true", help="only the stub scaling runs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    logging.getLogger("llm_fanout").setLevel(logging.INFO)
    load_before = os.getloadavg()[0]
    rates = scaling(args.latency_ms, args.per_host, args.requests, [1, 2, 4])
    speedups = {count: rate / rates[1] for count, rate in rates.items()}
    real = "real embedded: skipped"
    if not args.skip_real:
        rows, ok, same, one_s, two_s = correctness()
        real = f"real embedded 2 vs 1 host: {rows} rows, {ok} ok, identical={same}, {one_s:.0f} s -> {two_s:.0f} s"
    print(
        f"llm_fanout: {os.cpu_count()} CPUs, load average {load_before:.2f} -> {os.getloadavg()[0]:.2f}; "
        f"stub {args.latency_ms:.0f} ms x {args.per_host}/host, {args.requests} requests: "
        + ", ".join(f"{count} host(s) {rates[count]:.1f}/s ({speedups[count]:.2f}x)" for count in rates)
        + f" (target >= 3.5x at 4); {real}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
