"""A worker process: ``python -m embedded_ollama.worker_process <settings JSON>``, started by the server.

It loads one copy of a model into an ``xllamacpp.Server`` (llama.cpp's server, one slot, on a random
loopback port, answering only the API key passed in its environment), writes ``{"address": ...}``
as one line to stdout, and serves until its stdin closes. Why a process per copy, and the server's
side of it: :mod:`embedded_ollama.worker`.
"""

from __future__ import annotations

import json
import logging
import os
import sys

from .worker import WORKER_KEY_ENV, WorkerSettings

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """Load the model, report the address, serve until stdin closes; returns the exit code."""
    # passive OpenMP waiting must be chosen before xllamacpp loads (see embedded_ollama.__main__)
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    import faulthandler

    faulthandler.enable()
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s %(levelname)s embedded_ollama.worker[{os.getpid()}]: %(message)s",
        stream=sys.stderr,
    )
    args = sys.argv[1:] if argv is None else argv
    settings = WorkerSettings(**json.loads(args[0]))
    key = os.environ.pop(WORKER_KEY_ENV, "")
    if not key:
        logger.error("no API key in %s; the worker is started by the embedded server, not by hand", WORKER_KEY_ENV)
        return 2
    ready = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # whatever llama.cpp prints goes to the log, not the pipe

    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = settings.model_path
    params.n_ctx = settings.num_ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = settings.threads
    params.cpuparams_batch.n_threads = settings.batch_threads
    params.hostnames = ["127.0.0.1"]
    params.port = 0
    params.api_keys = [key]
    params.verbosity = 0
    params.cache_prompt = settings.cache_prompt
    params.cache_ram_mib = settings.cache_ram_mib
    try:
        server = xllamacpp.Server(params)
    except Exception as exc:
        logger.error("cannot load %s: %s", settings.model_path, exc)
        return 1
    ready.write(json.dumps({"address": server.listening_address}) + "\n")
    ready.close()
    sys.stdin.buffer.read()  # returns when the embedded server closes our stdin or dies
    del server
    return 0


if __name__ == "__main__":
    sys.exit(main())
