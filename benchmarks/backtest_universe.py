"""Build time of the backtest models on a synthetic universe (default 500 tickers x 10 years),
optionally side by side with vectorbt on the same prices.

Generates geometric-Brownian-motion prices for N tickers plus a benchmark into raw.prices of a
scratch warehouse, builds everything upstream of the backtest once (staging, quality, clean prices,
features, and the LLM signal source with ``enable_llm: false``), then times ``dbt build`` of the
backtest models (the universe, both baseline signal streams, int_signals, holding periods, their
returns, the daily equity, trades, portfolio, fct_backtest_daily, mart_backtest_summary,
mart_signal_tracking, their data and unit tests, and the snapshot) with one dbt thread, so each
model's time is its own. Prints rows and dbt's execution time per model ("model time"), the sum
over the models that compute what vectorbt computes (signals -> positions -> daily equity ->
per-ticker summary) and over the whole selection (+ portfolio, tracking, snapshot), the Parquet
export of the marts (the on-run-end hook, not a model), wall seconds and the dbt process's peak RSS.

With --compare-vectorbt it then runs vectorbt (``pip install -e '.[bench]'``) on the same prices:
SMA 20/50 crossover and buy-and-hold through ``Portfolio.from_signals`` with 5 bps fees, and the
per-ticker metrics mart_backtest_summary holds (total and annual return, volatility, Sharpe,
Sortino, max drawdown, Calmar, beta and alpha against the benchmark, trades, win rate, exposure),
timed warm (after one run that compiles its numba code), and checks both agree on total return and
trades per ticker. The last line is ``backtest_models_s=<x> vectorbt_s=<y> ratio=<x/y>``, x being
the model time of what vectorbt computes too; the line before it gives the whole selection and the
export beside it.

    .venv/bin/python benchmarks/backtest_universe.py                     # 500 x 10 years
    .venv/bin/python benchmarks/backtest_universe.py --compare-vectorbt
    .venv/bin/python benchmarks/backtest_universe.py --tickers 50 --years 2 --keep /tmp/bench_wh
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import statistics
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
FEES = 0.0005  # dbt_project.yml's transaction_cost_bps: 5
SMA_FAST, SMA_SLOW = 20, 50  # dbt_project.yml's sma_short_window / sma_medium_window
UPSTREAM = [
    "+int_prices_clean",
    "+int_features",
    "+int_signals_llm",
    "+int_signals_external",
    "+llm_risk_assessment",
    "+int_llm_output_health",
]
BACKTEST_SELECTION = [
    "int_universe",
    "int_signals_buy_and_hold",
    "int_signals_sma_crossover",
    "int_signals",
    "int_backtest_periods",
    "int_backtest_period_returns",
    "int_backtest_ticker_daily",
    "int_backtest_trades",
    "int_backtest_risk_caps",
    "int_backtest_portfolio_daily",
    "fct_backtest_daily",
    "mart_backtest_summary",
    "int_signal_outcomes",
    "int_strategy_signal_stats",
    "mart_strategy_scorecard",
    "mart_signal_tracking",
    "snap_signal_validation",
]
# What vectorbt computes too: signals -> positions -> daily equity -> per-ticker metrics. Not the
# portfolio (its risk caps and int_backtest_portfolio_daily), signal outcomes, the scorecard, signal
# tracking or its snapshot, which vectorbt has no counterpart for, nor fct_backtest_daily, the view
# BI tools read (creating it computes nothing, and mart_backtest_summary reads the tables under it);
# they are built and timed all the same and printed beside the ratio.
NOT_IN_VECTORBT = (
    "fct_backtest_daily",
    "int_backtest_risk_caps",
    "int_backtest_portfolio_daily",
    "int_signal_outcomes",
    "int_strategy_signal_stats",
    "mart_strategy_scorecard",
    "mart_signal_tracking",
    "snap_signal_validation",
)
COMPARABLE_TO_VECTORBT = [name for name in BACKTEST_SELECTION if name not in NOT_IN_VECTORBT]


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


def run_results(warehouse_dir: Path) -> list[dict]:
    return json.loads((warehouse_dir / "target" / "run_results.json").read_text())["results"]


def export_seconds(dbt_stdout: str) -> float:
    """The Parquet export's duration, as the on-run-end hook (macros/export_marts.sql) logs it."""
    match = re.search(r"Parquet export: \d+ marts to the marts/ folder in ([\d.]+) s", dbt_stdout)
    return float(match.group(1)) if match else float("nan")


def row_counts(warehouse_dir: Path, tables: list[str]) -> dict[str, int]:
    con = duckdb.connect(str(warehouse_dir / "warehouse.duckdb"), read_only=True)
    try:
        return {t.split(".")[-1]: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}
    finally:
        con.close()


def time_backtest_models(warehouse_dir: Path, dbt_vars: str, label: str) -> tuple[float, float, float]:
    """Build the backtest selection once, print per-model rows and seconds; return the model time
    of what vectorbt computes too, of the whole selection, and the Parquet export's seconds."""
    wall, rss, result = run_dbt(
        ["build", "--threads", "1", "--select", *BACKTEST_SELECTION, "--vars", dbt_vars], warehouse_dir
    )
    results = run_results(warehouse_dir)
    models = {
        r["unique_id"].split(".")[-1]: r["execution_time"]
        for r in results
        if r["unique_id"].startswith(("model.", "snapshot."))
    }
    tests = [r["execution_time"] for r in results if r["unique_id"].startswith(("test.", "unit_test."))]
    counts = row_counts(
        warehouse_dir, [m if not m.startswith("snap_") else f"main_snapshots.{m}" for m in BACKTEST_SELECTION]
    )
    print(f"\n{label}")
    print(f"{'model':<32}{'rows':>14}{'seconds':>10}")
    for name in BACKTEST_SELECTION:
        print(f"{name:<32}{counts.get(name, 0):>14,}{models.get(name, float('nan')):>10.2f}")
    comparable = sum(models.get(name, 0.0) for name in COMPARABLE_TO_VECTORBT)
    model_seconds = sum(models.values())
    export = export_seconds(result.stdout)
    print(
        f"{'model time, what vectorbt does':<32}{'':>14}{comparable:>10.2f}   (signals, periods, daily equity, summary)"
    )
    print(f"{'model time, whole selection':<32}{'':>14}{model_seconds:>10.2f}   (+ portfolio, tracking, snapshot)")
    print(f"{'data + unit tests (sum)':<32}{len(tests):>14}{sum(tests):>10.2f}")
    print(
        f"{'Parquet export of the marts':<32}{'on-run-end':>14}{export:>10.2f}"
        "   (a hook after all nodes: not in model time)"
    )
    print(f"dbt build wall: {wall:.1f} s   peak RSS of the dbt process: {rss / 1024:.0f} MiB   cores: {os.cpu_count()}")
    return comparable, model_seconds, export


def wide_closes(prices: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Adjusted closes as a date x ticker frame (the synthetic prices pass every quality rule), and the benchmark."""
    wide = prices.pivot(index="date", columns="ticker", values="adj_close").sort_index()
    wide.index = pd.DatetimeIndex(wide.index)
    return wide.drop(columns=[BENCHMARK]), wide[BENCHMARK]


def vectorbt_metrics(close: pd.DataFrame, benchmark: pd.Series) -> dict[str, pd.DataFrame]:
    """What mart_backtest_summary holds per (strategy, ticker), computed by vectorbt.

    Conventions: vectorbt fills a signal at the close of its own bar (price defaults to the close),
    which is our "a signal at the close of t holds the position over t+1", so the crossings go in
    unshifted (shifting them by a bar would make vectorbt a day late). Fees are a share of the
    traded value at the fill; we charge the same rate on the next day's return, which differs by
    about fee x one day's return per trade.
    """
    import vectorbt as vbt

    vbt.settings.returns["year_freq"] = "252 days"  # our trading_days_per_year
    fast = vbt.MA.run(close, SMA_FAST, short_name="fast")
    slow = vbt.MA.run(close, SMA_SLOW, short_name="slow")
    entries = fast.ma_crossed_above(slow).to_numpy()
    exits = fast.ma_crossed_below(slow).to_numpy()
    first_day = np.zeros(close.shape, dtype=bool)
    first_day[0] = True
    benchmark_returns = benchmark.pct_change()
    out = {}
    for strategy, (enter, leave) in {
        "sma_crossover": (entries, exits),
        "buy_and_hold": (first_day, np.zeros(close.shape, dtype=bool)),
    }.items():
        pf = vbt.Portfolio.from_signals(close, enter, leave, fees=FEES, init_cash=100_000, freq="1D")
        returns = pf.returns().vbt.returns(freq="1D")
        out[strategy] = pd.DataFrame(
            {
                "total_return": pf.total_return(),
                "annual_return": returns.annualized(),
                "annual_volatility": returns.annualized_volatility(),
                "sharpe_ratio": returns.sharpe_ratio(),
                "sortino_ratio": returns.sortino_ratio(),
                "max_drawdown": pf.max_drawdown(),
                "calmar_ratio": returns.calmar_ratio(),
                "beta": returns.beta(benchmark_returns),
                "capm_alpha": returns.alpha(benchmark_returns),
                "trades": pf.trades.count(),
                "win_rate": pf.trades.win_rate(),
                "exposure": pf.position_mask().mean(),
            }
        )
    return out


def time_vectorbt(prices: pd.DataFrame, runs: int = 3) -> tuple[float, dict[str, pd.DataFrame]]:
    """Median seconds of `runs` warm runs, after one run that compiles vectorbt's numba code."""
    try:
        import vectorbt  # noqa: F401
    except ImportError:
        raise SystemExit("vectorbt is not installed: .venv/bin/pip install -e '.[bench]'") from None
    close, benchmark = wide_closes(prices)
    started = time.perf_counter()
    metrics = vectorbt_metrics(close, benchmark)
    logger.info("vectorbt warm-up (numba compile): %.1f s", time.perf_counter() - started)
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        metrics = vectorbt_metrics(close, benchmark)
        seconds.append(time.perf_counter() - started)
    logger.info("vectorbt warm runs: %s s", ", ".join(f"{s:.2f}" for s in seconds))
    return statistics.median(seconds), metrics


def compare_with_marts(warehouse_dir: Path, vectorbt: dict[str, pd.DataFrame]) -> None:
    """Print how far vectorbt's per-ticker total return, trades and win rate are from the mart's."""
    con = duckdb.connect(str(warehouse_dir / "warehouse.duckdb"), read_only=True)
    try:
        summary = con.execute(
            "select strategy, ticker, total_return, trades, win_rate from mart_backtest_summary where ticker <> 'PORTFOLIO'"
        ).df()
    finally:
        con.close()
    for strategy, theirs in vectorbt.items():
        ours = summary[summary["strategy"] == strategy].set_index("ticker")
        joined = ours.join(theirs.add_suffix("_vbt"), how="inner")
        total = (joined["total_return"] - joined["total_return_vbt"]).abs()
        relative = total / (1 + joined["total_return_vbt"])
        print(
            f"{strategy:<14} vs vectorbt on {len(joined)} tickers: total return max |diff| {total.max():.2e} "
            f"(median {total.median():.1e}; max {relative.max():.1e} of final equity), "
            f"trades equal on {(joined['trades'] == joined['trades_vbt']).mean():.0%}, "
            f"win rate max |diff| {(joined['win_rate'] - joined['win_rate_vbt']).abs().max():.2e}"
        )
    print(
        "(fees: vectorbt takes them from the traded value at the fill, the mart from the next day's return, "
        "so a trade differs by about fee x one day's return, and a trade that nets ~0 can fall on either side of a win)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=500)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--keep", type=Path, default=None, help="use (and keep) this warehouse dir instead of a temp one"
    )
    parser.add_argument("--compare-vectorbt", action="store_true", help="also time vectorbt on the same prices")
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
        wall, rss, _ = run_dbt(["run", "--select", *UPSTREAM, "--vars", dbt_vars], warehouse_dir)
        logger.info(
            "upstream (staging, quality, clean, features, LLM source off): %.1f s wall, peak %.0f MiB", wall, rss / 1024
        )
        label = (
            f"Backtest models on {len(tickers)} tickers x {args.years} years ({len(prices):,} price rows), 2 strategies"
        )
        comparable, model_seconds, export = time_backtest_models(warehouse_dir, dbt_vars, label)
        if args.compare_vectorbt:
            vectorbt_seconds, metrics = time_vectorbt(prices)
            compare_with_marts(warehouse_dir, metrics)
            print(
                f"beside the ratio: whole backtest selection {model_seconds:.2f} s "
                f"(ratio {model_seconds / vectorbt_seconds:.2f}), Parquet export of the marts {export:.2f} s; "
                "vectorbt's time includes its SMAs, ours come from int_features (built upstream, not timed)"
            )
            print(
                f"backtest_models_s={comparable:.2f} vectorbt_s={vectorbt_seconds:.2f} ratio={comparable / vectorbt_seconds:.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
