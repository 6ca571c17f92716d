"""Read a signals file (CSV or JSON) as a stream of records that say where each row is in the file.

Accepted shapes (keys and header names are case-insensitive; other keys are ignored):

* CSV with a header row naming at least ``ticker``, ``date``, ``action``, ``confidence``;
* a JSON list of objects with those keys;
* a JSON object with a ``signals`` key holding such a list, or an object keyed by ticker;
* a JSON object keyed by ticker whose values are one signal object or a list of them (the original
  tool's ``llm_signals.json``: ``{"AAPL": [{"date": ..., "action": ..., "confidence": ...}]}`` as
  its backtest script reads it, or ``{"AAPL": {"action": ..., "signal_timestamp": ...}}`` as its
  pipeline checkpoint stores it).

``date`` may be spelt ``signal_date``, ``timestamp`` or ``signal_timestamp`` (the first present in
that order wins), ``rationale`` may be ``reasoning`` and ``model`` may be ``llm_model``.

Memory stays bounded: a file above ``max_mb`` is refused before it is read (or as soon as a stream
such as ``/dev/zero`` passes the limit); a CSV file is read row by row and a JSON file item by item
(its text is held once, its items are decoded one at a time). A JSON object that names a key twice
is never resolved silently: the record says so (the checks refuse it) or, at the top level, the file
is refused.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from python_ingest.frames import column_key
from python_ingest.signals.json_stream import JsonStream
from warehouse_core import UserError

ALIASES = {
    "ticker": ("ticker",),
    "date": ("date", "signal_date", "timestamp", "signal_timestamp"),
    "action": ("action",),
    "confidence": ("confidence",),
    "model": ("model", "llm_model"),
    "rationale": ("rationale", "reasoning"),
    "error": ("error",),
}
REQUIRED = ("ticker", "date", "action", "confidence")
SHAPES = (
    "a CSV file with a header row, a JSON list of signal objects, an object with a 'signals' list, "
    "or an object keyed by ticker"
)
REPEATED = "__repeated__"
"""Field holding ``(key, first value, second value)`` for each key an object names twice."""
NOT_AN_OBJECT = "__not_an_object__"
EXTRA = "__extra__"


@dataclass(frozen=True)
class SourceRecord:
    """One row of the file, its fields under their canonical names (value as read, None if absent)."""

    row: int
    """The CSV line (the header is line 1), or the index in the JSON document (0-based)."""
    location: str
    """How a message names it: ``line 4``, ``item [3]``, ``item signals[3]``, ``item AAPL[0]``."""
    fields: dict[str, Any]
    key_ticker: str | None = None
    """The ticker a JSON object keyed by ticker files this row under."""


def canonical_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw``'s keys normalised (``Signal Date`` -> ``signal_date``), aliases resolved.

    Keys that normalise to the same name (``confidence`` and ``Confidence``), and keys a JSON object
    names twice, are listed under :data:`REPEATED` instead of one silently winning.
    """
    normalised: dict[str, Any] = {}
    repeated = list(getattr(raw, "repeated", []))
    for key, value in raw.items():
        if key is None:
            continue
        name = column_key(key)
        if name in normalised:
            repeated.append((key, normalised[name], value))
        normalised[name] = value
    fields = {
        name: next((normalised[a] for a in aliases if a in normalised), None) for name, aliases in ALIASES.items()
    }
    if repeated:
        fields[REPEATED] = repeated
    return fields


class _CappedReader(io.RawIOBase):
    """A file's bytes, hashed as they are read; reading past ``limit`` bytes raises :class:`UserError`."""

    def __init__(self, handle: BinaryIO, display: str, limit: int) -> None:
        self._handle, self._display, self._limit = handle, display, limit
        self.digest = hashlib.sha256()
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        read = self._handle.readinto(buffer) or 0
        self.count += read
        if self.count > self._limit:
            raise UserError(_too_big(self._display, self._limit, "more"))
        self.digest.update(memoryview(buffer)[:read])
        return read

    def tell(self) -> int:
        return self.count

    def close(self) -> None:
        self._handle.close()
        super().close()


def _too_big(display: str, limit: int, size: str) -> str:
    return (
        f"{display} holds {size} than the {limit // 2**20} MB a signals file may hold (var ingest_max_file_mb): "
        "split it, or raise the limit with --vars '{ingest_max_file_mb: N}' if the machine has the memory"
    )


@dataclass
class SignalsFile:
    """A signals file opened for one pass: :meth:`records` streams its rows (a pipe or ``/dev/stdin``
    too: the format is sniffed without consuming anything); :attr:`sha256` is known once they have all
    been read."""

    display: str
    file_format: str
    _reader: _CappedReader = field(repr=False)
    _buffered: io.BufferedReader = field(repr=False)
    sha256: str = ""
    rows_read: int = 0

    def records(self) -> Iterator[SourceRecord]:
        """Every row of the file, in order; a malformed file raises :class:`UserError` (one line)."""
        read = _json_records if self.file_format == "json" else _csv_records
        with self._buffered:
            for record in read(self._buffered, self.display):
                self.rows_read += 1
                yield record
            self.sha256 = self._reader.digest.hexdigest()
        if not self.rows_read:
            raise UserError(f"{self.display} holds no signal rows: expected {SHAPES}")


def read_signals_file(path: Path, max_mb: int, display: str | None = None) -> SignalsFile:
    """Open ``path`` for reading its records; a file that is too big or cannot be opened raises
    :class:`UserError`."""
    display = display or str(path)
    limit = max_mb * 2**20
    try:
        size = path.stat().st_size if path.is_file() else None
        if size is not None and size > limit:
            raise UserError(_too_big(display, limit, f"{size / 2**20:.1f} MB, more"))
        reader = _CappedReader(path.open("rb", buffering=0), display, limit)
        buffered = io.BufferedReader(reader, buffer_size=1 << 16)
        start = buffered.peek(4096)[:4096]
    except OSError as exc:
        raise UserError(f"cannot read signals file {display}: {exc.strerror or exc}") from None
    return SignalsFile(display, _format_of(path, start), reader, buffered)


def _format_of(path: Path, start: bytes) -> str:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".json"):
        return suffix[1:]
    return "json" if start.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] in (b"[", b"{") else "csv"


def _csv_records(buffered: io.BufferedReader, display: str) -> Iterator[SourceRecord]:
    text = io.TextIOWrapper(buffered, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text, restkey=EXTRA)
    try:
        header = [column_key(name) for name in reader.fieldnames or []]
        _check_header(header, display)
        for row in reader:
            if not _is_blank(row):
                yield SourceRecord(reader.line_num, f"line {reader.line_num}", _csv_fields(row))
    except csv.Error as exc:
        raise UserError(f"{display} is not a readable CSV file ({exc}): expected {SHAPES}") from None
    except UnicodeDecodeError as exc:
        offset = buffered.tell() - len(exc.object) + exc.start
        raise UserError(
            f"{display} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {offset}): "
            f"save it as UTF-8 text; expected {SHAPES}"
        ) from None


def _is_blank(row: dict[str, Any]) -> bool:
    """A line of commas only, skipped like a blank line."""
    values = [*(v for k, v in row.items() if k != EXTRA), *(row.get(EXTRA) or [])]
    return not any((value or "").strip() for value in values)


def _csv_fields(row: dict[str, Any]) -> dict[str, Any]:
    fields = canonical_fields({key: value for key, value in row.items() if key != EXTRA})
    fields[EXTRA] = row.get(EXTRA)
    return fields


def _check_header(header: list[str], display: str) -> None:
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise UserError(f"{display}: the header names column(s) {', '.join(repeated)} more than once; keep one")
    missing = [name for name in REQUIRED if not any(alias in header for alias in ALIASES[name])]
    if missing:
        shown = ", ".join(header[:8]) or "(empty)"
        raise UserError(
            f"{display} lacks required column(s) {', '.join(missing)} (header: {shown}): the header row must name "
            f"{', '.join(REQUIRED)} (optional: model, rationale), comma-separated"
        )


def _json_records(buffered: io.BufferedReader, display: str) -> Iterator[SourceRecord]:
    data = buffered.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{display} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}): "
            f"save it as UTF-8 text; expected {SHAPES}"
        ) from None
    del data
    document = JsonStream(text, display, SHAPES)
    first = document.skip_space()
    if first == "[":
        yield from _listed_records(document, "")
    elif first == "{":
        yield from _object_records(document, display)
    else:
        value = document.value()
        document.end()
        raise UserError(f"{display} holds a JSON {type(value).__name__}, not signals: expected {SHAPES}")
    document.end()


def _listed_records(
    document: JsonStream, prefix: str, key_ticker: str | None = None, first_row: int = 0
) -> Iterator[SourceRecord]:
    for index, item in enumerate(document.items()):
        yield _json_record(first_row + index, f"{prefix}[{index}]", item, key_ticker)


def _object_records(document: JsonStream, display: str) -> Iterator[SourceRecord]:
    """A top-level object: ``{"signals": [...]}`` (other keys ignored) or keyed by ticker. A first pass
    reads only its keys (each value decoded and dropped), so a key named twice is refused up front."""
    start = document.pos
    keys = Counter(_skip_members(document))
    _refuse_repeated_keys([key for key, count in keys.items() if count > 1], "the top-level object", display)
    document.pos = start
    wrapped = "signals" in keys
    rows = 0
    for key in document.members():
        if wrapped and key != "signals":
            document.value()  # beside the signals list (e.g. generated_at): ignored
            continue
        for record in _member_records(document, key, wrapped, rows, display):
            rows += 1
            yield record


def _member_records(
    document: JsonStream, key: str, wrapped: bool, first_row: int, display: str
) -> Iterator[SourceRecord]:
    """The records under one top-level key: the ``signals`` list (or object), or one ticker's signals."""
    path, key_ticker = ("signals", None) if wrapped else (str(key), key)
    if document.skip_space() == "[":
        yield from _listed_records(document, path, key_ticker, first_row)
        return
    value = document.value()
    if not wrapped:
        yield from _keyed_records(key, path, value, first_row, display)
        return
    if not isinstance(value, dict):
        raise UserError(f"{display}: key 'signals' holds a {type(value).__name__}, not a list: expected {SHAPES}")
    _refuse_repeated_keys([k for k, _, _ in getattr(value, "repeated", [])], "the 'signals' object", display)
    row = first_row
    for sub_key, item in value.items():
        for record in _keyed_records(sub_key, f"signals.{sub_key}", item, row, display):
            row += 1
            yield record


def _refuse_repeated_keys(repeated: list[str], where: str, display: str) -> None:
    if repeated:
        raise UserError(
            f"{display}: {where} names key(s) {', '.join(map(repr, sorted(set(repeated))))} more than once, and "
            "JSON readers disagree on which one counts: merge them into one"
        )


def _skip_members(document: JsonStream) -> Iterator[str]:
    """The keys of the object starting here, each value skipped (a list decoded item by item and dropped)."""
    for key in document.members():
        if document.skip_space() == "[":
            for _ in document.items():
                pass
        else:
            document.value()
        yield key


def _keyed_records(key: str, path: str, value: Any, first_row: int, display: str) -> Iterator[SourceRecord]:
    if isinstance(value, dict):
        yield _json_record(first_row, path, value, key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield _json_record(first_row + index, f"{path}[{index}]", item, key)
    else:
        raise UserError(
            f"{display}: key {path!r} holds a {type(value).__name__}, not a signal object or a list of them: "
            f"expected {SHAPES}"
        )


def _json_record(row: int, path: str, item: Any, key_ticker: str | None) -> SourceRecord:
    fields = canonical_fields(item) if isinstance(item, dict) else {NOT_AN_OBJECT: item}
    return SourceRecord(row, f"item {path}", fields, key_ticker)
