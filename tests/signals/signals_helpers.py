"""Helpers for the signals-file tests: run the real loader CLI and snapshot a warehouse file."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from warehouse_helpers import snapshot

from python_ingest.signals import cli as signals_cli

__all__ = ["load", "snapshot", "write"]


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


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path
