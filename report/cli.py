"""``python -m report``: backtest summary and signal tracking from the marts, as text, JSON or HTML."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import duckdb

from report.data import BuildSettings, Report, load_daily, load_portfolio_equity, load_report, load_signals
from report.html import render_html
from report.story import headline, strategy_facts
from report.text import render_text
from report.warehouse import open_marts
from warehouse_core import UserError
from warehouse_core.cli import user_errors
from warehouse_core.paths import warehouse_path
from warehouse_core.project import parse_vars_option, project_vars

log = logging.getLogger("report")
DEFAULT_TICKER_CHARTS = 50


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m report", description=__doc__.splitlines()[0].strip("`"))
    parser.add_argument("--format", choices=("text", "json", "html"), default="text", help="default: text")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="write here instead of stdout (html default: $WAREHOUSE_DIR/report.html)",
    )
    parser.add_argument(
        "--strategy", action="append", default=None, help="only this strategy (repeatable); default all"
    )
    parser.add_argument(
        "--warehouse", type=Path, default=None, help="DuckDB file (default $WAREHOUSE_DIR/warehouse.duckdb)"
    )
    parser.add_argument(
        "--ready-limit", type=_non_negative, default=50, help="text: list at most this many ready signals"
    )
    parser.add_argument(
        "--ticker-charts",
        type=int,
        default=DEFAULT_TICKER_CHARTS,
        help=f"html: per-ticker charts for at most this many tickers per strategy (-1: all; default {DEFAULT_TICKER_CHARTS}); "
        "the tables always list every ticker",
    )
    parser.add_argument(
        "--vars",
        default=None,
        help="YAML/JSON mapping of the dbt vars the build used, as given to `dbt build --vars` "
        "(the position cap and the calibration buckets are read from the vars)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging")
    return parser


def settings(vars_option: str | None) -> BuildSettings:
    """The vars the report needs, from dbt_project.yml with --vars on top: the warehouse does not
    record the position cap or the confidence threshold a build used."""
    overrides = parse_vars_option(vars_option)
    values = project_vars(overrides)
    given = [name for name in ("max_position_size", "confidence_threshold") if name in overrides]
    source = "dbt_project.yml vars" + (f" with --vars {', '.join(given)}" if given else "")
    return BuildSettings(
        position_cap=values.get("max_position_size"),
        confidence_threshold=values.get("confidence_threshold"),
        source=f"{source}; the warehouse does not record them",
        confidence_buckets=values.get("analysis_confidence_buckets", 10),
        min_bucket_signals=values.get("analysis_min_bucket_signals", 10),
        min_annual_return=values.get("min_annual_return"),
        min_trading_days=values.get("min_trading_days"),
        min_sharpe_ratio=values.get("min_sharpe_ratio"),
        min_capital=values.get("min_capital"),
    )


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _marks() -> tuple[str, str]:
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower()
    return ("✅", "❌") if "utf" in encoding else ("yes", "no")


def _render(con: duckdb.DuckDBPyConnection, report: Report, args: argparse.Namespace) -> str:
    if args.format == "text":
        return render_text(
            report, ready_limit=args.ready_limit, marks=_marks() if args.output is None else ("✅", "❌")
        )
    if args.format == "json":
        story = {"headline": headline(report), "facts": {s: strategy_facts(report, s) for s in report.strategies}}
        return json.dumps({**story, **report.model_dump(mode="json")}, indent=2) + "\n"
    return render_html(
        report,
        load_portfolio_equity(con, report.strategies),
        lambda s, t: load_daily(con, s, t),
        lambda s, t: load_signals(con, s, t),
        ticker_charts=args.ticker_charts,
    )


@user_errors
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s", stream=sys.stderr)
    path = args.warehouse or warehouse_path()
    with open_marts(path) as con:
        report = load_report(con, str(path), args.strategy, settings(args.vars))
        if args.strategy and not report.summary and not report.tracking.total_signals:
            raise UserError(f"no backtest or signals for strategy {', '.join(args.strategy)} in {path}")
        output = _render(con, report, args)

    target = args.output
    if target is None and args.format == "html":
        target = path.parent / "report.html"
    if target is None:
        sys.stdout.write(output)
    else:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(output, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write {target} ({exc.strerror or exc}): choose another --output file") from exc
        log.info("wrote %s report to %s", args.format, target)
    return 0
