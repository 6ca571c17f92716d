"""Row-by-row comparison of one table as built by two engines (DuckDB and Spark).

Rows are matched on the table's key columns (see :func:`table_keys`); a key present on one side
only is a mismatch. Every other column must agree: numbers within ``REL_TOL`` relative (for values
below ``MAGNITUDE_FLOOR`` in size, within ``REL_TOL * MAGNITUDE_FLOOR`` absolute, so float noise
around zero such as 1e-18 vs 0 is not a difference), nulls in the same places, strings, flags and
dates identical.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from dataclasses import dataclass, field

import pandas as pd

REL_TOL = 1e-9
MAGNITUDE_FLOOR = 1e-6
MAX_REPORTED_PROBLEMS = 5


@dataclass
class TableComparison:
    """What comparing one table found: rows matched, the largest relative difference, problems."""

    table: str
    rows: int
    max_rel_diff: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.problems

    def line(self) -> str:
        verdict = "equal" if self.agrees else "DIFFERENT: " + "; ".join(self.problems[:MAX_REPORTED_PROBLEMS])
        return f"{self.table}: {self.rows} rows, max rel diff {self.max_rel_diff:.3g}, {verdict}"


def _is_missing(value: object) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool)


def _normalise(value: object) -> object:
    """One Python value per meaning: numpy scalars, Timestamps at midnight and dates compare alike."""
    if _is_missing(value):
        return None
    if hasattr(value, "item") and not isinstance(value, pd.Timestamp):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


def _as_numbers(values: pd.Series) -> pd.Series | None:
    """The column as floats when every present value is a number (Decimal included), else None."""
    present = [_normalise(v) for v in values]
    if not all(v is None or _is_number(v) for v in present):
        return None
    return pd.Series([math.nan if v is None else float(v) for v in present], index=values.index, dtype="float64")


def _compare_column(left: pd.Series, right: pd.Series) -> tuple[pd.Series, float]:
    """(per-row equal within tolerance, largest relative difference) of two aligned columns."""
    left_numbers, right_numbers = _as_numbers(left), _as_numbers(right)
    if left_numbers is not None and right_numbers is not None:
        both_null = left_numbers.isna() & right_numbers.isna()
        scale = pd.concat([left_numbers.abs(), right_numbers.abs()], axis=1).max(axis=1).clip(lower=MAGNITUDE_FLOOR)
        diff = ((left_numbers - right_numbers).abs() / scale).where(left_numbers != right_numbers, 0.0)
        equal = both_null | (diff <= REL_TOL)
        return equal, float(diff.max(skipna=True)) if diff.notna().any() else 0.0
    left_values, right_values = [_normalise(v) for v in left], [_normalise(v) for v in right]
    equal = [type(a) is type(b) and a == b for a, b in zip(left_values, right_values, strict=True)]
    return pd.Series(equal, index=left.index), 0.0


def _key_text(row: pd.Series, keys: list[str]) -> str:
    return ", ".join(f"{k}={_normalise(row[k])}" for k in keys)


def compare_tables(table: str, left: pd.DataFrame, right: pd.DataFrame, keys: list[str]) -> TableComparison:
    """Compare ``left`` (the reference engine) and ``right`` row by row on ``keys``."""
    result = TableComparison(table=table, rows=len(left))
    if sorted(left.columns) != sorted(right.columns):
        only = sorted(set(left.columns) ^ set(right.columns))
        result.problems.append(f"columns differ: {only}")
        return result
    if len(left) != len(right):
        result.problems.append(f"row count {len(left)} vs {len(right)}")
    merged = _match_rows(left, right, keys, result)
    for column in (c for c in left.columns if c not in keys):
        equal, max_diff = _compare_column(merged[f"{column}__left"], merged[f"{column}__right"])
        result.max_rel_diff = max(result.max_rel_diff, max_diff)
        for _, row in merged[~equal].head(MAX_REPORTED_PROBLEMS).iterrows():
            result.problems.append(
                f"{column} at ({_key_text(row, keys)}): {row[f'{column}__left']!r} vs {row[f'{column}__right']!r}"
            )
    return result


def _key_frame(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """A copy whose key columns hold normalised values, so both engines' keys join alike."""
    keyed = frame.copy()
    for key in keys:
        keyed[key] = keyed[key].map(lambda v: "<null>" if _normalise(v) is None else str(_normalise(v)))
    return keyed


def _match_rows(left: pd.DataFrame, right: pd.DataFrame, keys: list[str], result: TableComparison) -> pd.DataFrame:
    """Inner-join both sides on the keys; keys found on one side only (or twice) become problems."""
    left_keyed, right_keyed = _key_frame(left, keys), _key_frame(right, keys)
    for side, frame in (("duckdb", left_keyed), ("spark", right_keyed)):
        duplicated = frame[frame.duplicated(keys, keep=False)]
        if len(duplicated):
            result.problems.append(
                f"{len(duplicated)} rows share a key on {side}, e.g. ({_key_text(duplicated.iloc[0], keys)})"
            )
    merged = left_keyed.merge(right_keyed, on=keys, how="outer", suffixes=("__left", "__right"), indicator=True)
    for side, label in (("left_only", "duckdb"), ("right_only", "spark")):
        missing = merged[merged["_merge"] == side]
        if len(missing):
            result.problems.append(f"{len(missing)} rows only on {label}, e.g. ({_key_text(missing.iloc[0], keys)})")
    return merged[merged["_merge"] == "both"]
