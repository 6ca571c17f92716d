"""Which hosts serve which model in one stage: every host is asked once for its models.

A host that is unreachable (said once per stage), lacks the model, or holds a different build of
it (another digest than the first host that has it) is not used for that model, and the log says
so: a warning in the first stage (``llm_market_analysis``), at info level in the later ones. A
model no host serves is unavailable, with every host's reason.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from warehouse_core.ollama_host import HostSetting

from .client import (
    LlmUnavailableError,
    ModelInfo,
    install_hint,
    list_models,
    make_client,
    missing_model,
    normalize_model_name,
)
from .hosts import Host, HostPool
from .settings import LlmSettings, Stage

logger = logging.getLogger(__name__)

Listing = dict[str, str] | LlmUnavailableError
"""A host's ``{model: digest}``, or why it could not be listed."""


@dataclass
class ModelRoute:
    """A model as the hosts serve it, and the hosts that serve it (all with the same digest)."""

    info: ModelInfo
    hosts: list[Host]


def open_pool(settings: LlmSettings, stage: Stage, hosts: Sequence[HostSetting] | None = None) -> HostPool:
    """One client per host (the stage's timeout), in the order the settings list them."""
    entries = hosts or settings.host_settings()
    return HostPool(
        [
            Host(entry.url, entry.concurrency or settings.concurrency, make_client(entry.url, settings.timeouts[stage]))
            for entry in entries
        ],
        settings.host_down_seconds,
    )


def list_hosts(pool: HostPool, settings: LlmSettings, name: str, loud: bool) -> dict[str, Listing]:
    """Each host's models, asked once per stage (one quick retry for a refused connection).

    With several hosts, one that cannot be listed is said once here (with one host, the model's
    'unavailable' warning says it)."""
    listings: dict[str, Listing] = {}
    for host in pool.hosts:
        try:
            listings[host.url] = list_models(
                host.client, settings.connection_retries, settings.backoff_seconds, host.url
            )
        except LlmUnavailableError as exc:
            listings[host.url] = exc
            if len(pool.hosts) > 1:
                logger.log(logging.WARNING if loud else logging.INFO, "%s: Ollama host not used: %s", name, exc)
    return listings


def route_model(name: str, model: str, pool: HostPool, listings: dict[str, Listing], loud: bool) -> ModelRoute:
    """The hosts serving ``model``; raises :class:`LlmUnavailableError` (every host's reason) when none does."""
    found: list[tuple[Host, ModelInfo]] = []
    unreachable: list[str] = []
    reasons: list[str] = []
    for host in pool.hosts:
        listing = listings[host.url]
        if isinstance(listing, LlmUnavailableError):
            unreachable.append(str(listing))  # said once by list_hosts
            continue
        wanted = normalize_model_name(model)
        if wanted in listing:
            found.append((host, ModelInfo(wanted, listing[wanted])))
        else:
            reasons.append(missing_model(listing, wanted, host.url, install_hint(host.client, wanted)))
    if not found:
        raise LlmUnavailableError("; ".join(unreachable + reasons))
    info = found[0][1]
    for host, other in found[1:]:
        if other.digest != info.digest:
            reasons.append(
                f"{host.url} holds another build of {model} (digest {other.digest[:12]}, "
                f"not {info.digest[:12]} of {found[0][0].url})"
            )
    level = logging.WARNING if loud else logging.INFO
    for reason in reasons:
        logger.log(level, "%s: Ollama host not used for %s: %s", name, model, reason)
    return ModelRoute(info, [host for host, other in found if other.digest == info.digest])
