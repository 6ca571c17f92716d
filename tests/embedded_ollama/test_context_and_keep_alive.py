"""A request's ``num_ctx`` and ``keep_alive`` are honoured as Ollama honours them, and ``/api/show``
and ``/api/ps`` tell the truth about both. A private server whose default context is 256 tokens
(so a prompt longer than the default is short enough to evaluate quickly) and one copy."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import httpx
import ollama
import pytest

from embedded_ollama import EMBEDDED_MODEL_NAME, EmbeddedHandle, start_on_free_port

pytestmark = pytest.mark.model

DEFAULT_CTX = 256
TRAINED_CTX = 8192  # SmolLM2-135M's llama.context_length
LONG_PROMPT = "Summarise: " + "The quick brown fox jumps over the lazy dog. " * 27  # ~300 tokens


@pytest.fixture(scope="module")
def small_context_server(embedded_models_dir: Path) -> Iterator[EmbeddedHandle]:
    args = ["--models-dir", str(embedded_models_dir), "--num-parallel", "1", "--num-ctx", str(DEFAULT_CTX)]
    with start_on_free_port(extra_args=args) as handle:
        yield handle


@pytest.fixture(scope="module")
def client(small_context_server: EmbeddedHandle) -> ollama.Client:
    return ollama.Client(host=small_context_server.host)


def _resident(client: ollama.Client) -> list[tuple[str, int]]:
    return [(m.model or "", int(m.context_length or 0)) for m in client.ps().models]


def _ask(client: ollama.Client, content: str, **options: object) -> ollama.ChatResponse:
    return client.chat(
        model=EMBEDDED_MODEL_NAME,
        messages=[{"role": "user", "content": content}],
        options={"temperature": 0, "num_predict": 4, **options},
    )


def test_show_says_which_context_a_request_gets_and_which_it_may_ask_for(client: ollama.Client) -> None:
    shown = client.show(EMBEDDED_MODEL_NAME)
    assert shown.modelinfo is not None and shown.modelinfo["llama.context_length"] == TRAINED_CTX
    assert f"num_ctx                        {DEFAULT_CTX}" in (shown.parameters or "")


def test_a_request_num_ctx_above_the_loaded_context_is_honoured(client: ollama.Client) -> None:
    """The server used to cap num_ctx at the context it loaded: a long prompt got a 400 its own option could not fix."""
    with pytest.raises(ollama.ResponseError) as refused:
        _ask(client, LONG_PROMPT)
    assert refused.value.status_code == 400
    assert f"exceeds the context length ({DEFAULT_CTX} tokens)" in refused.value.error
    assert f"set options.num_ctx up to {TRAINED_CTX}" in refused.value.error
    answer = _ask(client, LONG_PROMPT, num_ctx=384)
    assert (answer.prompt_eval_count or 0) > DEFAULT_CTX and answer.done
    assert _resident(client) == [(EMBEDDED_MODEL_NAME, 384)]
    smaller = _ask(client, "Say hi.", num_ctx=128)  # a smaller context is honoured on the larger copies
    assert smaller.done and _resident(client) == [(EMBEDDED_MODEL_NAME, 384)]


def test_num_ctx_is_capped_at_the_trained_context_and_the_limit_is_named(client: ollama.Client) -> None:
    assert _ask(client, "Say hi.", num_ctx=100_000).done
    assert _resident(client) == [(EMBEDDED_MODEL_NAME, TRAINED_CTX)]
    with pytest.raises(ollama.ResponseError) as refused:
        _ask(client, "word " * 200_000, num_ctx=100_000)  # 1 MB: more than 8192 tokens of any kind
    assert refused.value.status_code == 400
    assert f"takes at most {TRAINED_CTX} tokens: shorten the input" in refused.value.error


def test_keep_alive_zero_unloads_and_the_next_request_loads_again(client: ollama.Client) -> None:
    """``keep_alive: 0`` answered "unload" but the model stayed in /api/ps."""
    assert client.chat(model=EMBEDDED_MODEL_NAME, messages=[]).done_reason == "load"
    unloaded = client.chat(model=EMBEDDED_MODEL_NAME, messages=[], keep_alive=0)
    assert unloaded.done_reason == "unload"
    assert _resident(client) == []
    assert _ask(client, "Say hi.").done
    assert _resident(client) == [(EMBEDDED_MODEL_NAME, DEFAULT_CTX)]


def test_keep_alive_sets_when_the_idle_model_leaves(client: ollama.Client) -> None:
    _ask(client, "Say hi.", num_ctx=DEFAULT_CTX)
    client.chat(model=EMBEDDED_MODEL_NAME, messages=[], keep_alive="10m")
    expires = client.ps().models[0].expires_at
    assert expires is not None
    left = (expires - datetime.now(timezone.utc)).total_seconds()
    assert 540 < left <= 600
    client.generate(model=EMBEDDED_MODEL_NAME, prompt="Say hi.", options={"num_predict": 2}, keep_alive="1s")
    deadline = time.monotonic() + 15
    while _resident(client) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _resident(client) == [], "the model outlived its keep_alive of 1 s"


def test_a_bad_keep_alive_is_a_400(small_context_server: EmbeddedHandle) -> None:
    answer = httpx.post(
        small_context_server.host + "/api/generate",
        json={"model": EMBEDDED_MODEL_NAME, "prompt": "hi", "keep_alive": "soon"},
    )
    assert answer.status_code == 400 and "keep_alive" in answer.json()["error"]
