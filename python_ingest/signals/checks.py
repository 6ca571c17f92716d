"""Check every record of a signals file; one bad row refuses the whole file.

A row is bad when its ticker breaks the ingest's ticker rule, its date does not parse or lies in
the future, its action is not BUY/SELL/HOLD (any case), its confidence is not a plain decimal number
in [0, 1] (``0.75``, ``.5``, ``1e-1``; not ``0.5_5``, not other scripts' digits, not NaN), it names a
column twice (a JSON key repeated, or two spellings of one column), it repeats an earlier row's
(ticker, date, action), or it is the original tool's placeholder for a failed call (an ``error``
field). A timestamp counts by its date as written: its time of day and UTC offset never move the
signal to another day.

Good rows are kept column by column (:class:`~python_ingest.signals.rows.CheckedSignals`), so a file
of millions of rows is checked in bounded memory.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from python_ingest.signals.reader import EXTRA, NOT_AN_OBJECT, REPEATED, SignalsFile, SourceRecord
from python_ingest.signals.rows import ACTIONS, CheckedSignals, SignalRow
from python_ingest.validation import TICKER_RULE, normalize_ticker

MAX_LINES_SHOWN = 20
_DATE_AND_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ](.+))?", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


class SignalsRefused(Exception):
    """The file has bad rows: ``lines`` names each (at most MAX_LINES_SHOWN, then a count)."""

    def __init__(self, display: str, bad_rows: list[str], bad_count: int, total_rows: int) -> None:
        self.lines = bad_rows[:MAX_LINES_SHOWN]
        if bad_count > len(self.lines):
            self.lines.append(f"... and {bad_count - len(self.lines)} more bad row(s)")
        self.lines.append(
            f"{display} refused: {bad_count} of {total_rows} row(s) are bad; nothing was loaded and the "
            "warehouse is unchanged: fix the rows above and load the file again"
        )
        super().__init__(self.lines[-1])


def _shown(value: Any) -> str:
    """A value as the file spells it: strings quoted, JSON literals as JSON (true, null)."""
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _ticker(value: Any, key_ticker: str | None) -> tuple[str | None, str | None]:
    if value is None and key_ticker is not None:
        value = key_ticker
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "column ticker is empty or missing"
    ticker = normalize_ticker(value) if isinstance(value, str) else None
    if ticker is None:
        return None, f"column ticker: {_shown(value)} is not a ticker ({TICKER_RULE})"
    if key_ticker is not None and normalize_ticker(key_ticker) != ticker:
        return None, f"column ticker: {_shown(value)} differs from the key {key_ticker!r} it is filed under"
    return ticker, None


def _signal_date(value: Any, today: date) -> tuple[date | None, str | None]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "column date is empty or missing"
    parts = _DATE_AND_TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    try:
        if parts is None:
            raise ValueError
        day = date.fromisoformat(parts.group(1))
        if parts.group(2):  # the time must parse too, but only the date as written counts
            if not parts.group(2).isascii():
                raise ValueError
            datetime.fromisoformat(f"{parts.group(1)}T{parts.group(2).replace('Z', '+00:00')}")
    except ValueError:
        return None, (
            f"column date: {_shown(value)} is not a date (use YYYY-MM-DD or an ISO 8601 timestamp "
            "such as 2024-01-05T16:00:00-05:00)"
        )
    if day > today:
        return None, f"column date: {_shown(value)} is in the future (today is {today})"
    return day, None


def _action(value: Any) -> tuple[str | None, str | None]:
    action = value.strip().upper() if isinstance(value, str) else None
    if action in ACTIONS:
        return action, None
    if value is None or action == "":
        return None, "column action is empty or missing"
    return None, f"column action: {_shown(value)} is not BUY, SELL or HOLD (any case)"


def _confidence(value: Any) -> tuple[float | None, str | None]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "column confidence is empty or missing"
    plain_text = isinstance(value, str) and _DECIMAL.fullmatch(value.strip())
    json_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not (plain_text or json_number):
        return None, f"column confidence: {_shown(value)} is not a number (write a decimal such as 0.75)"
    number = float(value)
    if not 0.0 <= number <= 1.0:  # NaN fails too
        hint = " (if it is a percentage, divide by 100)" if 1.0 < number <= 100.0 else ""
        return None, f"column confidence: {_shown(value)} is not between 0 and 1{hint}"
    return number, None


def _text(value: Any) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def _repeated_keys(repeated: list[tuple[str, Any, Any]]) -> str:
    key, first, second = repeated[0]
    more = f" (and {len(repeated) - 1} more)" if len(repeated) > 1 else ""
    return (
        f"key {key!r} names a column already given ({_shown(first)}, then {_shown(second)}){more}: "
        "readers disagree on which one counts, keep one"
    )


def check_record(record: SourceRecord, today: date) -> tuple[SignalRow | None, list[str]]:
    """The checked row, or every problem of the record (one clause per column)."""
    fields = record.fields
    if NOT_AN_OBJECT in fields:
        return None, [f"value {_shown(fields[NOT_AN_OBJECT])} is not an object with ticker, date, action, confidence"]
    ticker, ticker_problem = _ticker(fields["ticker"], record.key_ticker)
    day, date_problem = _signal_date(fields["date"], today)
    action, action_problem = _action(fields["action"])
    confidence, confidence_problem = _confidence(fields["confidence"])
    problems = [p for p in (ticker_problem, date_problem, action_problem, confidence_problem) if p]
    if fields.get(REPEATED):
        problems.append(_repeated_keys(fields[REPEATED]))
    if _text(fields.get("error")):
        problems.append(
            f"column error: {_shown(fields['error'])} marks a failed call (the original tool's placeholder), "
            "not a signal: remove the row"
        )
    extra = fields.get(EXTRA)
    if extra:
        problems.append(f"{len(extra)} value(s) more than the header has columns")
    if problems:
        return None, problems
    return SignalRow(
        record.row,
        record.location,
        ticker,
        day,
        str(fields["date"]).strip(),
        action,
        confidence,
        _text(fields["model"]),
        _text(fields["rationale"]),
    ), []


def check_signals(signals_file: SignalsFile, today: date | None = None) -> CheckedSignals:
    """Every row checked as it is read; raises :class:`SignalsRefused` naming the bad rows if any is bad."""
    today = today or date.today()
    rows = CheckedSignals(keep_locations=signals_file.file_format == "json")
    bad: list[tuple[int, str]] = []  # (row in the file, message): the first MAX_LINES_SHOWN bad rows
    bad_count = 0
    for record in signals_file.records():
        row, problems = check_record(record, today)
        if row is not None:
            rows.append(row)
            continue
        bad_count += 1
        if len(bad) < MAX_LINES_SHOWN:
            bad.append((record.row, f"{signals_file.display} {record.location}, {'; '.join(problems)}"))
    repeats = rows.repeats()
    for index, earlier in repeats[:MAX_LINES_SHOWN]:
        row = rows[index]
        message = (
            f"{signals_file.display} {row.source_location}, columns ticker, date, action: {row.ticker} "
            f"{row.signal_date} {row.action} repeats {rows.location(earlier)} (one signal per ticker, date and "
            "action: delete one)"
        )
        bad.append((row.source_row, message))
    if bad:
        bad.sort(key=lambda item: item[0])  # CSV lines and JSON item numbers both follow the file's order
        lines = [text for _, text in bad[:MAX_LINES_SHOWN]]
        raise SignalsRefused(signals_file.display, lines, bad_count + len(repeats), signals_file.rows_read)
    return rows
