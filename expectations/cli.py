"""Command line: ``python -m expectations [--suites LAYER_OR_SUITE ...] [--docs-dir DIR]``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TextIO

from expectations.runner import SuiteOutcome, run_suites
from expectations.settings import suite_parameters
from expectations.suites import LAYERS, load_suites
from warehouse_core import UserError
from warehouse_core.cli import user_errors
from warehouse_core.paths import WAREHOUSE_FILE, warehouse_dir
from warehouse_core.project import parse_vars_option, project_vars

log = logging.getLogger("expectations")
MAX_FAILURES_SHOWN = 5


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m expectations",
        description="Validate the built DuckDB warehouse with the Great Expectations suites in expectations/suites/, "
        "print a per-suite table, write GX Data Docs and exit 1 if any suite fails or its table is missing.",
    )
    parser.add_argument(
        "--warehouse-dir",
        type=Path,
        default=None,
        help="folder holding warehouse.duckdb (default: $WAREHOUSE_DIR, else ./data)",
    )
    parser.add_argument(
        "--suites",
        nargs="+",
        metavar="LAYER_OR_SUITE",
        default=None,
        help=f"only these layers ({', '.join(LAYERS)}) or suite names (default: all)",
    )
    parser.add_argument(
        "--docs-dir", type=Path, default=None, help="where to write Data Docs (default: <warehouse-dir>/data_docs)"
    )
    parser.add_argument("--no-docs", action="store_true", help="skip building Data Docs")
    parser.add_argument(
        "--allow-missing",
        action="store_true",
        help="report suites whose table is not built as SKIPPED instead of failing",
    )
    parser.add_argument(
        "--vars", default=None, help="YAML/JSON mapping overriding dbt_project.yml vars, as given to `dbt build --vars`"
    )
    parser.add_argument("--list", action="store_true", help="list the suites and their tables, then exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def render_table(outcomes: list[SuiteOutcome], out: TextIO) -> None:
    """A fixed-width pass/fail table, then the first failures of each failing suite."""
    header = ("layer", "suite", "relation", "rows", "batches", "checks", "failed", "status")
    rows = [
        (o.layer, o.suite, o.relation, str(o.rows), str(o.batches), str(o.evaluated), str(o.failed), o.status)
        for o in outcomes
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out.write(line.format(*header) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in rows:
        out.write(line.format(*row) + "\n")
    for o in outcomes:
        if o.message:
            out.write(f"\n{o.status} {o.suite}: {o.message}\n")
        if o.failures:
            out.write(f"\nFAIL {o.suite} ({o.relation}): {o.failed} failed expectation(s)\n")
            for failure in o.failures[:MAX_FAILURES_SHOWN]:
                column = f"[{failure.column}] " if failure.column else ""
                out.write(f"  - {failure.batch}: {failure.expectation} {column}{failure.detail}\n")
            if len(o.failures) > MAX_FAILURES_SHOWN:
                out.write(f"  ... and {len(o.failures) - MAX_FAILURES_SHOWN} more (see Data Docs)\n")


@user_errors
def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("great_expectations", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    specs = load_suites(args.suites)
    parameters = suite_parameters(project_vars(parse_vars_option(args.vars)))
    if args.list:
        for spec in specs:
            out.write(f"{spec.layer:<9} {spec.name:<28} {spec.relation:<32} {spec.path.name}\n")
        return 0
    folder = args.warehouse_dir or warehouse_dir()
    docs_dir = None if args.no_docs else (args.docs_dir or folder / "data_docs")
    try:
        outcomes = run_suites(folder / WAREHOUSE_FILE, specs, parameters, docs_dir, args.allow_missing)
    except OSError as error:  # unreadable files, a docs dir that is a file
        raise UserError(str(error)) from error
    render_table(outcomes, out)
    passed = all(o.ok or o.status == "SKIPPED" for o in outcomes)
    summary = f"{sum(o.ok for o in outcomes)}/{len(outcomes)} suites passed"
    if docs_dir is not None:
        summary += f"; Data Docs: {docs_dir / 'index.html'}"
    out.write(f"\n{summary}\n")
    return 0 if passed else 1
