"""Command line: ``python -m embedded_ollama --host 127.0.0.1 --port 11434``.

Binds the (loopback-only) address first, then makes sure the default model's Q8_0 file is there
(converting it on first start), checks and loads it (or, if that fails, the packaged Q4_1 file,
after one warning line), then serves every installed model until SIGINT/SIGTERM, or until
``--parent-pid`` dies. Reads Ollama's ``OLLAMA_NUM_PARALLEL``, ``OLLAMA_KEEP_ALIVE`` and
``OLLAMA_ORIGINS`` as Ollama does.
"""

from __future__ import annotations

import os

# llama.cpp (the xllamacpp wheel is built with OpenMP) waits at a thread barrier after every
# operation, and OpenMP's default is to spin there; beside another busy process a spinning thread
# burns the core its partner needs, and generation fell from ~110 to 2-35 tokens/s. llama.cpp's
# own `poll` setting only applies to its non-OpenMP thread pool. Passive waiting must be chosen
# before the OpenMP runtime loads (with xllamacpp), so it is set here, first thing.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import argparse
import faulthandler
import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from .catalog import EMBEDDED_MODEL_NAME, SMOLLM2_Q4_1, SMOLLM2_Q8_0, CatalogModel, default_models_dir
from .doors import DoorPolicy
from .install import prepare_default_model
from .model import DEFAULT_NUM_CTX, GENERATION_THREADS, EngineConfig, default_batch_threads, default_num_parallel
from .netutil import is_loopback_host
from .pool import ModelPool
from .protocol import DEFAULT_KEEP_ALIVE_SECONDS, parse_duration
from .server import EmbeddedOllamaServer, OllamaApp

logger = logging.getLogger("embedded_ollama")


def _positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The CLI's arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m embedded_ollama",
        description=f"Serve the installed embedded models ({EMBEDDED_MODEL_NAME} by default) through Ollama's HTTP API (loopback only).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=11434, help="port to bind, 0 for a free one (default 11434)")
    parser.add_argument(
        "--num-ctx",
        type=_positive_int,
        default=DEFAULT_NUM_CTX,
        help=f"context (tokens) of a request that asks for none (default {DEFAULT_NUM_CTX}); "
        "a request's options.num_ctx may ask for more, up to the model's trained context",
    )
    parser.add_argument(
        "--keep-alive",
        default=None,
        help="how long a model stays loaded after its last request, e.g. 5m, 30s, 0 (unload at once), -1 (forever) "
        "(default: $OLLAMA_KEEP_ALIVE if set, else 5m); a request's keep_alive wins",
    )
    parser.add_argument(
        "--threads",
        type=_positive_int,
        default=GENERATION_THREADS,
        help=f"CPU threads generating tokens (default {GENERATION_THREADS}: more only wait at barriers)",
    )
    parser.add_argument(
        "--batch-threads",
        type=_positive_int,
        default=default_batch_threads(),
        help="CPU threads evaluating prompts (default: every core, at most 4)",
    )
    parser.add_argument(
        "--num-parallel",
        type=_positive_int,
        default=None,
        help="requests one model serves at once, each on its own copy of the model in a worker process "
        "(default: $OLLAMA_NUM_PARALLEL if set, else one per core, at most 2; Qwen2.5-Coder-1.5B always gets one)",
    )
    parser.add_argument(
        "--cache-prompt",
        action="store_true",
        help="reuse the KV cache between requests (faster shared prefixes, answers may then depend on history)",
    )
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=None,
        help="folder of converted and assembled models (default: <venv>/share/...)",
    )
    parser.add_argument("--ready-file", type=Path, default=None, help="write {url, pid} here once serving")
    parser.add_argument("--parent-pid", type=int, default=None, help="exit when this process is gone")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def resolve_num_parallel(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``--num-parallel``, else ``OLLAMA_NUM_PARALLEL`` (as Ollama reads it), else one copy per core, at most 2."""
    if args.num_parallel is not None:
        return int(args.num_parallel)
    text = os.environ.get("OLLAMA_NUM_PARALLEL", "").strip()
    if not text:
        return default_num_parallel()
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        parser.error(
            f"OLLAMA_NUM_PARALLEL={text!r} is not a whole number >= 1; fix or unset it, or pass --num-parallel"
        )


def resolve_keep_alive(args: argparse.Namespace, parser: argparse.ArgumentParser) -> float:
    """Seconds a model stays loaded: ``--keep-alive``, else ``OLLAMA_KEEP_ALIVE`` (as Ollama reads it), else 5 minutes."""
    for text, source in ((args.keep_alive, "--keep-alive"), (os.environ.get("OLLAMA_KEEP_ALIVE"), "OLLAMA_KEEP_ALIVE")):
        if text is not None and text.strip():
            try:
                return parse_duration(text)
            except ValueError as exc:
                parser.error(f"{source}: {exc}")
    return DEFAULT_KEEP_ALIVE_SECONDS


def _write_ready_file(path: Path, url: str) -> None:
    """Atomically publish the server URL for the launcher."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"url": url, "pid": os.getpid()}))
    tmp.replace(path)


def _watch_parent(parent_pid: int, server: EmbeddedOllamaServer) -> None:
    """Shut the server down once the launching process has exited."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            logger.warning("parent process %d is gone; shutting down", parent_pid)
            server.shutdown()
            return


def open_pool(args: argparse.Namespace) -> tuple[ModelPool, CatalogModel]:
    """The installed models, with the default one loaded: SmolLM2 Q8_0, else (one warning) the packaged Q4_1."""
    models_dir = args.models_dir or default_models_dir()
    config = EngineConfig(
        num_ctx=args.num_ctx,
        threads=args.threads,
        batch_threads=args.batch_threads,
        cache_prompt=args.cache_prompt,
        num_parallel=args.num_parallel,
    )
    refused: dict[str, str] = {}
    problem = prepare_default_model(models_dir)
    if problem is not None:
        refused[SMOLLM2_Q8_0.name] = f"{problem}; run `bin/setup` again, or use {SMOLLM2_Q4_1.name}"
        logger.warning("%s is not served (%s); serving the packaged %s", SMOLLM2_Q8_0.name, problem, SMOLLM2_Q4_1.name)
    pool = ModelPool(models_dir, config, refused, keep_alive=args.keep_alive_seconds)
    default = SMOLLM2_Q4_1 if problem is not None else SMOLLM2_Q8_0
    pool.load(default)
    return pool, default


def main(argv: list[str] | None = None) -> int:
    """Run the server; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.num_parallel = resolve_num_parallel(args, parser)
    args.keep_alive_seconds = resolve_keep_alive(args, parser)
    # a crash inside llama.cpp kills the process without a Python traceback: print the threads'
    # stacks to stderr (the server log when the launcher started it) so the log says where
    faulthandler.enable()
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    cores = os.cpu_count() or 1
    if args.num_parallel > cores:
        logger.warning(
            "%d copies of the model on %d cores: each copy is a full model in RAM (~0.33 GB for SmolLM2-135M), "
            "and copies beyond the cores only share them; set OLLAMA_NUM_PARALLEL or --num-parallel to at most %d",
            args.num_parallel,
            cores,
            cores,
        )
    if not is_loopback_host(args.host):
        logger.error("refusing to bind %s: the embedded server only listens on loopback addresses", args.host)
        return 2
    try:
        server = EmbeddedOllamaServer(args.host, args.port, DoorPolicy.from_environment(os.environ))
    except OSError as exc:
        logger.error("cannot listen on %s:%d: %s", args.host, args.port, exc)
        return 1
    pool: ModelPool | None = None
    try:
        pool, default = open_pool(args)
        server.attach(OllamaApp(pool))
        installed = ", ".join(model.name for model in pool.installed())
        logger.info("serving %s (loaded), installed: %s, at %s", default.name, installed, server.url)
        if args.ready_file is not None:
            _write_ready_file(args.ready_file, server.url)

        def stop(signum: int, _frame: FrameType | None) -> None:
            logger.info("received signal %d; shutting down", signum)
            threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if args.parent_pid is not None:
            threading.Thread(target=_watch_parent, args=(args.parent_pid, server), daemon=True).start()
        server.serve_forever(poll_interval=0.2)
    except Exception:
        logger.exception("embedded Ollama server failed")
        return 1
    finally:
        server.server_close()
        if pool is not None:
            pool.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
