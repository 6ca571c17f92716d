"""A minimal reader for the metadata block of a GGUF file.

Only what `/api/show` needs: the key/value pairs (``model_info`` in Ollama's
answer, including ``tokenizer.chat_template``) and the parameter count summed
over the tensor shapes. Long arrays (the vocabulary, the merges) are skipped
and reported as empty lists, as Ollama does when ``verbose`` is false. Of the
vocabulary only the length of its longest token is kept: it bounds how much
text a context can hold, so an over-long prompt is refused without tokenising it.

Format reference: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from math import prod
from pathlib import Path
from typing import Any

GGUF_MAGIC = b"GGUF"

# value type id -> struct format of one scalar item (None: not a fixed-size scalar)
_SCALAR_FORMATS: dict[int, str] = {
    0: "<B",  # uint8
    1: "<b",  # int8
    2: "<H",  # uint16
    3: "<h",  # int16
    4: "<I",  # uint32
    5: "<i",  # int32
    6: "<f",  # float32
    7: "<?",  # bool
    10: "<Q",  # uint64
    11: "<q",  # int64
    12: "<d",  # float64
}
_STRING = 8
_ARRAY = 9
_TOKENS_KEY = "tokenizer.ggml.tokens"


class GGUFError(ValueError):
    """The file is not a GGUF file this reader understands."""


@dataclass(frozen=True)
class GGUFMetadata:
    """Key/value metadata and tensor statistics of one GGUF file."""

    version: int
    kv: dict[str, Any] = field(default_factory=dict)
    tensor_count: int = 0
    parameter_count: int = 0
    longest_token_bytes: int = 0
    """Bytes of text the longest vocabulary entry stands for (0 if the file has no vocabulary)."""


class _Cursor:
    """Sequential little-endian reads over a memory-mapped buffer."""

    def __init__(self, buffer: mmap.mmap) -> None:
        self._buffer = buffer
        self.offset = 0

    def scalar(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        if self.offset + size > len(self._buffer):
            raise GGUFError("truncated GGUF header")
        (value,) = struct.unpack_from(fmt, self._buffer, self.offset)
        self.offset += size
        return value

    def string(self) -> str:
        length = self.scalar("<Q")
        raw = self._buffer[self.offset : self.offset + length]
        self.offset += length
        return raw.decode("utf-8", errors="replace")

    def skip(self, nbytes: int) -> None:
        self.offset += nbytes

    def value(self, type_id: int, max_array: int) -> Any:
        if type_id in _SCALAR_FORMATS:
            return self.scalar(_SCALAR_FORMATS[type_id])
        if type_id == _STRING:
            return self.string()
        if type_id == _ARRAY:
            item_type = self.scalar("<I")
            count = self.scalar("<Q")
            if count > max_array:
                self._skip_items(item_type, count)
                return []
            return [self.value(item_type, max_array) for _ in range(count)]
        raise GGUFError(f"unknown GGUF value type {type_id}")

    def longest_string(self, count: int, byte_level: bool) -> int:
        """Skip ``count`` strings; return how many bytes of text the longest one stands for.

        In a byte-level (GPT-2 style) vocabulary every character stands for one byte of text;
        otherwise a token's UTF-8 length is an upper bound (SentencePiece's ``▁`` is one space).
        """
        longest = 0
        for _ in range(count):
            length = self.scalar("<Q")
            raw = self._buffer[self.offset : self.offset + length]
            self.offset += length
            longest = max(longest, len(raw.decode("utf-8", errors="replace")) if byte_level else length)
        return longest

    def _skip_items(self, item_type: int, count: int) -> None:
        if item_type in _SCALAR_FORMATS:
            self.skip(struct.calcsize(_SCALAR_FORMATS[item_type]) * count)
            return
        for _ in range(count):
            self.value(item_type, max_array=0)


def read_gguf_metadata(path: str | Path, max_array: int = 5) -> GGUFMetadata:
    """Read the metadata of the GGUF file at ``path``.

    Arrays longer than ``max_array`` items are replaced by ``[]``.
    """
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buffer:
        if buffer[:4] != GGUF_MAGIC:
            raise GGUFError(f"{path} is not a GGUF file")
        cursor = _Cursor(buffer)
        cursor.skip(4)
        version = cursor.scalar("<I")
        if version < 2:
            raise GGUFError(f"GGUF version {version} is not supported")
        tensor_count = cursor.scalar("<Q")
        kv_count = cursor.scalar("<Q")
        kv: dict[str, Any] = {}
        longest_token = 0
        for _ in range(kv_count):
            key = cursor.string()
            type_id = cursor.scalar("<I")
            if key == _TOKENS_KEY and type_id == _ARRAY:
                item_type, count = cursor.scalar("<I"), cursor.scalar("<Q")
                if item_type != _STRING:
                    raise GGUFError(f"{path}: {_TOKENS_KEY} is not an array of strings")
                # the tokenizer kind is written before the vocabulary (llama.cpp's gguf writer does)
                longest_token = cursor.longest_string(count, byte_level=kv.get("tokenizer.ggml.model") == "gpt2")
                kv[key] = []
            else:
                kv[key] = cursor.value(type_id, max_array)
        parameters = 0
        for _ in range(tensor_count):
            cursor.string()  # tensor name
            n_dims = cursor.scalar("<I")
            dims = [cursor.scalar("<Q") for _ in range(n_dims)]
            cursor.skip(4 + 8)  # ggml type, data offset
            parameters += prod(dims)
    return GGUFMetadata(
        version=version,
        kv=kv,
        tensor_count=tensor_count,
        parameter_count=parameters,
        longest_token_bytes=longest_token,
    )
