"""Where the warehouse and its companions live: ``$WAREHOUSE_DIR``, default ``data``.

The same rule as dbt's side (profiles.yml and the ``warehouse_dir()`` macro read
``env_var('WAREHOUSE_DIR', 'data')``; dbt runs from the project folder), so a relative
``WAREHOUSE_DIR`` means the same folder to every CLI, to dbt and to the dbt Python models.
"""

from __future__ import annotations

import os
from pathlib import Path

from warehouse_core.project import PROJECT_DIR

DEFAULT_WAREHOUSE_DIR = "data"
WAREHOUSE_FILE = "warehouse.duckdb"
LLM_CACHE_FILE = "llm_cache.duckdb"


def project_path(configured: str | os.PathLike[str]) -> Path:
    """A user-given path: ``~`` expanded, a relative one taken from the project folder (``..`` resolved
    as the operating system would, from there)."""
    path = Path(configured).expanduser()
    return path if path.is_absolute() else (PROJECT_DIR / path).resolve()


def warehouse_dir() -> Path:
    """The folder holding the DuckDB file and every export: ``$WAREHOUSE_DIR``, default ``data``."""
    return project_path(os.environ.get("WAREHOUSE_DIR") or DEFAULT_WAREHOUSE_DIR)


def warehouse_path() -> Path:
    """The DuckDB file dbt's profile points at."""
    return warehouse_dir() / WAREHOUSE_FILE


def llm_cache_path(configured: str | None = None) -> Path:
    """The LLM response cache: var ``llm_cache_path`` when set, else ``$WAREHOUSE_DIR/llm_cache.duckdb``."""
    return project_path(configured) if configured else warehouse_dir() / LLM_CACHE_FILE
