"""Judgement probe: 20 clear-cut synthetic situations through the real analysis and signal stages.

7 downtrends with RSI 10-29, 7 uptrends with RSI 69-97 and 6 flat markets, built as
``int_llm_context`` rows and sent through the project's own prompts, schemas, validation and
re-asks (``llm_client``), analysis first, then the signal given that analysis, exactly as the
main job does. A plain trend rule says SELL for the downtrends, BUY for the uptrends and HOLD for
the flat ones; the probe prints, per embedded model: validity, the action mix, agreement with the
rule and seconds per answer, plus the field order of the schemas it ran with.

    .venv/bin/python benchmarks/judgement_probe.py                 # every installed embedded model
    .venv/bin/python benchmarks/judgement_probe.py --model smollm2:135m-instruct-q8_0
"""

from __future__ import annotations

import argparse
import collections
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ollama

from embedded_ollama import EmbeddedHandle, start_on_free_port
from llm_client.client import ask_structured
from llm_client.prompts import analysis_messages, signal_messages
from llm_client.schemas import MarketAnalysis, TradingSignal, json_schema

logger = logging.getLogger("benchmarks.judgement_probe")

PROJECT_DIR = Path(__file__).resolve().parent.parent

RULE = {"down": "SELL", "up": "BUY", "flat": "HOLD"}


def situation(kind: str, index: int) -> dict[str, Any]:
    """One clear-cut ``int_llm_context``-like row: a steady trend (or none) with a matching RSI."""
    daily = {"down": -0.003 - 0.0008 * index, "up": 0.003 + 0.0008 * index, "flat": 0.0}[kind]
    rsi = {"down": 10 + 3 * index, "up": 69 + 4.5 * index, "flat": 45 + 2 * index}[kind]
    close = 100.0 + 7 * index
    wiggle = 0.002 if kind == "flat" else 0.0
    closes = [round(close * (1 + daily) ** (day - 4) * (1 + wiggle * (-1) ** day), 2) for day in range(5)]

    def ret(days: int) -> float:
        return (1 + daily) ** days - 1

    return {
        "ticker": f"SYN{kind.upper()}{index}",
        "asset_label": f"ASSET_{index}",
        "decision_date": f"2012-{index + 3:02d}-28",
        "decision_day": 20 * index,
        "close": closes[-1],
        "recent_closes": closes,
        "range_low": round(min(closes) * (0.97 if kind != "up" else 0.90), 2),
        "range_high": round(max(closes) * (1.03 if kind != "down" else 1.10), 2),
        "return_1d": daily + (wiggle if kind == "flat" else 0),
        "return_5d": ret(5),
        "return_20d": ret(20),
        "return_60d": ret(60) if kind != "flat" else 0.004,
        "volatility_annualized": 0.18 + 0.01 * index,
        "rsi": rsi,
        "drawdown": {"down": ret(60), "up": -0.01, "flat": -0.04}[kind],
        "sma_short": round(closes[-1] / (1 + daily) ** 10, 2),  # a trailing mean lags by half its window
        "sma_medium": round(closes[-1] / (1 + daily) ** 25, 2),
        "sma_long": round(closes[-1] / (1 + daily) ** 100, 2),
    }


def situations() -> list[tuple[str, dict[str, Any]]]:
    """The 20 situations: (kind, context row)."""
    kinds = ["down"] * 7 + ["up"] * 7 + ["flat"] * 6
    counters: collections.Counter[str] = collections.Counter()
    rows = []
    for kind in kinds:
        rows.append((kind, situation(kind, counters[kind])))
        counters[kind] += 1
    return rows


def field_order() -> str:
    """The order the schemas ask for their fields (the grammar makes the model write them so)."""
    return f"analysis {list(MarketAnalysis.model_fields)}; signal {list(TradingSignal.model_fields)}"


def probe_model(client: ollama.Client, model: str, project_vars: dict[str, Any]) -> dict[str, Any]:
    """Run the 20 situations through both stages; return the tallies."""
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

    tally: dict[str, Any] = {"valid": 0, "agree": collections.Counter(), "actions": collections.Counter(), "s": []}
    for kind, context in tqdm(situations(), desc=model, unit="situation"):
        started = time.perf_counter()
        validation = {"close": float(context["close"])}
        analysis = ask_structured(
            client,
            model=model,
            messages=analysis_messages(context, blind=False),
            response_model=MarketAnalysis,
            schema=json_schema(MarketAnalysis, validation),
            options=options("analysis"),
            validation_context=validation,
            **common,
        )
        signal = ask_structured(
            client,
            model=model,
            messages=signal_messages(context, analysis.answer, blind=False),
            response_model=TradingSignal,
            schema=json_schema(TradingSignal),
            options=options("signal"),
            **common,
        )
        tally["s"].append((time.perf_counter() - started) / 2)
        action = signal.answer["action"] if signal.answer else "invalid"
        tally["valid"] += int(analysis.status == "ok" and signal.status == "ok")
        tally["actions"][action] += 1
        tally["agree"][kind] += int(action == RULE[kind])
        logger.debug("%s %s: %s / %s", kind, context["ticker"], analysis.answer, signal.answer)
    return tally


def report(model: str, tally: dict[str, Any]) -> None:
    """Print one model's figures and its summary line."""
    agree = tally["agree"]
    total = sum(agree.values())
    mix = ", ".join(f"{a} {tally['actions'][a]}" for a in ("BUY", "SELL", "HOLD", "invalid") if tally["actions"][a])
    seconds = sum(tally["s"]) / len(tally["s"])
    print(
        f"SUMMARY {model}: valid {tally['valid']}/20; actions {mix}; agreement with the trend rule {total}/20 "
        f"(down->SELL {agree['down']}/7, up->BUY {agree['up']}/7, flat->HOLD {agree['flat']}/6); "
        f"{seconds:.2f} s per answer; load avg {os.getloadavg()[0]:.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the probe; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="model(s) to probe (default: every installed one)")
    parser.add_argument("--host", default=None, help="use this Ollama server instead of starting the embedded one")
    parser.add_argument("--verbose", action="store_true", help="log every answer")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(message)s")
    project_vars = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    handle: EmbeddedHandle | None = None
    host = args.host
    if host is None:
        handle = start_on_free_port()
        host = handle.host
    try:
        client = ollama.Client(host=host, timeout=float(project_vars["llm_timeout_signal"]))
        models = args.model or [m.model for m in client.list().models if m.model]
        print(f"field order: {field_order()}")
        for model in models:
            report(model, probe_model(client, model, project_vars))
    finally:
        if handle is not None:
            handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
