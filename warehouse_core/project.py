"""The project folder and its settings: ``vars:`` in dbt_project.yml is the one place for them."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from warehouse_core.errors import UserError

PROJECT_DIR = Path(__file__).resolve().parent.parent
"""The dbt project (the folder holding dbt_project.yml); dbt and every CLI run from here."""
DBT_PROJECT_FILE = PROJECT_DIR / "dbt_project.yml"


@lru_cache(maxsize=1)
def _declared_vars() -> Mapping[str, Any]:
    with DBT_PROJECT_FILE.open() as handle:
        return dict(yaml.safe_load(handle).get("vars") or {})


def project_vars(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``vars:`` of dbt_project.yml with ``overrides`` on top, as ``dbt --vars`` applies them."""
    return {**_declared_vars(), **(overrides or {})}


def parse_vars_option(text: str | None) -> dict[str, Any]:
    """A ``--vars`` value parsed the way dbt parses it: a YAML (or JSON) mapping; empty means none."""
    if not text:
        return {}
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UserError(
            f"--vars is not valid YAML/JSON ({str(exc).splitlines()[0]}): e.g. --vars '{{min_trading_days: 60}}'"
        ) from None
    if not isinstance(parsed, dict):
        raise UserError(f"--vars must be a YAML/JSON mapping, got: {text!r}")
    return parsed
