"""Helpers for the signals-file tests: run the real loader CLI and snapshot a warehouse file."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pytest

from python_ingest.signals import cli as signals_cli


def load(
    caplog: pytest.LogCaptureFixture, warehouse: Path, path: Path, name: str = "mine", *extra: str
) -> tuple[int, list[str], list[str]]:
    """Run ``python -m python_ingest.signals`` in-process: (exit code, error lines, warning lines)."""
    caplog.clear()
    with caplog.at_level(logging.INFO):
        rc = signals_cli.main(["--file", str(path), "--name", name, "--warehouse", str(warehouse), *extra])
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    return rc, errors, warnings


def snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table of the warehouse file with all its rows, in a stable order."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables order by all").fetchall()
        return {
            f"{schema}.{table}": con.execute(f'select * from "{schema}"."{table}" order by all').fetchall()
            for schema, table in tables
        }


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path
