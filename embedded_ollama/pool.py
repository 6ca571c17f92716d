"""The installed models and the one that is loaded.

Every installed model is listed and can be asked for by name; it is loaded on first use. At most
one model is resident at a time (as Ollama with ``OLLAMA_MAX_LOADED_MODELS=1``): asking for
another waits until the requests on the current one are done, then unloads it, so RAM stays at one
model's (SmolLM2-135M ~0.3 GB per copy, Qwen2.5-Coder-1.5B ~2 GB). Requests for the resident model
run side by side, as many as its engine has copies. A file's SHA-256 is checked once, before its
first load; a file that fails the check is refused for the life of the process and never loaded.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .catalog import CATALOG, CatalogModel, ModelVerificationError, is_installed, verify_model_file
from .model import Engine, EngineConfig, ModelFile

logger = logging.getLogger(__name__)


class ModelPool:
    """Installed models by name; loads them lazily, one resident at a time."""

    def __init__(self, models_dir: Path, config: EngineConfig, refused: dict[str, str] | None = None) -> None:
        self.models_dir = models_dir
        self.config = config
        self.refused: dict[str, str] = dict(refused or {})
        """Model name -> why it is not served (failed check or conversion)."""
        self._verified: set[str] = set()
        self._files: dict[str, ModelFile] = {}
        self._changed = threading.Condition()
        """Guards the resident model and ``_users``; notified when a request ends."""
        self._users = 0
        """Requests using the resident model right now."""
        self._engine: Engine | None = None
        self._resident: CatalogModel | None = None

    def installed(self) -> list[CatalogModel]:
        """Models whose file is in place and not refused, in catalogue order."""
        return [m for m in CATALOG if m.name not in self.refused and is_installed(m, self.models_dir)]

    def model_file(self, model: CatalogModel) -> ModelFile:
        """Metadata of the model's file; its digest is the recorded SHA-256 (checked before any load)."""
        if model.name not in self._files:
            self._files[model.name] = ModelFile.inspect(model.path(self.models_dir), digest=model.sha256)
        return self._files[model.name]

    @property
    def resident(self) -> tuple[CatalogModel, Engine] | None:
        """The loaded model and its engine, if any."""
        if self._resident is None or self._engine is None:
            return None
        return self._resident, self._engine

    @contextmanager
    def using(self, model: CatalogModel) -> Iterator[tuple[Engine, float]]:
        """Hold the model loaded (loading it if needed) for one request: yields ``(engine, seconds waited)``.

        The seconds include waiting for requests on another model to finish and any load (waiting
        for a free copy of this one is the engine's). Raises :class:`ModelVerificationError` for a
        file that fails its check.
        """
        started = time.perf_counter()
        with self._changed:
            engine = self._load_locked(model)
            self._users += 1
        try:
            yield engine, time.perf_counter() - started
        finally:
            with self._changed:
                self._users -= 1
                self._changed.notify_all()

    def load(self, model: CatalogModel) -> Engine:
        """Load ``model`` now (at start-up)."""
        with self._changed:
            return self._load_locked(model)

    def _is_resident(self, model: CatalogModel) -> bool:
        return self._resident is not None and self._resident.name == model.name and self._engine is not None

    def _load_locked(self, model: CatalogModel) -> Engine:
        """``model``'s engine, loaded once the requests on another resident model are done."""
        self._changed.wait_for(lambda: self._users == 0 or self._is_resident(model))
        if self._is_resident(model):
            assert self._engine is not None
            return self._engine
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
        config = dataclasses.replace(self.config, num_parallel=min(self.config.num_parallel, model.max_parallel))
        engine = Engine(path, config, name=model.name)
        engine.load()
        self._engine, self._resident = engine, model
        copies = "1 copy" if config.num_parallel == 1 else f"{config.num_parallel} copies"
        logger.info("loaded %s (%s) in %.2f s", model.name, copies, engine.load_seconds)
        return engine

    def _unload_locked(self) -> None:
        if self._engine is not None and self._resident is not None:
            logger.info("unloading %s", self._resident.name)
            self._engine.close()
        self._engine, self._resident = None, None

    def close(self) -> None:
        """Unload the resident model once its requests are done."""
        with self._changed:
            self._changed.wait_for(lambda: self._users == 0)
            self._unload_locked()
