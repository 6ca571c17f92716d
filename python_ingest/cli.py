"""``python -m python_ingest``: load daily prices into raw.prices.

Defaults (tickers, dates, sources, benchmark) come from ``vars:`` in dbt_project.yml, so the
ingest and ``dbt build`` agree unless you override both.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from python_ingest.run import ingest
from python_ingest.validation import check_date_range, parse_date, parse_max_file_mb, parse_sources, parse_tickers
from python_ingest.warehouse import TickerLoad
from warehouse_core.cli import user_errors
from warehouse_core.paths import warehouse_path
from warehouse_core.project import project_vars

log = logging.getLogger("python_ingest")


def build_parser() -> argparse.ArgumentParser:
    defaults = project_vars()
    parser = argparse.ArgumentParser(prog="python -m python_ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", default=",".join(defaults["tickers"]), help="comma-separated, e.g. AAPL,MSFT")
    parser.add_argument("--start", default=defaults["start"], help="first date, YYYY-MM-DD")
    parser.add_argument("--end", default=defaults["end"], help="last date (inclusive), YYYY-MM-DD")
    parser.add_argument(
        "--source",
        default=",".join(defaults["sources"]),
        help="sample | yahoo | csv; several comma-separated = per-ticker fallback in that order",
    )
    parser.add_argument("--csv-dir", type=Path, default=Path("prices"), help="folder of <TICKER>.csv/.parquet files")
    parser.add_argument(
        "--benchmark",
        default=defaults["benchmark_ticker"],
        help="benchmark ticker loaded with the others (empty string to skip)",
    )
    parser.add_argument("--refresh", action="store_true", help="fetch again even if the range is loaded")
    parser.add_argument(
        "--warehouse", type=Path, default=None, help="DuckDB file (default $WAREHOUSE_DIR/warehouse.duckdb)"
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging")
    return parser


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s" if verbose else "%(message)s",
        stream=sys.stderr,
    )
    if not verbose:
        for noisy in ("yfinance", "urllib3", "peewee"):
            logging.getLogger(noisy).setLevel(logging.CRITICAL)


def _load(args: argparse.Namespace) -> list[TickerLoad]:
    tickers = parse_tickers(args.tickers)
    if args.benchmark:
        tickers += [t for t in parse_tickers(args.benchmark) if t not in tickers]
    start, end = parse_date(args.start, "start"), parse_date(args.end, "end")
    check_date_range(start, end)
    return ingest(
        tickers,
        start,
        end,
        parse_sources(args.source),
        args.warehouse or warehouse_path(),
        csv_dir=args.csv_dir,
        max_file_mb=parse_max_file_mb(project_vars()["ingest_max_file_mb"]),
        refresh=args.refresh,
    )


def failure_line(failed: list[TickerLoad], sources: str, start: str, end: str) -> str:
    """One line saying, per ticker that was not stored, the real cause."""
    causes = []
    for load in failed:
        if load.status == "empty":
            causes.append(
                f"no data for {load.ticker} from {sources} in {start}..{end}: check the symbol and dates, "
                "or add a fallback source (e.g. --source yahoo,sample)"
            )
        else:
            causes.append(f"{load.ticker} refused: {load.error}")
    return "error: " + " | ".join(causes) + "; the other tickers were stored"


@user_errors
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    loads = _load(args)

    for load in loads:
        detail = f" ({load.error})" if load.error else ""
        dropped = f", {load.rows_dropped} dropped" if load.rows_dropped else ""
        log.info(
            "%-8s %-7s %-7s %6d rows%s%s", load.ticker, load.status, load.source or "-", load.rows, dropped, detail
        )
    failed = [load for load in loads if load.status in ("empty", "error")]
    if failed:
        log.error("%s", failure_line(failed, args.source, args.start, args.end))
        return 1
    return 0
