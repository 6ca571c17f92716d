"""``python -m report``: backtest summary and signal tracking from the marts, as text, JSON or HTML."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from report.data import load_daily, load_report, load_signals
from report.html import render_html
from report.text import render_text
from report.warehouse import open_marts
from warehouse_core import UserError
from warehouse_core.paths import warehouse_path

log = logging.getLogger("report")


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
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging")
    return parser


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _marks() -> tuple[str, str]:
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower()
    return ("✅", "❌") if "utf" in encoding else ("yes", "no")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s", stream=sys.stderr)
    path = args.warehouse or warehouse_path()
    try:
        with open_marts(path) as con:
            report = load_report(con, str(path), args.strategy)
            if args.strategy and not report.summary and not report.tracking.total_signals:
                raise UserError(f"no backtest or signals for strategy {', '.join(args.strategy)} in {path}")
            if args.format == "text":
                output = render_text(
                    report, ready_limit=args.ready_limit, marks=_marks() if args.output is None else ("✅", "❌")
                )
            elif args.format == "json":
                output = json.dumps(report.model_dump(mode="json"), indent=2) + "\n"
            else:
                output = render_html(report, lambda s, t: load_daily(con, s, t), lambda s, t: load_signals(con, s, t))
    except UserError as exc:
        log.error("error: %s", exc)
        return 2

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
            log.error("error: cannot write %s (%s): choose another --output file", target, exc.strerror or exc)
            return 2
        log.info("wrote %s report to %s", args.format, target)
    return 0
