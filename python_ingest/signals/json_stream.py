"""Reading a JSON document one value at a time, never resolving a repeated key silently.

:class:`JsonStream` walks the document's text: an array's items and an object's keys come one at a
time, each value decoded on its own, so only the current item is a Python object. Every object it
decodes is a :class:`JsonObject`, whose ``repeated`` lists each key the object named more than once
(Python's ``json`` would keep the last copy without a word).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from warehouse_core import UserError


class JsonObject(dict):
    """A decoded JSON object that remembers the keys it named more than once."""

    repeated: list[tuple[str, Any, Any]]


def _object_keeping_repeats(pairs: list[tuple[str, Any]]) -> JsonObject:
    obj = JsonObject()
    obj.repeated = []
    for key, value in pairs:
        if key in obj:
            obj.repeated.append((key, obj[key], value))
        obj[key] = value
    return obj


_DECODER = json.JSONDecoder(object_pairs_hook=_object_keeping_repeats)
_SPACE = re.compile(r"[ \t\n\r]*")


_DECODER = json.JSONDecoder(object_pairs_hook=_object_keeping_repeats)
_SPACE = re.compile(r"[ \t\n\r]*")


class JsonStream:
    """A JSON document's text, decoded one value at a time (only the current item is a Python object).

    Errors are :class:`UserError` naming ``display``, the line and the column; ``expected`` ends them.
    """

    def __init__(self, text: str, display: str, expected: str) -> None:
        self.text, self.display, self.expected, self.pos = text, display, expected, 0

    def _fail(self, message: str, pos: int) -> UserError:
        error = json.JSONDecodeError(message, self.text, pos)
        return UserError(
            f"{self.display} is not valid JSON (line {error.lineno}, column {error.colno}: {message}): "
            f"expected {self.expected}"
        )

    def skip_space(self) -> str:
        """The next non-blank character ('' at the end), not consumed."""
        self.pos = _SPACE.match(self.text, self.pos).end()
        return self.text[self.pos : self.pos + 1]

    def expect(self, char: str) -> None:
        if self.skip_space() != char:
            raise self._fail(f"Expecting '{char}'", self.pos)
        self.pos += 1

    def value(self) -> Any:
        self.skip_space()
        try:
            decoded, self.pos = _DECODER.raw_decode(self.text, self.pos)
        except json.JSONDecodeError as exc:
            raise self._fail(exc.msg, exc.pos) from None
        except RecursionError:
            raise UserError(
                f"{self.display} nests JSON values deeper than Python's reader allows (near line "
                f"{self.text.count(chr(10), 0, self.pos) + 1}): expected {self.expected}"
            ) from None
        return decoded

    def items(self) -> Iterator[Any]:
        """The values of the array starting here, one at a time."""
        self.expect("[")
        if self.skip_space() == "]":
            self.pos += 1
            return
        while True:
            yield self.value()
            separator = self.skip_space()
            self.pos += 1
            if separator == "]":
                return
            if separator != ",":
                raise self._fail("Expecting ',' delimiter", self.pos - 1)

    def members(self) -> Iterator[str]:
        """The keys of the object starting here; the caller reads each key's value before the next."""
        self.expect("{")
        if self.skip_space() == "}":
            self.pos += 1
            return
        while True:
            if self.skip_space() != '"':
                raise self._fail("Expecting property name enclosed in double quotes", self.pos)
            key = self.value()
            self.expect(":")
            yield key
            separator = self.skip_space()
            self.pos += 1
            if separator == "}":
                return
            if separator != ",":
                raise self._fail("Expecting ',' delimiter", self.pos - 1)

    def end(self) -> None:
        if self.skip_space():
            raise self._fail("Extra data", self.pos)
