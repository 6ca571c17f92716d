"""An Ollama-compatible stub for the one failure mode no model here can show: a model that remembers
history. It serves /api/tags (the given models) and /api/chat (the handler's ``answer``); /api/show
is a 404, as for a model without details. Used by tests/llm/test_model_recall.py and
tests/llm/test_memorization_verdict.py; every feature itself runs on the real embedded model elsewhere."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar


class StubOllama(BaseHTTPRequestHandler):
    """Subclass it: set ``models`` and implement ``answer(request) -> dict`` (the JSON reply object)."""

    models: ClassVar[list[str]] = []

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _send(self, payload: dict[str, Any], status: int = 200) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        listed = [{"name": m, "model": m, "digest": str(i) * 64, "size": 1} for i, m in enumerate(self.models)]
        self._send({"models": listed})

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/api/show":
            self._send({"error": "model not found"}, status=404)
            return
        self._send(
            {
                "model": request["model"],
                "message": {"role": "assistant", "content": json.dumps(self.answer(request))},
                "done": True,
                "done_reason": "stop",
                "prompt_eval_count": 20,
                "eval_count": 8,
            }
        )

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving(handler: type[StubOllama]) -> Iterator[str]:
    """The stub on a free loopback port; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
