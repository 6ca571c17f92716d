"""Model files: the Q8_0 conversion, the checks that refuse a wrong file, and the server's fallback."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from pathlib import Path

import ollama
import pytest

from embedded_ollama import start_on_free_port
from embedded_ollama.catalog import (
    QWEN25_CODER_1_5B,
    SMOLLM2_Q4_1,
    SMOLLM2_Q8_0,
    CatalogModel,
    ModelVerificationError,
    default_models_dir,
    verify_model_file,
)
from embedded_ollama.gguf_meta import read_gguf_metadata
from embedded_ollama.install import assemble
from embedded_ollama.requantize import requantize_q4_1_to_q8_0

HELLO = [{"role": "user", "content": "Say hello."}]


def _flip_one_byte(path: Path, offset: int) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0xFF]))


def _small_model(path: Path) -> CatalogModel:
    """A catalogue entry whose recorded size and hash are those of ``path`` (a few bytes)."""
    data = path.read_bytes()
    return dataclasses.replace(QWEN25_CODER_1_5B, size=len(data), sha256=hashlib.sha256(data).hexdigest())


def test_conversion_to_q8_0_gives_the_recorded_file(tmp_path: Path) -> None:
    target = tmp_path / SMOLLM2_Q8_0.file_name
    requantize_q4_1_to_q8_0(SMOLLM2_Q4_1.path(default_models_dir()), target)
    verify_model_file(target, SMOLLM2_Q8_0)  # same bytes as recorded: the conversion is deterministic
    meta = read_gguf_metadata(target)
    assert meta.kv["general.file_type"] == 7  # LLAMA_FTYPE_MOSTLY_Q8_0
    assert (
        meta.kv["tokenizer.chat_template"]
        == read_gguf_metadata(SMOLLM2_Q4_1.path(default_models_dir())).kv["tokenizer.chat_template"]
    )


def test_a_byte_changed_copy_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "copy.gguf"
    shutil.copyfile(SMOLLM2_Q4_1.path(default_models_dir()), copy)
    verify_model_file(copy, SMOLLM2_Q4_1)
    _flip_one_byte(copy, 1_000_000)
    with pytest.raises(ModelVerificationError) as refused:
        verify_model_file(copy, SMOLLM2_Q4_1)
    message = str(refused.value)
    assert f"is not the {SMOLLM2_Q4_1.name} file: SHA-256" in message and "refusing to serve it" in message
    assert "\n" not in message


def test_assembly_concatenates_parts_in_order_and_refuses_a_tampered_part(tmp_path: Path) -> None:
    parts = []
    for index, text in enumerate([b"GGUF first part ", b"second part ", b"last"], start=1):
        part = tmp_path / f"part{index:02d}.bin"
        part.write_bytes(text)
        parts.append(part)
    expected = tmp_path / "expected.gguf"
    expected.write_bytes(b"".join(p.read_bytes() for p in parts))
    model = _small_model(expected)
    target = tmp_path / "models" / "assembled.gguf"

    assemble(parts, target, model)
    assert target.read_bytes() == expected.read_bytes()

    target.unlink()
    _flip_one_byte(parts[1], 3)
    with pytest.raises(ModelVerificationError, match=r"is not the qwen2.5-coder:1.5b-instruct-q4_K_M file: SHA-256"):
        assemble(parts, target, model)
    assert not target.exists() and not list(target.parent.glob("*.partial"))  # nothing left to serve

    with pytest.raises(ModelVerificationError, match="bytes, expected"):
        assemble(parts[:2], target, model)  # a missing part: wrong size


def _served_after_fallback(models_dir: Path) -> tuple[list[str], str]:
    """Start a server on ``models_dir``; return the names it lists and its log."""
    with start_on_free_port(extra_args=["--models-dir", str(models_dir)]) as handle:
        client = ollama.Client(host=handle.host)
        listed = [m.model for m in client.list().models]
        answer = client.chat(model=SMOLLM2_Q4_1.name, messages=HELLO, options={"temperature": 0, "num_predict": 8})
        assert answer.message.content
        with pytest.raises(ollama.ResponseError) as missing:
            client.chat(model=SMOLLM2_Q8_0.name, messages=HELLO)
        assert missing.value.status_code == 404 and "bin/setup" in missing.value.error
        log = handle.log_path.read_text()
    return listed, log


@pytest.mark.model
def test_failed_conversion_serves_the_packaged_q4_1_file_after_one_warning(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the models folder should be")
    listed, log = _served_after_fallback(blocker / "models")
    assert listed == [SMOLLM2_Q4_1.name]
    warnings = [line for line in log.splitlines() if " WARNING " in line]
    assert len(warnings) == 1 and f"serving the packaged {SMOLLM2_Q4_1.name}" in warnings[0]


@pytest.mark.model
def test_tampered_q8_0_file_is_refused_and_the_q4_1_file_served(tmp_path: Path, embedded_models_dir: Path) -> None:
    shutil.copyfile(SMOLLM2_Q8_0.path(embedded_models_dir), SMOLLM2_Q8_0.path(tmp_path))
    _flip_one_byte(SMOLLM2_Q8_0.path(tmp_path), 5_000_000)
    listed, log = _served_after_fallback(tmp_path)
    assert listed == [SMOLLM2_Q4_1.name]
    warnings = [line for line in log.splitlines() if " WARNING " in line]
    assert len(warnings) == 1 and "refusing to serve it" in warnings[0]
