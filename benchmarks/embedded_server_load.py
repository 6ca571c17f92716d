"""Many clients at once on the embedded server: does every one get in, and get its answer?

Starts the embedded server on a free loopback port (or uses ``--host``), opens ``--clients``
connections at the same moment (threads released by one barrier), sends one request on each and
prints how long connecting took, how long the answers took and how many clients failed. Connecting
shows the listen backlog: a connection the kernel cannot queue is dropped and retried by the client
after a second or more (socketserver's default backlog of 5 did that to most of 100 clients).
Bounded in time: every client gives up after ``--timeout`` seconds.

    .venv/bin/python benchmarks/embedded_server_load.py                # 100 clients, GET /api/version each
    .venv/bin/python benchmarks/embedded_server_load.py --chat         # 100 clients, one short chat each
    .venv/bin/python benchmarks/embedded_server_load.py --one-connection 1000   # answers/s, one after another

``--one-connection N`` sends N ``GET /api/version`` one after another on one kept-alive connection
instead: the server's own cost per answer (before TCP_NODELAY each answer waited 40 ms for a
delayed ACK: 22 answers/s).
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import socket
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from embedded_ollama import EMBEDDED_MODEL_NAME, start_on_free_port

logger = logging.getLogger("benchmarks.embedded_server_load")

VERSION_REQUEST = b"GET /api/version HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def chat_request(index: int, model: str = EMBEDDED_MODEL_NAME) -> bytes:
    """A short, non-streamed ``/api/chat`` request (8 tokens), different for every client."""
    body = json.dumps(
        {
            "model": model,
            "messages": [{"role": "user", "content": f"Client {index}: name one colour."}],
            "stream": False,
            "options": {"num_predict": 8, "temperature": 0, "seed": 1},
        }
    ).encode()
    head = f"POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    return head.encode() + body


@dataclass(frozen=True)
class ClientResult:
    """One client's connection and answer."""

    connect_seconds: float
    """From calling connect() to the connection being established (``inf`` if it never was)."""
    answer_seconds: float
    """From calling connect() to the whole answer read (``inf`` if none came)."""
    status: int | None
    error: str = ""


def _one_client(host: str, port: int, request: bytes, timeout: float, start: threading.Barrier) -> ClientResult:
    start.wait()
    began = time.perf_counter()
    connected = float("inf")
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            connected = time.perf_counter() - began
            sock.sendall(request)
            response = http.client.HTTPResponse(sock)
            response.begin()
            response.read()
            return ClientResult(connected, time.perf_counter() - began, response.status)
    except (OSError, http.client.HTTPException) as exc:
        return ClientResult(connected, float("inf"), None, f"{type(exc).__name__}: {exc}")


def many_clients(url: str, requests: list[bytes], timeout: float = 30.0) -> list[ClientResult]:
    """Send each request on its own connection, all opened at the same moment; one result per request."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 11434
    start = threading.Barrier(len(requests))
    results: list[ClientResult | None] = [None] * len(requests)

    def run(index: int) -> None:
        results[index] = _one_client(host, port, requests[index], timeout, start)

    threads = [threading.Thread(target=run, args=(index,), daemon=True) for index in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 10)
    return [result or ClientResult(float("inf"), float("inf"), None, "no result") for result in results]


def answers_per_second(url: str, count: int) -> float:
    """``count`` ``GET /api/version`` one after another on one kept-alive connection: answers per second."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 11434, timeout=30)
    try:
        began = time.perf_counter()
        for _ in range(count):
            connection.request("GET", "/api/version")
            connection.getresponse().read()
        return count / (time.perf_counter() - began)
    finally:
        connection.close()


def summary(results: list[ClientResult]) -> str:
    """Failures, then connect and answer times (median, 95th percentile, max) in seconds."""

    def spread(values: list[float]) -> str:
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return f"median {statistics.median(ordered):.3f}, p95 {p95:.3f}, max {ordered[-1]:.3f}"

    failed = [result for result in results if result.status != 200]
    slow_connects = sum(result.connect_seconds >= 1.0 for result in results)
    lines = [
        f"clients {len(results)}, answered 200: {len(results) - len(failed)}, failed: {len(failed)}",
        f"connect s: {spread([r.connect_seconds for r in results])} ({slow_connects} took >= 1 s)",
        f"answer s:  {spread([r.answer_seconds for r in results])}",
    ]
    lines += [f"  failure: {result.status} {result.error}" for result in failed[:5]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100, help="clients at once (default 100)")
    parser.add_argument("--chat", action="store_true", help="each client asks a short chat instead of /api/version")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a client waits (default 120)")
    parser.add_argument("--host", default=None, help="use this server instead of starting one")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the whole burst (default 1)")
    parser.add_argument(
        "--one-connection", type=int, default=0, metavar="N", help="N answers on one connection instead"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    handle = None if args.host else start_on_free_port()
    url = args.host or (handle.host if handle else "")
    try:
        for round_number in range(1, args.rounds + 1):
            if args.one_connection:
                rate = answers_per_second(url, args.one_connection)
                print(f"round {round_number}: {args.one_connection} GET /api/version on one connection: {rate:.0f}/s")
                continue
            requests = [chat_request(i) if args.chat else VERSION_REQUEST for i in range(args.clients)]
            began = time.perf_counter()
            results = many_clients(url, requests, timeout=args.timeout)
            kind = "chat (8 tokens)" if args.chat else "GET /api/version"
            print(f"round {round_number}: {kind}, wall {time.perf_counter() - began:.2f} s")
            print(summary(results))
    finally:
        if handle is not None:
            handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
