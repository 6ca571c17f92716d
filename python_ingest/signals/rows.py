"""The good rows of a signals file: :class:`SignalRow` for one, :class:`CheckedSignals` for all of them,
kept column by column (~50 bytes a row plus its text) so a file of millions of rows fits in memory."""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

ACTIONS = ("BUY", "SELL", "HOLD")
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class SignalRow:
    """A checked signal, ready for raw.signals."""

    source_row: int
    source_location: str
    ticker: str
    signal_date: date
    date_as_written: str
    action: str
    confidence: float
    model: str | None
    rationale: str | None


class CheckedSignals:
    """The good rows of a file, column by column; iterate (or index) for :class:`SignalRow` views."""

    def __init__(self, keep_locations: bool) -> None:
        self.tickers: list[str] = []
        self._ticker_ids: dict[str, int] = {}
        self._texts: dict[str, str] = {}
        self.ticker_ids = array("I")
        self.days = array("i")
        """Date ordinals (``date.toordinal()``)."""
        self.actions = bytearray()
        self.confidences = array("d")
        self.source_rows = array("q")
        self.dates_as_written: list[str | None] = []
        """None where the date is written as its ISO form (the common case, and no copy kept)."""
        self.models: list[str | None] = []
        self.rationales: list[str | None] = []
        self.locations: list[str] | None = [] if keep_locations else None
        """Each row's location (a JSON file); None when it is ``line <source_row>`` (a CSV file)."""

    def append(self, row: SignalRow) -> None:
        ticker_id = self._ticker_ids.setdefault(row.ticker, len(self.tickers))
        if ticker_id == len(self.tickers):
            self.tickers.append(row.ticker)
        self.ticker_ids.append(ticker_id)
        self.days.append(row.signal_date.toordinal())
        self.actions.append(ACTIONS.index(row.action))
        self.confidences.append(row.confidence)
        self.source_rows.append(row.source_row)
        written = row.date_as_written
        self.dates_as_written.append(None if written == row.signal_date.isoformat() else written)
        self.models.append(None if row.model is None else self._texts.setdefault(row.model, row.model))
        self.rationales.append(row.rationale)
        if self.locations is not None:
            self.locations.append(row.source_location)

    def __len__(self) -> int:
        return len(self.days)

    def location(self, index: int) -> str:
        return f"line {self.source_rows[index]}" if self.locations is None else self.locations[index]

    def __getitem__(self, index: int) -> SignalRow:
        day = date.fromordinal(self.days[index])
        return SignalRow(
            self.source_rows[index],
            self.location(index),
            self.tickers[self.ticker_ids[index]],
            day,
            self.dates_as_written[index] or day.isoformat(),
            ACTIONS[self.actions[index]],
            self.confidences[index],
            self.models[index],
            self.rationales[index],
        )

    def __iter__(self) -> Iterator[SignalRow]:
        return (self[index] for index in range(len(self)))

    def ticker_counts(self) -> Counter[str]:
        counts = np.bincount(np.frombuffer(self.ticker_ids, dtype=np.uint32), minlength=len(self.tickers))
        return Counter({ticker: int(counts[i]) for i, ticker in enumerate(self.tickers)})

    def first_date(self, tickers: set[str] | None = None) -> date:
        days = np.frombuffer(self.days, dtype=np.int32)
        if tickers is not None:
            wanted = [self._ticker_ids[t] for t in tickers]
            days = days[np.isin(np.frombuffer(self.ticker_ids, dtype=np.uint32), wanted)]
        return date.fromordinal(int(days.min()))

    def last_date(self) -> date:
        return date.fromordinal(int(np.frombuffer(self.days, dtype=np.int32).max()))

    def dates_after(self, day: date) -> tuple[int, date | None]:
        """How many signals are dated after ``day``, and the latest."""
        days = np.frombuffer(self.days, dtype=np.int32)
        late = days[days > day.toordinal()]
        return len(late), (date.fromordinal(int(late.max())) if len(late) else None)

    def repeats(self) -> list[tuple[int, int]]:
        """(row index, index of the earlier row it repeats) for every repeated (ticker, date, action)."""
        keys = (
            (np.frombuffer(self.ticker_ids, dtype=np.uint32).astype(np.int64) << 24)
            | np.frombuffer(self.days, dtype=np.int32).astype(np.int64)
        ) << 2 | np.frombuffer(self.actions, dtype=np.uint8)
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        same = np.flatnonzero(ordered[1:] == ordered[:-1]) + 1
        if not len(same):
            return []
        run_starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        first_of_run = run_starts[np.searchsorted(run_starts, same, side="right") - 1]
        return sorted(zip(order[same].tolist(), order[first_of_run].tolist(), strict=True))

    def to_arrow(self) -> pa.Table:
        """The rows as raw.signals' columns (without load_id and name); missing locations and dates as
        written are null (``line <source_row>``, the ISO date)."""
        count = len(self)
        ids = pa.array(np.frombuffer(self.ticker_ids, dtype=np.uint32))
        action_ids = pa.array(np.frombuffer(self.actions, dtype=np.uint8))
        return pa.table(
            {
                "source_row": pa.array(np.frombuffer(self.source_rows, dtype=np.int64)),
                "source_location": pa.nulls(count, pa.string()) if self.locations is None else pa.array(self.locations),
                "ticker": pa.array(self.tickers, pa.string()).take(ids),
                "signal_date": pa.array(np.frombuffer(self.days, dtype=np.int32) - _EPOCH_ORDINAL, pa.date32()),
                "date_as_written": pa.array(self.dates_as_written, pa.string()),
                "action": pa.array(ACTIONS, pa.string()).take(action_ids),
                "confidence": pa.array(np.frombuffer(self.confidences, dtype=np.float64)),
                "model": pa.array(self.models, pa.string()),
                "rationale": pa.array(self.rationales, pa.string()),
            }
        )
