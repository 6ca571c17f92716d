"""A minimal Ollama-compatible HTTP server that waits a fixed time and answers a valid JSON reply.

For the fan-out benchmark only (benchmarks/llm_fanout.py): a real GPU host is latency-bound from
the client's side (it answers each request after the model's time, whatever the client does), so
servers with a fixed injected latency show how the client spreads requests over hosts, without
needing several GPUs. ``/api/tags`` lists one model; ``/api/chat`` sleeps ``--latency-ms`` and
answers the smallest object that satisfies the request's ``format`` JSON schema (enums: the first
value; numbers: the middle of their bounds; strings: one word; arrays: empty).

    python benchmarks/ollama_latency_stub.py --ports 0,0,0,0 --latency-ms 250 --ready-file ready.json
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

STUB_MODEL = "stub:latency"
STUB_DIGEST = "5" * 64


def sample(schema: dict[str, Any]) -> Any:
    """The simplest value valid for ``schema`` (the subset pydantic writes for the stage answers)."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {name: sample(part) for name, part in schema.get("properties", {}).items()}
    if kind == "array":
        return []
    if kind == "string":
        return "steady"
    if kind in ("number", "integer"):
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        if low is not None and high is not None:
            return (low + high) / 2
        if low is not None:
            return low + 1
        return (high - 1) if high is not None else 0
    return None


class StubHandler(BaseHTTPRequestHandler):
    latency_seconds = 0.25

    def _send(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/api/version":
            self._send({"version": "0.0.0-stub"})
        else:
            self._send({"models": [{"name": STUB_MODEL, "model": STUB_MODEL, "digest": STUB_DIGEST, "size": 1}]})

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(self.latency_seconds)
        nanoseconds = int(self.latency_seconds * 1e9)
        self._send(
            {
                "model": request.get("model"),
                "created_at": "2026-01-01T00:00:00Z",
                "message": {"role": "assistant", "content": json.dumps(sample(request.get("format") or {}))},
                "done": True,
                "done_reason": "stop",
                "prompt_eval_count": 100,
                "prompt_eval_duration": nanoseconds // 10,
                "eval_count": 40,
                "eval_duration": nanoseconds - nanoseconds // 10,
            }
        )

    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ports", default="0", help="comma-separated ports, 0 for a free one")
    parser.add_argument("--latency-ms", type=float, default=250.0)
    parser.add_argument("--ready-file", type=Path, required=True, help="the servers' URLs are written here")
    args = parser.parse_args()
    StubHandler.latency_seconds = args.latency_ms / 1000
    servers = [ThreadingHTTPServer(("127.0.0.1", int(port)), StubHandler) for port in args.ports.split(",")]
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    urls = [f"http://127.0.0.1:{server.server_address[1]}" for server in servers]
    args.ready_file.write_text(json.dumps(urls))
    threading.Event().wait()


if __name__ == "__main__":
    main()
