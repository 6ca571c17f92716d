"""Project settings: defaults come from ``vars:`` in dbt_project.yml, never from Python constants."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
DBT_PROJECT_FILE = PROJECT_DIR / "dbt_project.yml"


@lru_cache(maxsize=1)
def project_vars() -> dict[str, Any]:
    """The ``vars:`` block of dbt_project.yml (the single place for thresholds and switches)."""
    with DBT_PROJECT_FILE.open() as handle:
        return dict(yaml.safe_load(handle).get("vars", {}))


def warehouse_dir() -> Path:
    """Folder holding the DuckDB file and exports: $WAREHOUSE_DIR, default ./data in the project.

    A relative $WAREHOUSE_DIR is taken from the project folder, as dbt (run from there) reads
    profiles.yml; every CLI (ingest, pipeline, report, expectations) uses this one rule."""
    configured = os.environ.get("WAREHOUSE_DIR", "data")
    path = Path(configured)
    return path if path.is_absolute() else PROJECT_DIR / path


def warehouse_path() -> Path:
    """The DuckDB file dbt's profile points at (profiles.yml uses the same $WAREHOUSE_DIR)."""
    return warehouse_dir() / "warehouse.duckdb"
