"""The embedded server's doors, tried on the real server as an attacker or a broken client would:
only its own user's programs may drive it, every body is capped however it is framed, an input too
long for any context is refused without holding a copy of the model, and 100 clients at once all
get in (docs/embedded-server.md, "Doors and limits")."""

from __future__ import annotations

import http.client
import json
import socket
import time
from urllib.parse import urlsplit

import httpx
import ollama
import pytest

from benchmarks.embedded_server_load import VERSION_REQUEST, many_clients, summary
from embedded_ollama import EMBEDDED_MODEL_NAME, EmbeddedHandle

pytestmark = pytest.mark.model

CHAT = {"model": EMBEDDED_MODEL_NAME, "messages": [{"role": "user", "content": "Say hi."}], "stream": False}


def _raw(server: EmbeddedHandle, data: bytes, timeout: float = 10.0) -> tuple[int, bytes]:
    """Send raw bytes on a fresh connection; the status and body of the answer (a hang fails the test)."""
    parts = urlsplit(server.host)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.read()


# --------------------------------------------------------------------------- Origin and Host


def test_a_web_page_from_another_site_is_refused(embedded_ollama_server: EmbeddedHandle) -> None:
    """A simple cross-site POST (no preflight: text/plain) from any page the user visits used to be answered."""
    answer = httpx.post(
        embedded_ollama_server.host + "/api/chat",
        content=json.dumps(CHAT),
        headers={"Origin": "http://evil.example", "Content-Type": "text/plain"},
    )
    assert answer.status_code == 403
    assert "OLLAMA_ORIGINS" in answer.json()["error"]
    listing = httpx.get(embedded_ollama_server.host + "/v1/models", headers={"Origin": "https://evil.example"})
    assert listing.status_code == 403 and listing.json()["error"]["type"] == "api_error"


def test_dns_rebinding_is_refused_by_the_host_check(embedded_ollama_server: EmbeddedHandle) -> None:
    """evil.example resolving to 127.0.0.1: same-origin for the browser, but the Host names another site."""
    port = urlsplit(embedded_ollama_server.host).port
    answer = httpx.get(
        embedded_ollama_server.host + "/api/tags",
        headers={"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"},
    )
    assert answer.status_code == 403 and "not this machine" in answer.json()["error"]


@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://127.0.0.1", "vscode-webview://abc"])
def test_local_pages_and_apps_get_cors_answers(embedded_ollama_server: EmbeddedHandle, origin: str) -> None:
    """Ollama's default origins: a page served from this machine (or an editor webview) may call it."""
    answer = httpx.get(embedded_ollama_server.host + "/api/version", headers={"Origin": origin})
    assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == origin
    preflight = httpx.options(
        embedded_ollama_server.host + "/api/chat",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204 and "POST" in preflight.headers["Access-Control-Allow-Methods"]


def test_clients_without_an_origin_and_local_hosts_are_served(embedded_ollama_server: EmbeddedHandle) -> None:
    port = urlsplit(embedded_ollama_server.host).port
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "myapp.localhost"):
        assert httpx.get(embedded_ollama_server.host + "/api/version", headers={"Host": host}).status_code == 200


# --------------------------------------------------------------------------- bodies


@pytest.mark.parametrize(
    ("head", "body", "status", "says"),
    [
        ("Content-Length: abc", b"{}", 400, "invalid Content-Length"),
        ("Content-Length: -5", b"{}", 400, "invalid Content-Length"),
        ("Content-Length: 999999999", b"", 413, "too large"),
        ("Content-Length: 2\r\nContent-Length: 3", b"{}", 400, "conflicting Content-Length"),
        ("Transfer-Encoding: chunked", b"-1\r\n" + b"x" * 4096, 400, "invalid chunk size"),
        ("Transfer-Encoding: chunked", b"+2\r\n{}\r\n0\r\n\r\n", 400, "invalid chunk size"),
        ("Transfer-Encoding: chunked", b"zz\r\n{}\r\n0\r\n\r\n", 400, "invalid chunk size"),
        ("Transfer-Encoding: chunked", b"1000001\r\n", 413, "too large"),
        ("Transfer-Encoding: chunked\r\nContent-Length: 2", b"2\r\n{}\r\n0\r\n\r\n", 400, "both"),
        ("Transfer-Encoding: gzip", b"{}", 501, "unsupported Transfer-Encoding"),
    ],
)
def test_every_body_framing_is_checked_and_capped(
    embedded_ollama_server: EmbeddedHandle, head: str, body: bytes, status: int, says: str
) -> None:
    """``Content-Length: abc`` was a 500; a chunk size of -1 read the body to the end, skipping the cap."""
    request = f"POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n\r\n".encode() + body
    got, answer = _raw(embedded_ollama_server, request)
    assert (got, says in json.loads(answer)["error"]) == (status, True), answer


def test_a_chunked_body_within_the_cap_is_served(embedded_ollama_server: EmbeddedHandle) -> None:
    payload = json.dumps({"model": EMBEDDED_MODEL_NAME}).encode()
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (payload[:10], payload[10:])) + b"0\r\n\r\n"
    request = b"POST /api/show HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked
    status, answer = _raw(embedded_ollama_server, request)
    assert status == 200 and json.loads(answer)["license"] == "Apache-2.0"


def _deep_schema_request(depth: int) -> bytes:
    """A chat request whose ``format`` is a schema of objects nested ``depth`` deep."""
    schema = '{"type": "object"}'
    for _ in range(depth):
        schema = '{"type": "object", "properties": {"a": ' + schema + "}}"
    head = json.dumps({"model": EMBEDDED_MODEL_NAME, "messages": [{"role": "user", "content": "x"}]})
    return (head[:-1] + ', "format": ' + schema + "}").encode()


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, _deep_schema_request(400)], ids=["json", "schema"])
def test_a_body_nested_too_deep_is_a_400(embedded_ollama_server: EmbeddedHandle, body: bytes) -> None:
    """Both were 500s (Python's RecursionError in the JSON parser, or in the schema's checks)."""
    answer = httpx.post(embedded_ollama_server.host + "/api/chat", content=body)
    assert answer.status_code == 400 and "nested too deeply" in answer.json()["error"]


def test_an_input_too_long_for_any_context_is_refused_without_waiting_for_a_copy(
    embedded_ollama_server: EmbeddedHandle, embedded_server_copies: int
) -> None:
    """A 2 MB prompt was tokenised in full before its refusal, holding a copy for seconds (45 s for 50 MB).

    Now it is refused from its size alone: while every copy is busy with an answer, its 400 comes
    before any of them has finished (the server's own ``total_duration`` says when each did), and
    the message names the limit.
    """
    streams = []
    for n in range(embedded_server_copies):  # one answer per copy, each under way
        sent = time.monotonic()
        stream = ollama.Client(host=embedded_ollama_server.host).chat(
            model=EMBEDDED_MODEL_NAME,
            messages=[{"role": "user", "content": f"Write a long story about ship number {n}."}],
            options={"temperature": 0, "num_predict": 60},
            stream=True,
        )
        next(stream)
        streams.append((sent, stream))
    with pytest.raises(ollama.ResponseError) as refused:
        ollama.Client(host=embedded_ollama_server.host, timeout=60).chat(
            model=EMBEDDED_MODEL_NAME, messages=[{"role": "user", "content": "word " * 400_000}]
        )
    refused_at = time.monotonic()
    finished = [sent + (list(stream)[-1].total_duration or 0) / 1e9 for sent, stream in streams]
    assert refused_at < min(finished), "the refusal waited for a copy of the model"
    assert refused.value.status_code == 400
    assert "2,000,000 bytes" in refused.value.error and "shorten the input" in refused.value.error


# --------------------------------------------------------------------------- many clients


def test_a_hundred_clients_at_once_all_get_in_and_are_answered(embedded_ollama_server: EmbeddedHandle) -> None:
    """With socketserver's backlog of 5, most of 100 simultaneous connections waited for a SYN
    retransmit (>= 1 s) and some timed out; now the kernel queues them all."""
    results = many_clients(embedded_ollama_server.host, [VERSION_REQUEST] * 100, timeout=15)
    assert all(result.status == 200 for result in results), summary(results)
    assert max(result.connect_seconds for result in results) < 1.0, summary(results)
