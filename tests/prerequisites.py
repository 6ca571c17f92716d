"""What a test does when a program it needs (Chromium, npm, Java) is missing: locally it is skipped,
loudly (a red line at the end of the run); under ``CI=true`` it fails, so CI never goes green
without the tests it was meant to run."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

MISSING = "PREREQUISITE MISSING"  # every such skip starts with this; the run's summary counts them


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing(what: str) -> NoReturn:
    """Skip (locally) or fail (CI=true) the running test: ``what`` says what is missing and how to get it."""
    message = f"{MISSING}: {what}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: a missing prerequisite is a failure, not a skip)", pytrace=False)
    pytest.skip(message)
