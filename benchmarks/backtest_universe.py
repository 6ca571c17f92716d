"""Build time of the backtest marts on a synthetic universe (default 500 tickers x 10 years).

Generates geometric-Brownian-motion prices for N tickers plus a benchmark into raw.prices of a
scratch warehouse, builds everything upstream of the backtest once (staging, quality, clean prices,
and the LLM signal source with ``enable_llm: false``), then times ``dbt build`` of the backtest
models (both baseline signal streams, int_signals, positions, trades, portfolio, fct_backtest_daily,
mart_backtest_summary, mart_signal_tracking, their data tests and the snapshot). Prints rows per
model, dbt's per-model execution time ("model time"), wall seconds and the dbt process's peak RSS.

    .venv/bin/python benchmarks/backtest_universe.py                 # 500 x 10 years
    .venv/bin/python benchmarks/backtest_universe.py --tickers 50 --years 2 --keep /tmp/bench_wh
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
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from tqdm import tqdm

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from python_ingest.warehouse import ensure_tables  # noqa: E402

logger = logging.getLogger("benchmarks.backtest_universe")

BENCHMARK = "^GSPC"
BACKTEST_SELECTION = [
    "int_signals_buy_and_hold",
    "int_signals_sma_crossover",
    "int_signals",
    "int_backtest_positions",
    "int_backtest_trades",
    "int_backtest_portfolio_daily",
    "fct_backtest_daily",
    "mart_backtest_summary",
    "mart_signal_tracking",
    "snap_signal_validation",
]


def synthetic_prices(tickers: int, years: int, seed: int) -> pd.DataFrame:
    """Daily GBM closes on business days: drift ~ N(7 %, 5 %) a year, volatility U(15 %, 45 %)."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2010-01-04", periods=252 * years)
    frames = []
    symbols = [f"T{i:04d}" for i in range(tickers)] + [BENCHMARK]
    for symbol in tqdm(symbols, desc="generating prices", unit="ticker"):
        mu, sigma = rng.normal(0.07, 0.05) / 252, rng.uniform(0.15, 0.45) / np.sqrt(252)
        shocks = rng.normal(mu - sigma**2 / 2, sigma, len(days))
        close = 50.0 * np.exp(np.cumsum(shocks))
        spread = np.abs(rng.normal(0, sigma / 2, len(days)))
        frames.append(
            pd.DataFrame(
                {
                    "ticker": symbol,
                    "date": days.date,
                    "open": close * (1 + spread / 2),
                    "high": close * (1 + spread),
                    "low": close * (1 - spread),
                    "close": close,
                    "adj_close": close,
                    "volume": rng.integers(100_000, 5_000_000, len(days)),
                }
            )
        )
    prices = pd.concat(frames, ignore_index=True)
    prices["open"] = prices[["open", "high"]].min(axis=1)
    return prices


def write_raw(warehouse_dir: Path, prices: pd.DataFrame) -> None:
    con = duckdb.connect(str(warehouse_dir / "warehouse.duckdb"))
    try:
        ensure_tables(con)
        con.register("incoming", prices)
        con.execute(
            "insert into raw.prices select ticker, date, open, high, low, close, adj_close, volume, 'csv', ? from incoming",
            [datetime(2024, 1, 1)],
        )
    finally:
        con.close()


def run_dbt(args: list[str], warehouse_dir: Path) -> tuple[float, int, subprocess.CompletedProcess]:
    """Run dbt under /usr/bin/time; return wall seconds, peak RSS (KiB) and the process result."""
    env = {**os.environ, "WAREHOUSE_DIR": str(warehouse_dir), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    dbt = str(Path(sys.executable).parent / "dbt")
    command = [dbt, *args, "--target-path", str(warehouse_dir / "target"), "--log-path", str(warehouse_dir / "logs")]
    timer = ["/usr/bin/time", "-f", "MAXRSS_KB=%M"] if Path("/usr/bin/time").exists() else []
    started = time.perf_counter()
    result = subprocess.run([*timer, *command], cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"dbt {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
    match = re.search(r"MAXRSS_KB=(\d+)", result.stderr)
    return wall, int(match.group(1)) if match else -1, result


def model_times(warehouse_dir: Path) -> dict[str, tuple[str, float]]:
    results = json.loads((warehouse_dir / "target" / "run_results.json").read_text())
    return {r["unique_id"]: (r["status"], r["execution_time"]) for r in results["results"]}


def row_counts(warehouse_dir: Path, tables: list[str]) -> dict[str, int]:
    con = duckdb.connect(str(warehouse_dir / "warehouse.duckdb"), read_only=True)
    try:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}
    finally:
        con.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=500)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--keep", type=Path, default=None, help="use (and keep) this warehouse dir instead of a temp one"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    with tempfile.TemporaryDirectory(prefix="backtest_bench_") as scratch:
        warehouse_dir = args.keep or Path(scratch)
        warehouse_dir.mkdir(parents=True, exist_ok=True)
        prices = synthetic_prices(args.tickers, args.years, args.seed)
        write_raw(warehouse_dir, prices)
        tickers = sorted(set(prices["ticker"]) - {BENCHMARK})
        dbt_vars = json.dumps(
            {
                "tickers": tickers,
                "benchmark_ticker": BENCHMARK,
                "start": str(prices["date"].min()),
                "end": str(prices["date"].max()),
                "enable_llm": False,
            }
        )
        logger.info(
            "raw.prices: %d rows (%d tickers + benchmark x %d days)",
            len(prices),
            len(tickers),
            prices["date"].nunique(),
        )

        wall, rss, _ = run_dbt(
            ["run", "--select", "+int_prices_clean", "+int_signals_llm", "--vars", dbt_vars], warehouse_dir
        )
        logger.info(
            "upstream (staging, quality, clean, LLM source switched off): %.1f s wall, peak %.0f MiB", wall, rss / 1024
        )

        wall, rss, _ = run_dbt(["build", "--select", *BACKTEST_SELECTION, "--vars", dbt_vars], warehouse_dir)
        times = model_times(warehouse_dir)
        models = {uid: t for uid, t in times.items() if uid.startswith(("model.", "snapshot."))}
        tests = {uid: t for uid, t in times.items() if uid.startswith(("test.", "unit_test."))}
        counts = row_counts(
            warehouse_dir, [m if not m.startswith("snap_") else f"main_snapshots.{m}" for m in BACKTEST_SELECTION]
        )
        counts = {name.split(".")[-1]: n for name, n in counts.items()}

        print(
            f"\nBacktest marts on {len(tickers)} tickers x {args.years} years ({len(prices):,} price rows), 2 strategies"
        )
        print(f"{'model':<32}{'rows':>14}{'seconds':>10}")
        for name in BACKTEST_SELECTION:
            uid = next((u for u in models if u.endswith("." + name)), None)
            seconds = models[uid][1] if uid else float("nan")
            print(f"{name:<32}{counts.get(name, 0):>14,}{seconds:>10.2f}")
        model_seconds = sum(t for _, t in models.values())
        print(f"{'model time (sum)':<32}{'':>14}{model_seconds:>10.2f}")
        print(f"{'data + unit tests (sum)':<32}{len(tests):>14}{sum(t for _, t in tests.values()):>10.2f}")
        print(
            f"dbt build wall: {wall:.1f} s   peak RSS of the dbt process: {rss / 1024:.0f} MiB   cores: {os.cpu_count()}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
