"""``python -m pipeline``: the main job.

1. ``python_ingest`` loads prices into raw.prices (defaults from dbt_project.yml vars), then, with
   ``--signals F --signals-name N``, ``python_ingest.signals`` loads F as strategy ``external:N``
   (a refused file stops here, before anything is built);
2. an Ollama server is found at the LLM host ($OLLAMA_HOST by default), or the embedded one is
   started on loopback (with several hosts, var llm_hosts / $OLLAMA_HOSTS, they are used as they are);
3. ``dbt build`` runs every model, test and snapshot with the flags passed on as --vars;
4. the embedded server (if we started it) is stopped and the report summary is printed.

Flags left out keep the defaults in dbt_project.yml; nothing here duplicates them.

Nothing it starts outlives it: on SIGTERM (or SIGHUP) it stops ``dbt build`` and the embedded
server before it exits, and even a SIGKILL takes them along (Linux kills each child whose parent
dies: :mod:`warehouse_core.children`), so a killed run never finishes on its own with no one watching,
and never exports marts built from a half-run (the on-run-end Parquet export is dbt's last step).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

from embedded_ollama.launcher import EmbeddedHandle, EmbeddedOllamaError, ensure_ollama
from llm_client.settings import model_names
from python_ingest import cli as ingest_cli
from python_ingest.signals import cli as signals_cli
from report import cli as report_cli
from warehouse_core.children import die_with_parent
from warehouse_core.cli import user_errors
from warehouse_core.ollama_host import HostSetting, resolve_hosts
from warehouse_core.project import PROJECT_DIR, project_vars

log = logging.getLogger("pipeline")
BIN_DIR = Path(sys.executable).parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", help="comma-separated tickers (default: vars.tickers)")
    parser.add_argument("--start", help="first date YYYY-MM-DD (default: vars.start)")
    parser.add_argument("--end", help="last date YYYY-MM-DD (default: vars.end)")
    parser.add_argument("--source", help="sample | yahoo | csv, comma-separated fallback (default: vars.sources)")
    parser.add_argument("--csv-dir", help="folder of <TICKER>.csv/.parquet files for --source csv")
    parser.add_argument("--refresh", action="store_true", help="fetch prices again even if already loaded")
    llm = parser.add_mutually_exclusive_group()
    llm.add_argument("--enable-llm", dest="enable_llm", action="store_true", default=None, help="run the LLM stages")
    llm.add_argument("--no-llm", dest="enable_llm", action="store_false", help="skip the LLM stages")
    parser.add_argument(
        "--llm-model",
        help="Ollama model name, or several comma-separated, asked side by side (var llm_models; default: the embedded model)",
    )
    parser.add_argument(
        "--llm-hosts",
        help="Ollama hosts, comma-separated, each host or host=N for N requests at once (var llm_hosts; default: $OLLAMA_HOSTS, then $OLLAMA_HOST)",
    )
    parser.add_argument("--llm-fail-fast", action="store_true", default=None, help="stop when the LLM is unavailable")
    parser.add_argument(
        "--memorization-check",
        dest="llm_memorization_check",
        action="store_true",
        default=None,
        help="ask every model named and blind (strategy llm:<model>:blind) and run the recall probe "
        "(var llm_memorization_check; about 2x the LLM time, see docs/memorization.md)",
    )
    parser.add_argument("--use-cv", action="store_true", default=None, help="walk-forward folds in mart_dataset_splits")
    parser.add_argument("--full-refresh", action="store_true", help="rebuild every model (the LLM cache is kept)")
    parser.add_argument(
        "--signals", type=Path, help="CSV/JSON signals file loaded as strategy external:<--signals-name>"
    )
    parser.add_argument("--signals-name", help="name of the external strategy --signals is loaded as")
    parser.add_argument(
        "--capital", type=positive_amount, help="initial capital of every backtest (default: vars.initial_capital)"
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging")
    return parser


def positive_amount(text: str) -> float:
    """``--capital``: a finite number above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number: e.g. --capital 100000") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive amount: e.g. --capital 100000")
    return value


def parse_args(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    args = parser.parse_args(argv)
    if args.llm_memorization_check and project_vars()["llm_blind"]:
        parser.error(
            "--memorization-check asks both twins, but var llm_blind (the blind twin only) is true: set it false"
        )
    if (args.signals is None) != (args.signals_name is None):
        parser.error("--signals and --signals-name go together: e.g. --signals my.csv --signals-name mine")
    return args


def dbt_vars(args: argparse.Namespace) -> dict[str, object]:
    """Only the flags the user gave; everything else keeps its dbt_project.yml default."""
    chosen: dict[str, object] = {}
    if args.tickers:
        chosen["tickers"] = [t.strip().upper() for t in args.tickers.split(",") if t.strip()]
    for name in ("start", "end"):
        if getattr(args, name):
            chosen[name] = getattr(args, name)
    if args.llm_model:
        chosen["llm_models"] = model_names(args.llm_model)
        chosen["llm_model"] = None  # the alias must not override the list given here
    if args.llm_hosts:
        chosen["llm_hosts"] = [entry.strip() for entry in args.llm_hosts.split(",") if entry.strip()]
    for name in ("enable_llm", "llm_fail_fast", "llm_memorization_check", "use_cv"):
        if getattr(args, name) is not None:
            chosen[name] = getattr(args, name)
    if args.capital is not None:
        chosen["initial_capital"] = args.capital
    return chosen


def ingest_args(args: argparse.Namespace) -> list[str]:
    passed: list[str] = []
    for flag in ("tickers", "start", "end", "source", "csv_dir"):
        value = getattr(args, flag)
        if value:
            passed += [f"--{flag.replace('_', '-')}", str(value)]
    if args.refresh:
        passed.append("--refresh")
    if args.verbose:
        passed.append("--verbose")
    return passed


def signals_args(args: argparse.Namespace, chosen: dict[str, object]) -> list[str]:
    """Load --signals with the build's tickers and window, so its warnings match this build."""
    scope = {name: chosen[name] for name in ("tickers", "start", "end") if name in chosen}
    passed = ["--file", str(args.signals), "--name", args.signals_name]
    if scope:
        passed += ["--vars", json.dumps(scope)]
    return [*passed, *(["--verbose"] if args.verbose else [])]


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Stopped(Exception):
    """A stop signal arrived: unwinding stops every child on the way (``subprocess.run`` kills dbt)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise Stopped(signum)


def run_dbt(arguments: list[str]) -> int:
    """``dbt <arguments>`` in the project folder; it is killed if this process dies, however it dies."""
    command = [str(BIN_DIR / "dbt"), *arguments]
    log.info("$ %s", " ".join(command))
    return subprocess.run(command, cwd=PROJECT_DIR, preexec_fn=die_with_parent(signal.SIGKILL)).returncode


def ensure_llm_host(hosts: list[HostSetting]) -> EmbeddedHandle | None:
    """With one LLM host: use the Ollama answering there, or start the embedded one (its handle is returned).

    Several hosts are the user's own servers: they are used as they are (a host that does not
    answer gets no requests; see the LLM stages' log).
    """
    if len(hosts) > 1:
        log.info("LLM hosts: %s", ", ".join(host.url for host in hosts))
        return None
    try:
        return ensure_ollama(hosts[0].url)
    except EmbeddedOllamaError as exc:
        # the LLM models record status 'llm_unavailable' (or stop, with llm_fail_fast)
        log.warning("warning: %s", str(exc).splitlines()[0])
        return None


@user_errors
def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parse_args(parser, argv)
    try:
        chosen = dbt_vars(args)
        hosts = resolve_hosts(chosen.get("llm_hosts", project_vars()["llm_hosts"]), project_vars()["llm_host"])
    except ValueError as exc:
        parser.error(str(exc))  # one line, exit 2, nothing run
    previous = {signum: signal.signal(signum, _stop) for signum in STOP_SIGNALS}
    try:
        return run(args, chosen, hosts)
    except Stopped as stopped:
        log.error(
            "error: stopped by %s before the job finished; what it had started (dbt build, the embedded server) "
            "stopped with it, and the Parquet files under marts/ keep the last finished build: run the job again",
            stopped,
        )
        return 128 + stopped.signum
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run(args: argparse.Namespace, chosen: dict[str, object], hosts: list[HostSetting]) -> int:
    """Ingest, load signals, start the LLM host if needed, build and report."""
    rc = ingest_cli.main(ingest_args(args))  # configures logging
    if rc != 0:
        log.error("error: ingest failed (exit %d); fix the input above and re-run, nothing was built", rc)
        return rc

    if args.capital is not None and args.capital < project_vars()["min_capital"]:
        log.warning(
            "warning: --capital %s is below min_capital %s: passes_capital (so is_valid) is false for every backtest",
            f"{args.capital:,.0f}",
            f"{project_vars()['min_capital']:,.0f}",
        )
    if args.signals is not None:
        rc = signals_cli.main(signals_args(args, chosen))
        if rc != 0:
            log.error("error: the signals file was not loaded (exit %d); fix it and re-run, nothing was built", rc)
            return rc
    enable_llm = chosen.get("enable_llm", project_vars()["enable_llm"])
    handle = ensure_llm_host(hosts) if enable_llm else None
    try:
        build = ["build", *(["--full-refresh"] if args.full_refresh else [])]
        if chosen:
            build += ["--vars", json.dumps(chosen)]
        rc = run_dbt(build)
    finally:
        if handle is not None:
            handle.stop()
    if rc != 0:
        log.error("error: dbt build failed (exit %d); see the failing model or test above", rc)
        return rc
    return report_cli.main([])  # the text report, read from the marts just built
