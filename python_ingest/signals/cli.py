"""``python -m python_ingest.signals --file PATH --name NAME``: load a signals file as strategy ``external:NAME``.

The file is read and every row checked before the warehouse is opened, so a refused file (exit 2,
one line per bad row) never writes anything. Warnings name tickers the next build cannot backtest
and the command that fixes it; pass ``--vars`` with the tickers/end the build will use if they
differ from dbt_project.yml.
"""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path
from typing import Any

from python_ingest.cli import configure_logging
from python_ingest.signals.checks import SignalsRefused, check_signals
from python_ingest.signals.coverage import BuildScope, coverage_warnings
from python_ingest.signals.reader import read_signals_file
from python_ingest.signals.rows import CheckedSignals
from python_ingest.signals.store import LoadOutcome, write_load
from python_ingest.validation import parse_date, parse_max_file_mb, parse_tickers
from python_ingest.warehouse import ensure_tables
from warehouse_core import UserError
from warehouse_core.cli import user_errors
from warehouse_core.paths import warehouse_path
from warehouse_core.project import parse_vars_option, project_vars
from warehouse_core.warehouse import open_warehouse

log = logging.getLogger("python_ingest.signals")
NAME_PATTERN = re.compile(r"^[a-z0-9_.-]{1,40}$")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m python_ingest.signals", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--file", type=Path, required=True, help="CSV or JSON file of signals (formats: docs/signals-files.md)"
    )
    parser.add_argument("--name", required=True, help="strategy name: external:<name>; [a-z0-9_.-], at most 40")
    parser.add_argument(
        "--vars", default=None, help="the vars the next build uses (tickers, start, end), e.g. '{tickers: [AAPL]}'"
    )
    parser.add_argument(
        "--warehouse", type=Path, default=None, help="DuckDB file (default $WAREHOUSE_DIR/warehouse.duckdb)"
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging")
    return parser


def parse_name(raw: str) -> str:
    if not NAME_PATTERN.match(raw):
        raise UserError(
            f"invalid --name {raw!r}: use lower-case letters, digits, '_', '.' or '-' (at most 40 characters), "
            "e.g. --name tradingagents_v2; the strategy is then external:<name>"
        )
    return raw


def build_scope(settings: dict[str, Any]) -> BuildScope:
    return BuildScope(
        parse_tickers(settings["tickers"]), parse_date(settings["start"], "start"), parse_date(settings["end"], "end")
    )


def load_signals(
    path: Path, name: str, warehouse_file: Path, scope: BuildScope, max_mb: int
) -> tuple[LoadOutcome, CheckedSignals, list[str]]:
    """Read and check the whole file, then (only then) open the warehouse and write the load."""
    signals_file = read_signals_file(path, max_mb)
    rows = check_signals(signals_file)
    with open_warehouse(warehouse_file) as con:
        ensure_tables(con)
        outcome = write_load(con, name, signals_file, str(path.resolve()), rows)
        warnings = coverage_warnings(con, f"external:{name}", rows, scope)
    log.info(
        "external:%s: %d signal(s), %d ticker(s), %s..%s, from %s (sha256 %s)",
        name,
        len(rows),
        len(rows.tickers),
        rows.first_date(),
        rows.last_date(),
        signals_file.display,
        signals_file.sha256[:12],
    )
    return outcome, rows, warnings


@user_errors
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    try:
        name = parse_name(args.name)
        settings = project_vars(parse_vars_option(args.vars))
        outcome, rows, warnings = load_signals(
            args.file,
            name,
            args.warehouse or warehouse_path(),
            build_scope(settings),
            parse_max_file_mb(settings["ingest_max_file_mb"]),
        )
    except SignalsRefused as refused:
        for line in refused.lines:
            log.error("error: %s", line)
        return 2
    if outcome.status == "unchanged":
        log.info(
            "external:%s: identical to its current signals, nothing rewritten (load %s logged)", name, outcome.load_id
        )
    else:
        log.info(
            "external:%s: load %s replaced %d signal(s) with %d",
            name,
            outcome.load_id,
            outcome.replaced_rows,
            len(rows),
        )
    for warning in warnings:
        log.warning("warning: %s", warning)
    return 0
