"""Speed of the embedded model on schema-constrained chat calls, idle and beside busy processes.

Starts the embedded Ollama server on a free loopback port (or uses ``--host``), sends N
``/api/chat`` requests with a pydantic JSON schema as ``format`` through the official ``ollama``
client, ``--in-flight`` at a time (default: var ``llm_concurrency``, what the LLM stages send), and
prints latency, calls/s (calls over the phase's wall time), generation speed (eval_count / eval_duration), prompt speed,
schema validity and the server's peak memory. With ``--contention`` (the default) it does so three
times in one run: idle, beside one and beside two busy loops it starts and stops itself, and
prints the throughput ratios against idle (targets: >= 1/2 with one, >= 1/3 with two), next to
the ratios a plain single-threaded Python loop gets in the same phases (what a fair share of the
cores allows on this machine: other processes you did not start count too).

    .venv/bin/python benchmarks/embedded_model_speed.py                      # idle, +1, +2 busy loops
    .venv/bin/python benchmarks/embedded_model_speed.py --busy 0 --calls 20   # idle only
    .venv/bin/python benchmarks/embedded_model_speed.py --busy 0 --num-ctx 2048   # as the LLM stages ask
    .venv/bin/python benchmarks/embedded_model_speed.py --model qwen2.5-coder:1.5b-instruct-q4_K_M
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ollama

from benchmarks.cpu_load import busy_loops
from embedded_ollama import EMBEDDED_MODEL_NAME, EmbeddedHandle, start_on_free_port
from embedded_ollama.worker import worker_pids
from warehouse_core.project import project_vars

logger = logging.getLogger("benchmarks.embedded_model_speed")

TICKERS = ["AAPL", "MSFT", "IBM", "GOOG", "AMZN", "NVDA", "TSLA", "META", "ORCL", "INTC"]
TARGET_RATIO = {1: 1 / 2, 2: 1 / 3}
"""Throughput beside n busy loops must stay at least this fraction of idle (issue 11)."""


class Signal(BaseModel):
    """The kind of answer the LLM stages ask for."""

    rationale: str = Field(max_length=160)
    action: Literal["BUY", "SELL", "HOLD"]
    confidence: float = Field(ge=0, le=1)


def prompt_for(index: int) -> list[dict[str, str]]:
    """A small, varied trading prompt (different ticker and numbers per call)."""
    ticker = TICKERS[index % len(TICKERS)]
    change = ((index * 37) % 90 - 45) / 10
    return [
        {"role": "system", "content": "You are a cautious trading assistant. Answer only with JSON."},
        {
            "role": "user",
            "content": (
                f"{ticker} moved {change:+.1f}% today; 20-day return {change * 2:+.1f}%, "
                f"RSI {50 + change * 4:.0f}, volatility 1.{index % 9}%. Give a signal with a confidence in [0, 1]."
            ),
        },
    ]


def status_mib(pid: int, field: str, source: str = "status") -> float | None:
    """A memory field (``VmHWM:``, ``Pss:``, ...) of ``/proc/<pid>/<source>`` (Linux), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def server_memory_mib(pid: int) -> tuple[float, float] | None:
    """Memory of the server and its model workers together, in MiB: (sum of peak RSS, PSS now).

    Peak RSS counts the pages the workers share (the mapped model file, libraries) once per worker;
    PSS (proportional set size) splits each shared page between its users, so it sums to what the
    processes take together.
    """
    pids = [pid, *worker_pids(pid)]
    peaks = [status_mib(p, "VmHWM:") for p in pids]
    shares = [status_mib(p, "Pss:", "smaps_rollup") for p in pids]
    if any(value is None for value in [*peaks, *shares]):
        return None
    return sum(v for v in peaks if v is not None), sum(v for v in shares if v is not None)


def ask(client: ollama.Client, model: str, index: int, num_ctx: int | None = None) -> dict[str, float]:
    """One greedy schema-constrained chat (with ``num_ctx`` if given, as the LLM stages send); its measurements."""
    started = time.perf_counter()
    options: dict[str, float] = {"temperature": 0, "seed": 42, "num_predict": 256}
    if num_ctx is not None:
        options["num_ctx"] = num_ctx
    answer = client.chat(
        model=model,
        messages=prompt_for(index),
        format=Signal.model_json_schema(),
        options=options,
        stream=False,
    )
    latency = time.perf_counter() - started
    try:
        Signal.model_validate_json(answer.message.content or "")
        valid = 1.0
    except ValidationError:
        valid = 0.0
    logger.debug("call %d: %.3f s, %s", index, latency, answer.message.content)
    return {
        "latency_s": latency,
        "eval_count": float(answer.eval_count or 0),
        "eval_s": (answer.eval_duration or 0) / 1e9,
        "prompt_count": float(answer.prompt_eval_count or 0),
        "prompt_s": (answer.prompt_eval_duration or 0) / 1e9,
        "valid": valid,
    }


def run(
    host: str, model: str, calls: int, warmup: int, in_flight: int, num_ctx: int | None = None
) -> tuple[list[dict[str, float]], float]:
    """Send ``warmup`` unmeasured calls, then ``calls`` calls ``in_flight`` at a time; return the
    measured calls and their wall seconds."""
    client = ollama.Client(host=host)
    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        list(pool.map(lambda index: ask(client, model, index, num_ctx), range(warmup)))
        started = time.perf_counter()
        rows = list(pool.map(lambda index: ask(client, model, index, num_ctx), range(warmup, warmup + calls)))
        return rows, time.perf_counter() - started


def reference_seconds() -> float:
    """Wall seconds of a fixed single-threaded CPU job: what any one-thread program gets right now."""
    started = time.perf_counter()
    sum(range(20_000_000))
    return time.perf_counter() - started


def summarize(rows: list[dict[str, float]], wall_s: float, reference_s: float) -> dict[str, float]:
    """Throughput figures of one phase."""
    latencies = sorted(row["latency_s"] for row in rows)
    return {
        "reference_s": reference_s,
        "calls": len(rows),
        "calls_per_s": len(rows) / wall_s,
        "latency_mean": statistics.mean(latencies),
        "latency_p95": latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))],
        "gen_tps": sum(r["eval_count"] for r in rows) / sum(r["eval_s"] for r in rows),
        "prompt_tps": sum(r["prompt_count"] for r in rows) / sum(r["prompt_s"] for r in rows),
        "tokens_per_call": sum(r["eval_count"] for r in rows) / len(rows),
        "valid": sum(r["valid"] for r in rows),
        "load": os.getloadavg()[0],
    }


def print_phase(busy: int, figures: dict[str, float]) -> None:
    """One line per phase."""
    print(
        f"{'idle' if busy == 0 else f'+{busy} busy loop' + ('s' if busy > 1 else ''):<14}"
        f"{figures['calls_per_s']:>8.2f} calls/s  {figures['latency_mean']:>6.2f} s mean  "
        f"{figures['latency_p95']:>6.2f} s p95  gen {figures['gen_tps']:>6.1f} tok/s  "
        f"prompt {figures['prompt_tps']:>6.1f} tok/s  ({figures['tokens_per_call']:.0f} tok/call)  "
        f"valid {figures['valid']:.0f}/{figures['calls']}  load avg {figures['load']:.2f}"
    )


def print_summary(model: str, phases: dict[int, dict[str, float]]) -> bool:
    """The final line: ratios against idle and whether they meet the targets."""
    idle = phases[0]
    parts, ok = [], True
    for busy, figures in phases.items():
        if busy == 0:
            continue
        ratio = figures["calls_per_s"] / idle["calls_per_s"]
        gen_ratio = figures["gen_tps"] / idle["gen_tps"]
        target = TARGET_RATIO.get(busy, 0.0)
        reference = idle["reference_s"] / figures["reference_s"]
        ok = ok and ratio >= target
        parts.append(
            f"+{busy}: {ratio:.2f} of idle calls/s, {gen_ratio:.2f} of idle tokens/s (target >= {target:.2f}; "
            f"a single-threaded Python loop kept {reference:.2f})"
        )
    verdict = "PASS" if ok else "FAIL"
    summary = "; ".join(parts) if parts else "idle only"
    print(
        f"SUMMARY {model}: idle {idle['calls_per_s']:.2f} calls/s, {idle['gen_tps']:.0f} tok/s; {summary} -> {verdict}"
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit code (1 when a ratio misses its target)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10, help="measured calls per phase (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured calls first (default 2)")
    parser.add_argument(
        "--in-flight",
        type=int,
        default=int(project_vars()["llm_concurrency"]),
        help="requests sent at once (default: var llm_concurrency, as the LLM stages)",
    )
    parser.add_argument("--busy", type=int, nargs="+", default=[0, 1, 2], help="busy loops per phase (default 0 1 2)")
    parser.add_argument("--model", default=EMBEDDED_MODEL_NAME, help=f"model to call (default {EMBEDDED_MODEL_NAME})")
    parser.add_argument("--host", default=None, help="use this Ollama server instead of starting one")
    parser.add_argument("--server-args", default="", help="extra server flags, e.g. '--threads 2'")
    parser.add_argument(
        "--num-ctx",
        type=int,
        default=None,
        help="options.num_ctx of every call (the LLM stages send var llm_num_ctx, 2048; default: none)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every answer")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    logger.setLevel(logging.DEBUG if args.verbose else logging.INFO)

    handle: EmbeddedHandle | None = None
    host = args.host
    if host is None:
        started = time.perf_counter()
        handle = start_on_free_port(extra_args=args.server_args.split())
        print(f"server ready in {time.perf_counter() - started:.2f} s (process start, checks, default model load)")
        host = handle.host
    print(f"{args.in_flight} requests in flight")
    phases: dict[int, dict[str, float]] = {}
    try:
        for index, busy in enumerate(args.busy):
            with busy_loops(busy):
                time.sleep(0.5 if busy else 0.0)  # let the loops reach full speed
                reference_s = reference_seconds()
                warmup = args.warmup if index == 0 else 0
                rows, wall_s = run(host, args.model, args.calls, warmup, args.in_flight, args.num_ctx)
                phases[busy] = summarize(rows, wall_s, (reference_s + reference_seconds()) / 2)
            print_phase(busy, phases[busy])
        memory = server_memory_mib(handle.pid) if handle is not None else None
    finally:
        if handle is not None:
            handle.stop()
    if memory is not None:
        peak, pss = memory
        print(
            f"server and model workers: peak RSS summed {peak:.0f} MiB (shared pages once per process), "
            f"PSS now {pss:.0f} MiB; {os.cpu_count()} CPUs"
        )
    if 0 not in phases:
        return 0
    return 0 if print_summary(args.model, phases) else 1


if __name__ == "__main__":
    sys.exit(main())
