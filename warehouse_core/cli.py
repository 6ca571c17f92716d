"""How every CLI ends on a problem the user can fix: one ``error: <what to do>`` line and exit 2.

Each ``python -m ...`` command decorates its ``main`` with :func:`user_errors` instead of wrapping
its body in its own ``try/except UserError``; anything else (a bug) still ends in a traceback.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec

from warehouse_core.errors import UserError

EXIT_USER_ERROR = 2  # the run could not go on; 1 stays free for "ran, and found problems"

P = ParamSpec("P")


def user_errors(main: Callable[P, int]) -> Callable[P, int]:
    """``main``, with a :class:`UserError` raised anywhere in it logged as one ``error: ...`` line on
    ``main``'s module logger and turned into exit code 2."""
    log = logging.getLogger(main.__module__)

    @functools.wraps(main)
    def run(*args: P.args, **kwargs: P.kwargs) -> int:
        try:
            return main(*args, **kwargs)
        except UserError as exc:
            log.error("error: %s", exc)
            return EXIT_USER_ERROR

    return run
