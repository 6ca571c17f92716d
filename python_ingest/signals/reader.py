"""Read a signals file (CSV or JSON) into records that say where each row is in the file.

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
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_ingest.frames import column_key
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


@dataclass(frozen=True)
class SignalsFile:
    display: str
    """The path as the user gave it, for messages."""
    file_format: str
    sha256: str
    records: list[SourceRecord]


def canonical_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw``'s keys normalised (``Signal Date`` -> ``signal_date``), aliases resolved."""
    normalised = {column_key(key): value for key, value in raw.items() if key is not None}
    return {name: next((normalised[a] for a in aliases if a in normalised), None) for name, aliases in ALIASES.items()}


def read_signals_file(path: Path, display: str | None = None) -> SignalsFile:
    """The file's records; an unreadable or malformed file raises :class:`UserError` (one line)."""
    display = display or str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read signals file {display}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{display} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}): "
            f"save it as UTF-8 text; expected {SHAPES}"
        ) from None
    file_format = _format_of(path, text)
    records = _json_records(text, display) if file_format == "json" else _csv_records(text, display)
    if not records:
        raise UserError(f"{display} holds no signal rows: expected {SHAPES}")
    return SignalsFile(display, file_format, hashlib.sha256(data).hexdigest(), records)


def _format_of(path: Path, text: str) -> str:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".json"):
        return suffix[1:]
    return "json" if text.lstrip()[:1] in ("[", "{") else "csv"


def _csv_records(text: str, display: str) -> list[SourceRecord]:
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey="__extra__")
    try:
        header = [column_key(name) for name in reader.fieldnames or []]
        _check_header(header, display)
        return [
            SourceRecord(reader.line_num, f"line {reader.line_num}", _csv_fields(row))
            for row in reader
            if not _is_blank(row)
        ]
    except csv.Error as exc:
        raise UserError(f"{display} is not a readable CSV file ({exc}): expected {SHAPES}") from None


def _is_blank(row: dict[str, Any]) -> bool:
    """A line of commas only, skipped like a blank line."""
    values = [*(v for k, v in row.items() if k != "__extra__"), *(row.get("__extra__") or [])]
    return not any((value or "").strip() for value in values)


def _csv_fields(row: dict[str, Any]) -> dict[str, Any]:
    fields = canonical_fields({key: value for key, value in row.items() if key != "__extra__"})
    fields["__extra__"] = row.get("__extra__")
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


def _json_records(text: str, display: str) -> list[SourceRecord]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"{display} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}): expected {SHAPES}"
        ) from None
    prefix = ""
    if isinstance(document, dict) and "signals" in document:
        document, prefix = document["signals"], "signals"
    if isinstance(document, list):
        return [_json_record(i, f"{prefix}[{i}]", item, None) for i, item in enumerate(document)]
    if isinstance(document, dict):
        return _ticker_keyed_records(document, prefix, display)
    raise UserError(f"{display} holds a JSON {type(document).__name__}, not signals: expected {SHAPES}")


def _ticker_keyed_records(document: dict[str, Any], prefix: str, display: str) -> list[SourceRecord]:
    records: list[SourceRecord] = []
    for key, value in document.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            records.append(_json_record(len(records), path, value, key))
        elif isinstance(value, list):
            records += [_json_record(len(records) + i, f"{path}[{i}]", item, key) for i, item in enumerate(value)]
        else:
            raise UserError(
                f"{display}: key {path!r} holds a {type(value).__name__}, not a signal object or a list of them: "
                f"expected {SHAPES}"
            )
    return records


def _json_record(row: int, path: str, item: Any, key_ticker: str | None) -> SourceRecord:
    fields = canonical_fields(item) if isinstance(item, dict) else {"__not_an_object__": item}
    return SourceRecord(row, f"item {path}", fields, key_ticker)
