"""Competing CPU-bound processes for benchmarks and tests: ``with busy_loops(2): ...``.

Each is ``python -c "while ...: pass"`` with its own deadline, so it stops by itself even if the
caller dies; leaving the ``with`` block kills it at once.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

_LOOP = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"


@contextmanager
def busy_loops(count: int, max_seconds: float = 600.0) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Run ``count`` busy loops (each stops by itself after ``max_seconds``) for the ``with`` block."""
    loops = [
        subprocess.Popen([sys.executable, "-c", _LOOP.format(seconds=max_seconds)], stdin=subprocess.DEVNULL)
        for _ in range(count)
    ]
    try:
        yield loops
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
