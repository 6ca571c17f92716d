"""Benchmark of the LLM stages on the embedded model (or any Ollama via --host), per model.

Builds a scratch warehouse from the bundled sample, then times the three LLM dbt models twice:
a first run with an empty response cache and a ``--full-refresh`` re-run that must be served from
the cache. Reports, per stage and per model (var ``llm_models``), decisions, seconds (the stage's
own log line per model), decisions per second, the pipeline's overhead over the model time the
server reports (prompt evaluation + generation, summed over requests and divided by the requests
the server runs at once), and the cached re-run time relative to the first run; then each model's
total. Defaults are the main job's: 4 tickers, monthly decisions, the last
12 months.

    python benchmarks/llm_benchmark.py [--vars '{llm_decision_frequency: weekly}'] [--host URL]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from warehouse_core.project import PROJECT_DIR, parse_vars_option, project_vars

STAGES = ("llm_market_analysis", "llm_signal_generation", "llm_risk_assessment")
STAGE_KEYS = {"llm_market_analysis": "analysis", "llm_signal_generation": "signal", "llm_risk_assessment": "risk"}

logger = logging.getLogger("llm_benchmark")


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a command from the project dir; fail loudly."""
    result = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
    return result


STAGE_LINE = re.compile(
    r"(llm_\w+): (\d+) decisions, (\d+) cache hits, (\d+) LLM calls, \d+ failures, [\d.]+ tokens/s, "
    r"([\d.]+) s; model (\S+);"
)


def dbt(args: list[str], warehouse: Path, env: dict[str, str]) -> dict[tuple[str, str], float]:
    """Run dbt; the seconds of each (stage, model) from the stage's own summary line."""
    result = run(
        [
            str(Path(sys.executable).parent / "dbt"),
            *args,
            "--target-path",
            str(warehouse / "target"),
            "--log-path",
            str(warehouse / "logs"),
        ],
        env,
    )
    return {(stage, model): float(seconds) for stage, _, _, _, seconds, model in STAGE_LINE.findall(result.stdout)}


def stage_figures(warehouse: Path, cache_path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Decisions, statuses and server-reported model seconds per (stage, model), from the tables and the cache."""
    figures: dict[tuple[str, str], dict[str, Any]] = {}
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as con:
        for stage in STAGES:
            for model, status, count in con.execute(
                f"select model, status, count(*) from {stage} group by 1, 2"
            ).fetchall():
                entry = figures.setdefault((stage, model), {"decisions": 0, "statuses": {}})
                entry["decisions"] += count
                entry["statuses"][status] = count
    with duckdb.connect(str(cache_path), read_only=True) as cache:
        for (stage, model), entry in figures.items():
            calls, attempts, model_ns, tokens = cache.execute(
                "select count(*), coalesce(sum(attempts), 0), coalesce(sum(model_ns), 0), coalesce(sum(completion_tokens), 0) "
                "from llm_responses where stage = ? and model = ?",
                [STAGE_KEYS[stage], model],
            ).fetchone()
            entry.update(cached=calls, requests=attempts, model_seconds=model_ns / 1e9, completion_tokens=tokens)
    return figures


def report(
    figures: dict[tuple[str, str], dict[str, Any]],
    first: dict[tuple[str, str], float],
    second: dict[tuple[str, str], float],
    in_flight: int,
) -> dict[str, dict[str, float]]:
    """Print one line per (stage, model); return each model's totals. ``in_flight``: requests the
    server runs at once, so the model time a stage's wall is compared with is ``model s / in_flight``."""
    print(
        f"{'stage':<24}{'model':<30}{'decisions':>10}{'requests':>10}{'stage s':>9}{'dec/s':>8}{'model s':>9}"
        f"{'tok/s':>7}{'overhead':>10}{'cached s':>10}  statuses"
    )
    totals: dict[str, dict[str, float]] = {}
    for (stage, model), f in sorted(figures.items(), key=lambda item: (item[0][1], STAGES.index(item[0][0]))):
        seconds, cached = first.get((stage, model), float("nan")), second.get((stage, model), float("nan"))
        total = totals.setdefault(model, {"decisions": 0, "seconds": 0.0, "model_seconds": 0.0, "cached": 0.0})
        total["decisions"] += f["decisions"]
        total["seconds"] += seconds
        total["model_seconds"] += f["model_seconds"]
        total["cached"] += cached
        overhead = seconds * in_flight / f["model_seconds"] - 1 if f["model_seconds"] > 0 else float("nan")
        tok_s = f["completion_tokens"] / f["model_seconds"] if f["model_seconds"] > 0 else float("nan")
        print(
            f"{stage:<24}{model:<30}{f['decisions']:>10}{f['requests']:>10}{seconds:>9.1f}{f['decisions'] / seconds:>8.2f}"
            f"{f['model_seconds']:>9.1f}{tok_s:>7.0f}{overhead:>9.1%}{cached:>10.2f}  {f['statuses']}"
        )
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vars", default="{}", help="extra dbt vars (YAML), e.g. '{llm_concurrency: 1}'")
    parser.add_argument("--host", default=None, help="use this Ollama instead of starting the embedded one")
    parser.add_argument(
        "--server-parallel",
        type=int,
        default=None,
        help="requests the server runs at once (default: the embedded server's --num-parallel; 1 with --host)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch warehouse")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)

    handle = None
    host = args.host
    server_parallel = args.server_parallel or 1
    if host is None:
        from embedded_ollama.launcher import start_on_free_port
        from embedded_ollama.model import default_num_parallel

        server_parallel = args.server_parallel or default_num_parallel()
        handle = start_on_free_port(extra_args=["--num-parallel", str(server_parallel)])
        host = handle.host
    workdir = Path(tempfile.mkdtemp(prefix="llm_benchmark_"))
    cache_path = workdir / "llm_cache.duckdb"
    extra_vars = parse_vars_option(args.vars)
    in_flight = min(server_parallel, int(project_vars(extra_vars)["llm_concurrency"]))
    dbt_vars = json.dumps({**extra_vars, "llm_cache_path": str(cache_path)})
    env = {**os.environ, "WAREHOUSE_DIR": str(workdir), "OLLAMA_HOST": host, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    try:
        logger.info("ingesting the sample and building int_llm_context in %s", workdir)
        run([sys.executable, "-m", "python_ingest"], env)
        dbt(["build", "-s", "+int_llm_context", "--exclude", "test_type:unit", "--vars", dbt_vars], workdir, env)
        logger.info("first run (empty cache) against %s", host)
        started = time.perf_counter()
        first = dbt(["run", "-s", *STAGES, "--vars", dbt_vars], workdir, env)
        first_wall = time.perf_counter() - started
        figures = stage_figures(workdir, cache_path)
        logger.info("cached re-run with --full-refresh")
        started = time.perf_counter()
        second = dbt(["run", "--full-refresh", "-s", *STAGES, "--vars", dbt_vars], workdir, env)
        second_wall = time.perf_counter() - started
    finally:
        if handle is not None:
            handle.stop()

    load = os.getloadavg()[0]
    print(
        f"LLM stage benchmark: host {host}, {os.cpu_count()} CPUs, load average {load:.2f}, "
        f"{in_flight} requests at once, vars {dbt_vars}"
    )
    totals = report(figures, first, second, in_flight)
    for model, t in totals.items():
        print(
            f"model {model}: {int(t['decisions'])} decisions (analyses + signals + risk), first run {t['seconds']:.1f} s, "
            f"model time {t['model_seconds']:.1f} s, pipeline overhead {t['seconds'] * in_flight / t['model_seconds'] - 1:.1%} "
            f"(target < 20%), cached re-run {t['cached']:.2f} s = {t['cached'] / t['seconds']:.1%} (target < 10%)"
        )
    print(
        f"LLM stages total: dbt wall {first_wall:.1f} s first run, {second_wall:.1f} s cached re-run; "
        "main-job target: LLM stages < 120 s"
    )
    if args.keep:
        print(f"warehouse kept in {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
