"""Judgement probe: real situations where the indicators disagree, asked blind, scored by what happened next.

The cases are weekly decision points of the bundled sample (AAPL, MSFT, IBM, GOOG, 2001-2012) as
``int_llm_context`` builds them (dbt, on a scratch warehouse, LLM off), kept only where the
indicators conflict: the 20-day and the 60-day return both move more than the hold band, in
opposite directions (a pull-back in an uptrend, a bounce in a downtrend). Each case's outcome is its
forward return over ``validation_horizon_days`` (20): up (> ``hold_hit_band``), down (< -band) or flat,
and the right action BUY, SELL or HOLD. The probe draws the same number of cases of each outcome
(seeded), so every constant answer scores exactly a third.

Each model answers through the project's own two stages (analysis, then the signal given it), in
their blind form: no ticker, no date, every price rebased to 100 at the first close shown, so the
probe measures judgement on the numbers, not memory of how 2008 went. Printed beside every model's
score: the constant answers and three one-line rules (20-day momentum, 60-day trend, RSI
contrarian), and the chance of the model's score or better from guessing (binomial, p = 1/3).

    .venv/bin/python benchmarks/judgement_probe.py                 # every installed embedded model
    .venv/bin/python benchmarks/judgement_probe.py --model smollm2:135m-instruct-q8_0 --cases 30
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import yaml
from scipy import stats
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ollama

from embedded_ollama import EmbeddedHandle, start_on_free_port
from llm_client.client import ask_structured
from llm_client.prompts import analysis_messages, price_scale, shown, signal_messages
from llm_client.schemas import MarketAnalysis, TradingSignal, json_schema

logger = logging.getLogger("benchmarks.judgement_probe")

PROJECT_DIR = Path(__file__).resolve().parent.parent
BIN_DIR = Path(sys.executable).parent
RIGHT = {"up": "BUY", "down": "SELL", "flat": "HOLD"}
CASES_VARS = {
    "enable_llm": False,
    "llm_decision_frequency": "weekly",
    "llm_start": "2001-01-01",
    "llm_end": "2012-12-31",
    "llm_max_decisions": 100000,
}
Rule = Callable[[dict[str, Any]], str]


def build_contexts(warehouse_dir: Path) -> None:
    """Ingest the bundled sample and build int_llm_context (weekly, 2001-2012) with dbt, LLM off."""
    env = {**os.environ, "WAREHOUSE_DIR": str(warehouse_dir), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    steps = [
        [sys.executable, "-m", "python_ingest"],
        [str(BIN_DIR / "dbt"), "run", "-s", "+int_llm_context", "--vars", json.dumps(CASES_VARS),
         "--target-path", str(warehouse_dir / "target"), "--log-path", str(warehouse_dir / "logs")],
    ]  # fmt: skip
    for command in steps:
        done = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"error: {' '.join(command[:3])} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def conflicting_cases(warehouse_dir: Path, project_vars: dict[str, Any], per_outcome: int, seed: int) -> list[dict]:
    """``per_outcome`` cases of each outcome (up, down, flat) among the decision points whose 20- and
    60-day returns move beyond the hold band in opposite directions, drawn with ``seed``."""
    horizon, band = int(project_vars["validation_horizon_days"]), float(project_vars["hold_hit_band"])
    query = f"""
        with forward as (
            select ticker, date,
                   lead(adj_close, {horizon}) over (partition by ticker order by date) / adj_close - 1 as forward_return
            from int_prices_clean
        )
        select context.*, forward.forward_return,
               case when forward.forward_return > {band} then 'up'
                    when forward.forward_return < -{band} then 'down' else 'flat' end as outcome
        from int_llm_context as context
        inner join forward on context.ticker = forward.ticker and context.decision_date = forward.date
        where forward.forward_return is not null
          and abs(context.return_20d) > {band} and abs(context.return_60d) > {band}
          and sign(context.return_20d) <> sign(context.return_60d)
          and context.sma_long is not null
        order by context.ticker, context.decision_date
    """
    with duckdb.connect(str(warehouse_dir / "warehouse.duckdb"), read_only=True) as con:
        rows = con.sql(query).df().to_dict("records")
    by_outcome: dict[str, list[dict]] = collections.defaultdict(list)
    for row in rows:
        by_outcome[row["outcome"]].append(row)
    rng = random.Random(seed)
    chosen = []
    for outcome in ("up", "down", "flat"):
        chosen += rng.sample(by_outcome[outcome], per_outcome)
    logger.info("conflicting decision points: %s", {k: len(v) for k, v in by_outcome.items()})
    # one neutral label and day for every case: nothing in a prompt says which stock or when
    return [{**row, "asset_label": "ASSET_1", "decision_day": 250} for row in chosen]


def rules() -> dict[str, Rule]:
    """The baselines: constant answers and one-line rules on the facts every prompt shows."""
    return {
        "always BUY": lambda case: "BUY",
        "always SELL": lambda case: "SELL",
        "always HOLD": lambda case: "HOLD",
        "20-day momentum": lambda case: "BUY" if case["return_20d"] > 0 else "SELL",
        "60-day trend": lambda case: "BUY" if case["return_60d"] > 0 else "SELL",
        "RSI contrarian (<30 BUY, >70 SELL)": lambda case: (
            "BUY" if case["rsi"] < 30 else "SELL" if case["rsi"] > 70 else "HOLD"
        ),
    }


def score(actions: list[str], cases: list[dict]) -> tuple[int, dict[str, int]]:
    """Cases whose action was the right one for what happened, in total and per outcome."""
    per = collections.Counter(
        case["outcome"] for case, action in zip(cases, actions, strict=True) if action == RIGHT[case["outcome"]]
    )
    return sum(per.values()), dict(per)


def chance(hits: int, total: int) -> float:
    """P(at least ``hits`` of ``total`` right by guessing one of three actions)."""
    return float(stats.binom.sf(hits - 1, total, 1 / 3))


def probe_model(client: ollama.Client, model: str, cases: list[dict], project_vars: dict[str, Any]) -> dict[str, Any]:
    """Every case through both blind stages; the actions (``invalid`` when a stage failed) and timings."""
    common = {
        "max_retries": int(project_vars["llm_max_retries"]),
        "connection_retries": int(project_vars["llm_connection_retries"]),
        "backoff_seconds": float(project_vars["llm_backoff_seconds"]),
    }

    def options(stage: str) -> dict[str, Any]:
        return {
            "temperature": float(project_vars["llm_temperature"]),
            "seed": int(project_vars["llm_seed"]),
            "num_ctx": int(project_vars["llm_num_ctx"]),
            "num_predict": int(project_vars[f"llm_num_predict_{stage}"]),
        }

    actions, seconds, valid = [], [], 0
    for case in tqdm(cases, desc=model, unit="case"):
        started = time.perf_counter()
        validation = {"close": float(shown(case, True)["close"])}
        analysis = ask_structured(
            client,
            model=model,
            messages=analysis_messages(case, blind=True),
            response_model=MarketAnalysis,
            schema=json_schema(MarketAnalysis, validation),
            options=options("analysis"),
            validation_context=validation,
            **common,
        )
        stored = None  # the analysis on the traded price scale, as the stage stores it (the prompt rebases it)
        if analysis.answer:
            scale = price_scale(case, True)
            stored = {**analysis.answer, "support": analysis.answer["support"] / scale}
            stored["resistance"] = analysis.answer["resistance"] / scale
        signal = ask_structured(
            client,
            model=model,
            messages=signal_messages(case, stored, blind=True),
            response_model=TradingSignal,
            schema=json_schema(TradingSignal),
            options=options("signal"),
            **common,
        )
        seconds.append((time.perf_counter() - started) / 2)
        valid += int(analysis.status == "ok" and signal.status == "ok")
        actions.append(signal.answer["action"] if signal.answer else "invalid")
        logger.debug("%s %s: %s / %s", case["outcome"], case["decision_date"], analysis.answer, signal.answer)
    return {"actions": actions, "seconds": seconds, "valid": valid}


def line(name: str, actions: list[str], cases: list[dict]) -> str:
    hits, per = score(actions, cases)
    third = len(cases) // 3
    return (
        f"{name}: {hits}/{len(cases)} right (up->BUY {per.get('up', 0)}/{third}, down->SELL {per.get('down', 0)}/{third}, "
        f"flat->HOLD {per.get('flat', 0)}/{third}); chance of this or better by guessing {chance(hits, len(cases)):.3f}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the probe; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="model(s) to probe (default: every installed one)")
    parser.add_argument("--host", default=None, help="use this Ollama server instead of starting the embedded one")
    parser.add_argument("--cases", type=int, default=30, help="cases, a multiple of 3 (default 30)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the case draw")
    parser.add_argument("--warehouse-dir", type=Path, default=None, help="reuse a warehouse this probe built before")
    parser.add_argument("--verbose", action="store_true", help="log every answer")
    args = parser.parse_args(argv)
    if args.cases < 3 or args.cases % 3:
        parser.error("--cases must be a positive multiple of 3 (the same number of up, down and flat cases)")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    project_vars = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    warehouse_dir = args.warehouse_dir or Path(tempfile.mkdtemp(prefix="judgement-probe-"))
    if not (warehouse_dir / "warehouse.duckdb").exists():
        build_contexts(warehouse_dir)
    cases = conflicting_cases(warehouse_dir, project_vars, args.cases // 3, args.seed)
    baseline_actions = {name: [rule(case) for case in cases] for name, rule in rules().items()}
    print(f"{len(cases)} cases (warehouse {warehouse_dir}); baselines:")
    for name, actions in baseline_actions.items():
        print(f"  {line(name, actions, cases)}")
    beside = ", ".join(f"{name} {score(actions, cases)[0]}" for name, actions in baseline_actions.items())
    handle: EmbeddedHandle | None = None
    host = args.host
    if host is None:
        handle = start_on_free_port()
        host = handle.host
    try:
        client = ollama.Client(host=host, timeout=float(project_vars["llm_timeout_signal"]))
        models = args.model or [m.model for m in client.list().models if m.model]
        for model in models:
            found = probe_model(client, model, cases, project_vars)
            mix = collections.Counter(found["actions"])
            seconds = sum(found["seconds"]) / len(found["seconds"])
            print(
                f"SUMMARY {line(model, found['actions'], cases)}; valid {found['valid']}/{len(cases)}; "
                f"actions {dict(mix)}; {seconds:.2f} s per answer; load avg {os.getloadavg()[0]:.2f}"
            )
            print(f"  beside the baselines (of {len(cases)}): {beside}")
    finally:
        if handle is not None:
            handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
