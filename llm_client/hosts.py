"""Several Ollama hosts behind one stage: which host gets the next request, and which are down.

The coordinating thread (the one running the stage) owns a :class:`HostPool`: it picks a host for
each request, counts what is in flight, and marks a host that failed (connection error, 5xx, model
gone) as down for ``host_down_seconds``, so its requests go to the other hosts. Worker threads only
make the HTTP call; they never touch the pool or the cache.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, TypeVar

from .client import Outcome

logger = logging.getLogger(__name__)

R = TypeVar("R")


@dataclass(eq=False)
class Host:
    """One Ollama server: its client, how many requests it may take at once, and its state."""

    url: str
    concurrency: int
    client: Any
    """An ``ollama.Client`` for ``url`` with the stage's timeout."""
    in_flight: int = 0
    sent: int = 0
    down_until: float = float("-inf")

    @property
    def load(self) -> float:
        """Share of its slots in use: 0 idle, 1 full."""
        return self.in_flight / self.concurrency


class HostPool:
    """The hosts of one stage; ``clock`` is injectable so the policy is testable without waiting."""

    def __init__(self, hosts: Sequence[Host], down_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.hosts = list(hosts)
        self.down_seconds = down_seconds
        self.clock = clock

    def healthy(self, among: Sequence[Host] | None = None) -> list[Host]:
        """Hosts (of ``among``, default all) not marked down right now."""
        now = self.clock()
        return [host for host in (self.hosts if among is None else among) if host.down_until <= now]

    def pick(self, among: Sequence[Host]) -> Host | None:
        """The least busy healthy host of ``among`` with a free slot, or None when none has one.

        Least busy = the smallest share of its slots in use; ties go to the host sent fewer
        requests so far, then to the one listed first.
        """
        free = [host for host in self.healthy(among) if host.in_flight < host.concurrency]
        if not free:
            return None
        return min(free, key=lambda host: (host.load, host.sent, self.hosts.index(host)))

    def mark_down(self, host: Host, reason: str) -> None:
        """No new request goes to ``host`` for ``down_seconds`` (said once per outage)."""
        if host.down_until <= self.clock():
            logger.warning(
                "Ollama host %s failed (%s): no requests to it for %.0f s", host.url, reason, self.down_seconds
            )
        host.down_until = self.clock() + self.down_seconds


def dispatch(
    requests: Sequence[R],
    pool: HostPool,
    among: Sequence[Host],
    ask: Callable[[R, Host, bool], Outcome],
    on_results: Callable[[list[tuple[R, Outcome, Host]]], None],
    thread_prefix: str,
) -> tuple[list[R], str | None]:
    """Send every request to the least busy healthy host of ``among``, each host at most its concurrency.

    ``ask(request, host, alone)`` runs on a worker thread (``alone``: no other healthy host is left,
    so the call may retry with backoff); ``on_results`` runs on this thread with the requests that
    finished together, after the next requests went out (so writing them never idles a host).
    When a host fails (``outcome.server_unavailable``) it is marked down and the request goes back
    to the front of the queue for another healthy host; with no healthy host left the failure is
    the request's result. Returns the requests never answered, and the last host failure.
    """
    queue = deque(requests)
    failures: list[str] = []
    capacity = sum(host.concurrency for host in among)
    with ThreadPoolExecutor(max_workers=capacity, thread_name_prefix=thread_prefix) as executor:
        running: dict[Future[Outcome], tuple[R, Host]] = {}
        _send(queue, pool, among, executor, ask, running)
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            done = _collect(finished, running, pool, among, queue, failures)
            _send(queue, pool, among, executor, ask, running)
            on_results(done)
    return list(queue), failures[-1] if failures else None


def _send(
    queue: deque[R],
    pool: HostPool,
    among: Sequence[Host],
    executor: ThreadPoolExecutor,
    ask: Callable[[R, Host, bool], Outcome],
    running: dict[Future[Outcome], tuple[R, Host]],
) -> None:
    """Fill every free slot of the healthy hosts, least busy first."""
    while queue and (host := pool.pick(among)) is not None:
        request = queue.popleft()
        alone = len(pool.healthy(among)) == 1
        host.in_flight += 1
        host.sent += 1
        running[executor.submit(ask, request, host, alone)] = (request, host)


def _collect(
    finished: set[Future[Outcome]],
    running: dict[Future[Outcome], tuple[R, Host]],
    pool: HostPool,
    among: Sequence[Host],
    queue: deque[R],
    failures: list[str],
) -> list[tuple[R, Outcome, Host]]:
    """The finished requests' results; a host failure marks the host down and re-queues its request
    while another healthy host is left."""
    done = []
    for future in finished:
        request, host = running.pop(future)
        host.in_flight -= 1
        outcome = future.result()
        if outcome.server_unavailable:
            failures.append(outcome.error or "no reply")
            pool.mark_down(host, failures[-1])
            if pool.healthy(among):
                queue.appendleft(request)
                continue
        done.append((request, outcome, host))
    return done
