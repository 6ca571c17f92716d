"""Stalled clients cannot hold the server: a connection that does not start a request, or does not
finish sending one, is closed once its deadline passes. The real server class on a real loopback
socket, with deadlines of a fraction of a second instead of 60 and 30 s so the test is quick; no
request here reaches a model."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from embedded_ollama.doors import DoorPolicy
from embedded_ollama.server import EmbeddedOllamaServer

IDLE, REQUEST = 0.5, 0.5


@pytest.fixture()
def short_deadline_server() -> Iterator[EmbeddedOllamaServer]:
    server = EmbeddedOllamaServer("127.0.0.1", 0, DoorPolicy(idle_timeout=IDLE, request_timeout=REQUEST))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _closed_after(server: EmbeddedOllamaServer, data: bytes, give_up: float = 10.0) -> tuple[float, bytes]:
    """Send ``data``, then read until the server closes the connection: (seconds it took, what came back)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=give_up) as sock:
        began = time.monotonic()
        sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(4096):
                received += chunk
        except TimeoutError:
            pytest.fail(f"the server kept the connection open for {give_up} s after {data[:60]!r}")
        return time.monotonic() - began, received


def test_an_idle_connection_is_closed(short_deadline_server: EmbeddedOllamaServer) -> None:
    seconds, received = _closed_after(short_deadline_server, b"")
    assert received == b"" and seconds < IDLE + 3


def test_a_half_sent_request_head_is_closed(short_deadline_server: EmbeddedOllamaServer) -> None:
    seconds, _ = _closed_after(short_deadline_server, b"POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    assert seconds < REQUEST + 3


def test_a_half_sent_body_gets_a_408_and_is_closed(short_deadline_server: EmbeddedOllamaServer) -> None:
    head = b'POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"model"'
    seconds, received = _closed_after(short_deadline_server, head)
    assert received.startswith(b"HTTP/1.1 408") and b"not received within" in received
    assert seconds < REQUEST + 3


def test_a_trickling_request_is_closed_at_its_deadline(short_deadline_server: EmbeddedOllamaServer) -> None:
    """A byte every 0.1 s never lets one read time out; the deadline covers the whole request."""
    with socket.create_connection(("127.0.0.1", short_deadline_server.port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        began = time.monotonic()
        stop = threading.Event()

        def trickle() -> None:
            while not stop.wait(0.1):
                try:
                    sock.sendall(b"a")
                except OSError:
                    return

        threading.Thread(target=trickle, daemon=True).start()
        try:
            received = sock.recv(4096)  # b"" once the server closes the connection
        except TimeoutError:
            pytest.fail("a trickling request kept its connection for 10 s")
        finally:
            stop.set()
        assert received == b"" and time.monotonic() - began < REQUEST + 3


def test_a_prompt_client_is_still_served_on_a_kept_alive_connection(
    short_deadline_server: EmbeddedOllamaServer,
) -> None:
    with socket.create_connection(("127.0.0.1", short_deadline_server.port), timeout=5) as sock:
        for _ in range(2):
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            answer = b""
            while not answer.endswith(b"Ollama is running"):
                answer += sock.recv(4096)
            assert answer.startswith(b"HTTP/1.1 200")
            time.sleep(IDLE / 2)
