"""Product functions stay short: at most 60 lines each (def line to last line; tests and benchmarks excepted)."""

from __future__ import annotations

import ast
from pathlib import Path

from warehouse_helpers import PROJECT_DIR

MAX_FUNCTION_LINES = 60
PRODUCT_PACKAGES = (
    "warehouse_core",
    "python_ingest",
    "pipeline",
    "llm_client",
    "embedded_ollama",
    "report",
    "expectations",
    "signal_stats",
    "models/llm",
    "models/marts",
)


def long_functions(path: Path, root: Path = PROJECT_DIR, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """``file:line name (n lines)`` for every function or method in ``path`` longer than ``limit``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > limit:
                found.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({lines} lines)")
    return found


def product_files() -> list[Path]:
    return sorted(path for package in PRODUCT_PACKAGES for path in (PROJECT_DIR / package).rglob("*.py"))


def test_every_product_package_is_scanned() -> None:
    files = product_files()
    for package in PRODUCT_PACKAGES:
        assert any(path.is_relative_to(PROJECT_DIR / package) for path in files), f"no Python files in {package}"


def test_the_length_rule_sees_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    sample = tmp_path / "sample.py"
    sample.write_text(
        f"def short():\n    return 1\n\n\nclass C:\n    def too_long(self):\n{body.replace('    ', '        ')}\n"
    )
    assert long_functions(sample, tmp_path) == [f"sample.py:6 too_long ({MAX_FUNCTION_LINES + 1} lines)"]


def test_no_product_function_is_longer_than_60_lines() -> None:
    offenders = [entry for path in product_files() for entry in long_functions(path)]
    assert offenders == [], "split these functions:\n" + "\n".join(offenders)
