"""The installed models and the one that is loaded.

Every installed model is listed and can be asked for by name; it is loaded on first use. At most
one model is resident at a time (as Ollama with ``OLLAMA_MAX_LOADED_MODELS=1``): asking for
another waits until the requests on the current one are done, then unloads it, so RAM stays at one
model's (SmolLM2-135M ~0.3 GB per copy, Qwen2.5-Coder-1.5B ~2 GB). Requests for the resident model
run side by side, as many as its engine has copies. A file's SHA-256 is checked once, before its
first load; a file that fails the check is refused for the life of the process and never loaded.

Context and lifetime follow Ollama. A request gets ``num_ctx`` tokens of context (the default when it
asks for none), never more than the model was trained for; a request asking for more than the
loaded copies hold waits for the requests in flight, and the model is loaded again with that
context (it keeps it until it is unloaded). A model stays loaded ``keep_alive`` after its last
request (the request's own, else the server's default, 5 minutes); 0 unloads it as soon as it is
idle, a negative value keeps it forever. A request that must wait for such a change is not
overtaken by requests that arrive after it.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .catalog import CATALOG, CatalogModel, ModelVerificationError, is_installed, verify_model_file
from .model import Engine, EngineConfig, ModelFile
from .protocol import DEFAULT_KEEP_ALIVE_SECONDS

logger = logging.getLogger(__name__)


class ModelPool:
    """Installed models by name; loads them lazily, one resident at a time, and unloads them when idle."""

    def __init__(
        self,
        models_dir: Path,
        config: EngineConfig,
        refused: dict[str, str] | None = None,
        keep_alive: float = DEFAULT_KEEP_ALIVE_SECONDS,
    ) -> None:
        self.models_dir = models_dir
        self.config = config
        """How models are loaded; ``config.num_ctx`` is the context of a request that asks for none."""
        self.refused: dict[str, str] = dict(refused or {})
        """Model name -> why it is not served (failed check or conversion)."""
        self.keep_alive = keep_alive
        """Seconds a model stays loaded after a request that gives no ``keep_alive`` (inf: forever)."""
        self._verified: set[str] = set()
        self._files: dict[str, ModelFile] = {}
        self._changed = threading.Condition()
        """Guards everything below; notified whenever a request ends or the resident model changes."""
        self._users = 0
        """Requests using the resident model right now."""
        self._changes_waiting = 0
        """Requests waiting until the resident model can be changed for them (newcomers queue behind)."""
        self._engine: Engine | None = None
        self._resident: CatalogModel | None = None
        self._session_seconds = keep_alive
        """The resident model's keep_alive: set by every request that uses it."""
        self._unload_asked = False
        """``keep_alive: 0`` came while requests were in flight: unload once they are done."""
        self._expires_at: float | None = None
        """``time.monotonic()`` at which the idle resident model is unloaded (None: in use, or forever)."""
        self._closed = False
        self._reaper = threading.Thread(target=self._unload_when_expired, name="keep-alive", daemon=True)
        self._reaper.start()

    def installed(self) -> list[CatalogModel]:
        """Models whose file is in place and not refused, in catalogue order."""
        return [m for m in CATALOG if m.name not in self.refused and is_installed(m, self.models_dir)]

    def model_file(self, model: CatalogModel) -> ModelFile:
        """Metadata of the model's file; its digest is the recorded SHA-256 (checked before any load)."""
        if model.name not in self._files:
            self._files[model.name] = ModelFile.inspect(model.path(self.models_dir), digest=model.sha256)
        return self._files[model.name]

    def context_for(self, model: CatalogModel, asked: int | None) -> int:
        """The context a request gets: ``asked`` (else the default), at most the model's trained context.

        Ollama, too, caps ``num_ctx`` at the trained context; an input that does not fit is refused
        with the limit named (see :func:`embedded_ollama.protocol.context_hint`).
        """
        wanted = asked if asked is not None and asked > 0 else self.config.num_ctx
        trained = self.model_file(model).context_length
        if wanted > trained:
            logger.debug("num_ctx %d is more than %s was trained for; using %d", wanted, model.name, trained)
        return min(wanted, trained)

    @property
    def resident(self) -> tuple[CatalogModel, Engine] | None:
        """The loaded model and its engine, if any."""
        if self._resident is None or self._engine is None:
            return None
        return self._resident, self._engine

    def expires_in(self) -> float:
        """Seconds until the resident model is unloaded if no request comes (inf: never)."""
        with self._changed:
            if self._expires_at is None:
                return self._session_seconds
            return max(0.0, self._expires_at - time.monotonic())

    @contextmanager
    def using(
        self, model: CatalogModel, num_ctx: int | None = None, keep_alive: float | None = None
    ) -> Iterator[tuple[Engine, float]]:
        """Hold the model loaded with at least ``num_ctx`` of context for one request: yields ``(engine, seconds waited)``.

        The seconds include waiting for requests on another model (or context) to finish and any load
        (waiting for a free copy of this one is the engine's). ``keep_alive`` (seconds, None for the
        default) says how long the model stays loaded once no request uses it. Raises
        :class:`ModelVerificationError` for a file that fails its check.
        """
        started = time.perf_counter()
        with self._changed:
            engine = self._acquire_locked(model, num_ctx or self.context_for(model, None))
            self._users += 1
            self._expires_at = None
            self._unload_asked = False
        try:
            yield engine, time.perf_counter() - started
        finally:
            with self._changed:
                self._users -= 1
                if not self._unload_asked:
                    self._session_seconds = self.keep_alive if keep_alive is None else keep_alive
                if self._users == 0:
                    self._start_keep_alive_locked()
                self._changed.notify_all()

    def load(self, model: CatalogModel) -> Engine:
        """Load ``model`` now (at start-up); it stays loaded for the default keep_alive."""
        with self._changed:
            engine = self._acquire_locked(model, self.context_for(model, None))
            if self._users == 0:
                self._start_keep_alive_locked()
            return engine

    def unload(self, model: CatalogModel) -> None:
        """``keep_alive: 0``: unload ``model`` now if no request uses it, else once its requests are done."""
        with self._changed:
            if self._is_resident(model):
                self._session_seconds = 0.0
                self._unload_asked = True
                if self._users == 0:
                    self._start_keep_alive_locked()

    def _is_resident(self, model: CatalogModel) -> bool:
        return self._resident is not None and self._resident.name == model.name and self._engine is not None

    def _fits(self, model: CatalogModel, num_ctx: int) -> bool:
        return self._is_resident(model) and self._engine is not None and self._engine.config.num_ctx >= num_ctx

    def _acquire_locked(self, model: CatalogModel, num_ctx: int) -> Engine:
        """``model``'s engine with at least ``num_ctx`` of context, (re)loaded once nothing uses the resident one.

        A request that needs a change waits until no request uses the resident model; requests that
        arrive while one waits so queue behind it instead of keeping the model busy forever.
        """
        while True:
            fits = self._fits(model, num_ctx)
            if fits and self._changes_waiting == 0:
                break
            if self._users == 0 and not fits:
                self._change_locked(model, num_ctx)
                self._changed.notify_all()
                break
            needs_change = not fits
            self._changes_waiting += needs_change
            try:
                self._changed.wait()
            finally:
                self._changes_waiting -= needs_change
        assert self._engine is not None
        return self._engine

    def _change_locked(self, model: CatalogModel, num_ctx: int) -> None:
        """Unload the resident model and load ``model`` with ``num_ctx`` of context (at least the default)."""
        path = model.path(self.models_dir)
        if model.name not in self._verified:
            try:
                verify_model_file(path, model)
            except ModelVerificationError as exc:
                self.refused[model.name] = str(exc)
                logger.warning("%s", exc)
                raise
            self._verified.add(model.name)
        self._unload_locked()
        config = dataclasses.replace(
            self.config,
            num_parallel=min(self.config.num_parallel, model.max_parallel),
            num_ctx=max(num_ctx, self.context_for(model, None)),
        )
        engine = Engine(path, config, name=model.name)
        engine.load()
        self._engine, self._resident = engine, model
        copies = "1 copy" if config.num_parallel == 1 else f"{config.num_parallel} copies"
        logger.info("loaded %s (%s, context %d) in %.2f s", model.name, copies, config.num_ctx, engine.load_seconds)

    def _start_keep_alive_locked(self) -> None:
        """The resident model just became idle: unload it now (keep_alive 0) or set when it expires."""
        if self._session_seconds <= 0:
            self._unload_locked()
        elif math.isinf(self._session_seconds):
            self._expires_at = None
        else:
            self._expires_at = time.monotonic() + self._session_seconds
        self._changed.notify_all()

    def _unload_when_expired(self) -> None:
        """The keep-alive thread: unloads the resident model once it has been idle for its keep_alive."""
        with self._changed:
            while not self._closed:
                expires_at = self._expires_at if self._users == 0 else None
                if expires_at is not None and time.monotonic() >= expires_at:
                    if self._resident is not None:
                        logger.info("unloading %s: idle for its keep_alive", self._resident.name)
                    self._unload_locked()
                    continue
                self._changed.wait(None if expires_at is None else expires_at - time.monotonic())

    def _unload_locked(self) -> None:
        if self._engine is not None and self._resident is not None:
            logger.info("unloading %s", self._resident.name)
            self._engine.close()
        self._engine, self._resident = None, None
        self._expires_at = None
        self._unload_asked = False

    def close(self) -> None:
        """Unload the resident model once its requests are done, and stop the keep-alive thread."""
        with self._changed:
            self._changed.wait_for(lambda: self._users == 0)
            self._unload_locked()
            self._closed = True
            self._changed.notify_all()
        self._reaper.join(timeout=5)
