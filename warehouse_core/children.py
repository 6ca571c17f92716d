"""Child processes that never outlive the process that started them.

A CLI killed with SIGKILL cannot stop its children (``dbt build``, the embedded server), and one
killed with SIGTERM stops them only if it handles the signal. Linux can do it for us: a child that
asked with ``prctl(PR_SET_PDEATHSIG, sig)`` receives ``sig`` the moment its parent dies, however it
dies. :func:`die_with_parent` gives the ``preexec_fn`` that asks.

Linux sends the signal when the *thread* that started the child ends, not the process: start such
children from a thread that lives as long as the process (the main thread), or from a thread that
waits for them.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: signal.Signals = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` for :class:`subprocess.Popen`: the child gets ``sig`` when this process dies.

    None where the kernel cannot do it (not Linux); the caller then has only its own clean-up.
    """
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: the child only calls it

    def ask_for_the_signal() -> None:
        prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request was made: act on it now
            os.kill(os.getpid(), sig)

    return ask_for_the_signal
