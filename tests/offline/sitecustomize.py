"""Loaded into every Python process started with this folder first on PYTHONPATH (tests only): any
attempt to reach a non-loopback address is refused as if the network were down, and written, one
line each, to the file $NETWORK_ATTEMPTS_LOG. dbt's usage tracker, a CDN fetch or a version check
show up there; the embedded Ollama server on 127.0.0.1 does not.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import sys

LOG = os.environ.get("NETWORK_ATTEMPTS_LOG")
LOOPBACK_NAMES = {None, "", "localhost", "localhost.localdomain"}


def _is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse_remote(event: str, args: tuple) -> None:
    if event == "socket.getaddrinfo":
        host = args[0]
    elif event in ("socket.connect", "socket.sendto"):
        address = args[1]
        if not isinstance(address, tuple):  # a Unix socket path
            return
        host = address[0]
    else:
        return
    if _is_loopback(host):
        return
    with open(LOG, "a") as log:
        log.write(f"{os.getpid()} {' '.join(sys.argv)[:120]}: {event} {host}\n")
    raise OSError(errno.ENETUNREACH, f"network blocked by the test: {host}")


if LOG:
    sys.addaudithook(_refuse_remote)
