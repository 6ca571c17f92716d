"""Pure parts of the embedded server: names, hosts, options, schemas, GGUF metadata, metrics."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest

from embedded_ollama import EMBEDDED_MODEL_NAME, EmbeddedOllamaError, ensure_ollama, openai_compat
from embedded_ollama.__main__ import build_parser, resolve_keep_alive, resolve_num_parallel
from embedded_ollama.catalog import SMOLLM2_Q4_1, default_models_dir, find_model
from embedded_ollama.doors import DoorPolicy
from embedded_ollama.gguf_meta import read_gguf_metadata
from embedded_ollama.launcher import start_embedded_server
from embedded_ollama.netutil import free_loopback_port, is_loopback_host
from embedded_ollama.protocol import (
    ApiError,
    ChatRequest,
    GenerateRequest,
    GenerationTally,
    Options,
    chat_request,
    format_schema,
    generate_request,
    guided_schema,
    keep_alive_seconds,
    parse_duration,
    sampling_fields,
    schema_violation,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (EMBEDDED_MODEL_NAME, EMBEDDED_MODEL_NAME),
        ("SmolLM2:135M-Instruct-Q8_0", EMBEDDED_MODEL_NAME),
        ("smollm2:135m-instruct-q4_1", "smollm2:135m-instruct-q4_1"),
        (f"registry.ollama.ai/library/{EMBEDDED_MODEL_NAME}", EMBEDDED_MODEL_NAME),
        ("qwen2.5-coder:1.5b-instruct-q4_k_m", "qwen2.5-coder:1.5b-instruct-q4_K_M"),
        ("smollm2", None),
        ("smollm2:latest", None),
        ("smollm2:135m", None),
        ("llama3.1:8b", None),
    ],
)
def test_model_name_matching(name: str, expected: str | None) -> None:
    found = find_model(name)
    assert (found.name if found is not None else None) == expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.0.0.5", False),
    ],
)
def test_loopback_detection(host: str, expected: bool) -> None:
    assert is_loopback_host(host) is expected


def test_launcher_refuses_non_loopback_addresses() -> None:
    with pytest.raises(EmbeddedOllamaError, match="loopback"):
        start_embedded_server("0.0.0.0", 0)


def test_ensure_ollama_without_permission_to_start_raises() -> None:
    with pytest.raises(EmbeddedOllamaError, match="no Ollama server answers"):
        ensure_ollama(f"http://127.0.0.1:{free_loopback_port()}", start_embedded=False)


def test_cli_refuses_non_loopback_host() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "embedded_ollama", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "loopback" in done.stderr


def test_num_parallel_follows_the_flag_then_ollama_num_parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = build_parser()
    monkeypatch.setenv("OLLAMA_NUM_PARALLEL", "1")
    assert resolve_num_parallel(parser.parse_args([]), parser) == 1
    assert resolve_num_parallel(parser.parse_args(["--num-parallel", "3"]), parser) == 3


def test_cli_refuses_a_bad_ollama_num_parallel() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "embedded_ollama", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "OLLAMA_NUM_PARALLEL": "two"},
    )
    assert done.returncode == 2 and "OLLAMA_NUM_PARALLEL='two' is not a whole number" in done.stderr


def test_sampling_fields_apply_ollama_defaults_and_translate_options() -> None:
    fields = sampling_fields(None)
    assert fields["temperature"] == 0.8 and fields["top_p"] == 0.9 and "seed" not in fields
    fields = sampling_fields(Options(temperature=0, seed=3, num_predict=50, num_keep=4, stop="###", num_gpu=1))
    assert (fields["temperature"], fields["seed"], fields["max_tokens"]) == (0, 3, 50)
    assert fields["n_keep"] == 4 and fields["stop"] == ["###"]
    assert "max_tokens" not in sampling_fields(Options(num_predict=-1))
    assert "seed" not in sampling_fields(Options(seed=-1))


def test_format_values() -> None:
    assert format_schema(None) is None and format_schema("") is None
    assert format_schema("json") == {"type": "object"}
    with pytest.raises(ApiError) as bad_kind:
        format_schema("xml")
    assert bad_kind.value.status == 400
    with pytest.raises(ApiError):
        format_schema({"type": "frobnicate"})


def test_guided_schema_closes_objects_without_touching_values() -> None:
    schema = {
        "type": "object",
        "properties": {
            "risk": {"$ref": "#/$defs/Risk"},
            "tags": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}}}},
            "default_like": {"type": "object", "default": {"properties": {"x": 1}}},
        },
        "$defs": {"Risk": {"type": "object", "properties": {"level": {"enum": ["low", "high"]}}}},
    }
    guided = guided_schema(schema)
    assert guided["additionalProperties"] is False
    assert guided["$defs"]["Risk"]["additionalProperties"] is False
    assert guided["properties"]["tags"]["items"]["additionalProperties"] is False
    assert guided["properties"]["default_like"]["default"] == {"properties": {"x": 1}}
    assert guided["x-guidance"]["lenient"] is True
    assert "additionalProperties" not in schema  # the client's schema is left alone
    assert "additionalProperties" not in guided_schema({"type": "object"})  # "json" stays any object


def test_requests_map_to_llama_cpp() -> None:
    chat = chat_request(
        ChatRequest.model_validate(
            {"model": EMBEDDED_MODEL_NAME, "messages": [{"role": "user", "content": "hi"}], "format": "json"}
        )
    )
    assert chat.kind == "chat" and chat.payload["messages"] == [{"role": "user", "content": "hi"}]
    assert chat.schema == {"type": "object"}
    generate = generate_request(GenerateRequest.model_validate({"model": "m", "prompt": "p", "system": "s"}))
    assert generate.kind == "chat" and [m["role"] for m in generate.payload["messages"]] == ["system", "user"]
    raw = generate_request(GenerateRequest.model_validate({"model": "m", "prompt": "p", "raw": True}))
    assert raw.kind == "completion" and raw.payload["prompt"] == "p"
    with pytest.raises(ApiError):
        generate_request(GenerateRequest.model_validate({"model": "m", "prompt": "p", "suffix": "s"}))


def test_schema_violation() -> None:
    schema = {"type": "object", "properties": {"c": {"type": "number", "maximum": 1}}, "required": ["c"]}
    assert schema_violation('{"c": 0.5}', schema) is None
    assert schema_violation('{"c": 3}', schema) is not None
    assert schema_violation("{", schema) is not None


def test_tally_turns_llama_chunks_into_ollama_metrics() -> None:
    tally = GenerationTally("chat")
    assert tally.add_chunk({"choices": [{"delta": {"role": "assistant", "content": None}}]}) == ""
    assert tally.add_chunk({"choices": [{"delta": {"content": "Hel"}}]}) == "Hel"
    assert tally.add_chunk({"choices": [{"delta": {"content": "lo"}, "finish_reason": None}]}) == "lo"
    tally.add_chunk({"choices": [{"delta": {}, "finish_reason": "length"}]})
    tally.add_chunk(
        {
            "choices": [],
            "usage": {"prompt_tokens": 12, "completion_tokens": 2},
            "timings": {"prompt_ms": 30.5, "predicted_ms": 10.0},
        }
    )
    assert tally.text == "Hello" and tally.done_reason == "length"
    metrics = tally.metrics(total_seconds=0.5, load_seconds=0.001)
    assert metrics == {
        "total_duration": 500_000_000,
        "load_duration": 1_000_000,
        "prompt_eval_count": 12,
        "prompt_eval_duration": 30_500_000,
        "eval_count": 2,
        "eval_duration": 10_000_000,
    }


def test_gguf_metadata() -> None:
    meta = read_gguf_metadata(SMOLLM2_Q4_1.path(default_models_dir()))
    assert meta.kv["general.architecture"] == "llama"
    assert meta.kv["tokenizer.ggml.tokens"] == []  # long arrays are elided
    assert "<|im_start|>" in meta.kv["tokenizer.chat_template"]
    assert 130_000_000 < meta.parameter_count < 140_000_000


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5m", 300.0), ("1h30m", 5400.0), ("300ms", 0.3), ("0", 0.0), ("10", 10.0), ("-1", math.inf), ("-1s", math.inf)],
)
def test_durations_are_read_as_ollama_reads_them(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5x", "1_0", "1e400", "٣m", "5m3"])
def test_a_bad_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


def test_keep_alive_values() -> None:
    assert keep_alive_seconds(None) is None and keep_alive_seconds(0) == 0 and keep_alive_seconds(-3) == math.inf
    assert keep_alive_seconds("2m") == 120
    with pytest.raises(ApiError) as bad:
        keep_alive_seconds("soon")
    assert bad.value.status == 400


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        ("http://localhost:5173", "127.0.0.1:11434", True),
        ("https://127.0.0.1", "127.0.0.1:11434", True),
        ("vscode-webview://x", "127.0.0.1:11434", True),
        ("http://evil.example", "127.0.0.1:11434", False),
        ("http://localhost.evil.example", "127.0.0.1:11434", False),
        ("null", "127.0.0.1:11434", False),
        ("http://127.0.0.1:11434", "127.0.0.1:11434", True),  # same origin
    ],
)
def test_origins_follow_ollama_defaults(origin: str, host: str, allowed: bool) -> None:
    assert DoorPolicy().origin_allowed(origin, host) is allowed


def test_ollama_origins_adds_origins_with_wildcards() -> None:
    policy = DoorPolicy.from_environment({"OLLAMA_ORIGINS": "https://app.example, chrome-extension://*"})
    assert policy.origin_allowed("https://app.example", "127.0.0.1:1")
    assert policy.origin_allowed("chrome-extension://abcdef", "127.0.0.1:1")
    assert not policy.origin_allowed("https://other.example", "127.0.0.1:1")


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1:11434", True),
        ("localhost", True),
        ("[::1]:11434", True),
        ("192.168.1.20:11434", True),
        ("web.localhost", True),
        ("printer.local", True),
        ("", True),
        ("evil.example:11434", False),
        ("8.8.8.8", False),
        ("localhost.evil.example", False),
    ],
)
def test_hosts_follow_ollama_allowed_hosts(host: str, allowed: bool) -> None:
    assert DoorPolicy(hostname="this-machine").host_allowed(host) is allowed


def test_openai_requests_become_ollama_requests() -> None:
    chat, usage = openai_compat.chat_request(
        {
            "model": "m",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
            "max_tokens": 9,
            "stop": "###",
            "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "object"}}},
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    )
    assert usage and chat.stream and chat.format == {"type": "object"}
    assert chat.options is not None
    assert (chat.options.temperature, chat.options.top_p, chat.options.num_predict) == (1.0, 1.0, 9)
    assert chat.options.stop == ["###"] and [m.content for m in chat.messages] == ["hi"]
    plain, usage = openai_compat.chat_request(
        {"model": "m", "messages": [], "response_format": {"type": "json_object"}}
    )
    assert plain.format == "json" and not usage and plain.stream is False
    with pytest.raises(ApiError):
        openai_compat.chat_request({"model": "m", "messages": [], "n": 2})
    with pytest.raises(ApiError):
        openai_compat.chat_request({"model": "m", "messages": [], "response_format": {"type": "json_schema"}})


def test_the_longest_token_bounds_what_a_context_can_hold() -> None:
    meta = read_gguf_metadata(SMOLLM2_Q4_1.path(default_models_dir()))
    assert meta.kv["tokenizer.ggml.model"] == "gpt2"
    assert meta.longest_token_bytes == 81  # "\n" and 80 spaces, stored as 162 bytes of GPT-2 byte characters


def test_keep_alive_follows_the_flag_then_ollama_keep_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = build_parser()
    monkeypatch.delenv("OLLAMA_KEEP_ALIVE", raising=False)
    assert resolve_keep_alive(parser.parse_args([]), parser) == 300
    monkeypatch.setenv("OLLAMA_KEEP_ALIVE", "-1")
    assert resolve_keep_alive(parser.parse_args([]), parser) == math.inf
    assert resolve_keep_alive(parser.parse_args(["--keep-alive", "30s"]), parser) == 30
    monkeypatch.setenv("OLLAMA_KEEP_ALIVE", "soon")
    with pytest.raises(SystemExit):
        resolve_keep_alive(parser.parse_args([]), parser)
