"""The one exception type whose message is shown to the user as is."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; ``str(err)`` is one line saying what is wrong and what to do.

    Whatever text it is given (a library's multi-line message included) is folded onto one line.
    """

    def __init__(self, message: object) -> None:
        super().__init__(" ".join(str(message).split()))
