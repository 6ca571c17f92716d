"""Speed of the embedded model on schema-constrained chat calls.

Starts the embedded Ollama server on a free loopback port (or uses ``--host``),
sends N ``/api/chat`` requests with a pydantic JSON schema as ``format``
through the official ``ollama`` client, and prints latency, generation speed
(eval_count / eval_duration), prompt speed, schema validity and the server's
peak memory.

    .venv/bin/python benchmarks/embedded_model_speed.py --calls 20
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ollama

from embedded_ollama import EMBEDDED_MODEL_NAME, EmbeddedHandle, start_on_free_port

logger = logging.getLogger("benchmarks.embedded_model_speed")

TICKERS = ["AAPL", "MSFT", "IBM", "GOOG", "AMZN", "NVDA", "TSLA", "META", "ORCL", "INTC"]


class Signal(BaseModel):
    """The kind of answer the LLM stages ask for."""

    action: Literal["BUY", "SELL", "HOLD"]
    confidence: float = Field(ge=0, le=1)
    rationale: str = Field(max_length=160)


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


def peak_rss_mib(pid: int) -> float | None:
    """Peak resident memory of a local process (Linux), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run(host: str, calls: int, warmup: int, temperature: float) -> list[dict[str, float]]:
    """Send ``warmup + calls`` schema-constrained chats; return per-call measurements."""
    client = ollama.Client(host=host)
    schema = Signal.model_json_schema()
    rows: list[dict[str, float]] = []
    for index in range(warmup + calls):
        started = time.perf_counter()
        answer = client.chat(
            model=EMBEDDED_MODEL_NAME,
            messages=prompt_for(index),
            format=schema,
            options={"temperature": temperature, "seed": index, "num_predict": 256},
            stream=False,
        )
        latency = time.perf_counter() - started
        try:
            Signal.model_validate_json(answer.message.content or "")
            valid = 1.0
        except ValidationError:
            valid = 0.0
        if index < warmup:
            continue
        rows.append(
            {
                "latency_s": latency,
                "eval_count": float(answer.eval_count or 0),
                "eval_s": (answer.eval_duration or 0) / 1e9,
                "prompt_count": float(answer.prompt_eval_count or 0),
                "prompt_s": (answer.prompt_eval_duration or 0) / 1e9,
                "valid": valid,
            }
        )
        logger.debug("call %d: %.3f s, %s", index, latency, answer.message.content)
    return rows


def report(rows: list[dict[str, float]], load_seconds: float | None, rss: float | None) -> None:
    """Print the summary table."""
    latencies = sorted(row["latency_s"] for row in rows)
    eval_tokens = sum(row["eval_count"] for row in rows)
    eval_seconds = sum(row["eval_s"] for row in rows)
    prompt_tokens = sum(row["prompt_count"] for row in rows)
    prompt_seconds = sum(row["prompt_s"] for row in rows)
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    print(f"model                {EMBEDDED_MODEL_NAME}")
    if load_seconds is not None:
        print(f"server ready in      {load_seconds:.2f} s (process start, hash, model load)")
    print(f"calls                {len(rows)} schema-constrained /api/chat")
    print(f"latency mean/median  {statistics.mean(latencies):.3f} s / {statistics.median(latencies):.3f} s")
    print(f"latency min/p95/max  {latencies[0]:.3f} s / {p95:.3f} s / {latencies[-1]:.3f} s")
    per_call = len(rows)
    print(f"generation           {eval_tokens / eval_seconds:.1f} tokens/s ({eval_tokens / per_call:.1f} tokens/call)")
    prompt_rate = prompt_tokens / prompt_seconds
    print(f"prompt evaluation    {prompt_rate:.1f} tokens/s ({prompt_tokens / per_call:.1f} tokens/call)")
    print(f"schema-valid         {sum(row['valid'] for row in rows):.0f}/{len(rows)}")
    if rss is not None:
        print(f"server peak RSS      {rss:.0f} MiB")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10, help="measured calls (default 10)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured calls first (default 1)")
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--host", default=None, help="use this Ollama server instead of starting one")
    parser.add_argument("--threads", type=int, default=None, help="server CPU threads (default: its own)")
    parser.add_argument("--cache-prompt", action="store_true", help="start the server with --cache-prompt")
    parser.add_argument("--verbose", action="store_true", help="log every answer")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    logger.setLevel(logging.DEBUG if args.verbose else logging.INFO)
    server_args = (["--threads", str(args.threads)] if args.threads else []) + (
        ["--cache-prompt"] if args.cache_prompt else []
    )

    handle: EmbeddedHandle | None = None
    load_seconds: float | None = None
    host = args.host
    if host is None:
        started = time.perf_counter()
        handle = start_on_free_port(extra_args=server_args)
        load_seconds = time.perf_counter() - started
        host = handle.host
    try:
        rows = run(host, args.calls, args.warmup, args.temperature)
        rss = peak_rss_mib(handle.pid) if handle is not None else None
    finally:
        if handle is not None:
            handle.stop()
    report(rows, load_seconds, rss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
