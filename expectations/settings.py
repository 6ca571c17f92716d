"""Run settings: dbt vars from dbt_project.yml (plus --vars overrides) become GX suite parameters."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from python_ingest.settings import warehouse_dir

PROJECT_DIR = Path(__file__).resolve().parent.parent
DBT_PROJECT_FILE = PROJECT_DIR / "dbt_project.yml"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def default_warehouse_dir() -> Path:
    """The warehouse dir every CLI and dbt use ($WAREHOUSE_DIR, one rule: python_ingest.settings)."""
    return warehouse_dir()


def load_dbt_vars(overrides: dict[str, Any] | None = None, project_file: Path = DBT_PROJECT_FILE) -> dict[str, Any]:
    """``vars:`` of dbt_project.yml with ``overrides`` applied on top, as dbt's ``--vars`` would."""
    with project_file.open() as handle:
        project = yaml.safe_load(handle)
    return {**(project.get("vars") or {}), **(overrides or {})}


def parse_vars_option(text: str | None) -> dict[str, Any]:
    """Parse a ``--vars`` value the way dbt does (a YAML or JSON mapping)."""
    if not text:
        return {}
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(
            f"--vars is not valid YAML/JSON ({str(exc).splitlines()[0]}): e.g. --vars '{{min_trading_days: 60}}'"
        ) from None
    if not isinstance(parsed, dict):
        raise ValueError(f"--vars must be a YAML/JSON mapping, got: {text!r}")
    return parsed


def suite_parameters(dbt_vars: dict[str, Any]) -> dict[str, Any]:
    """GX suite parameters: every dbt var by its own name, ISO dates as timestamps, plus
    ``tickers_in_scope`` (tickers + benchmark), the set the staging layer keeps."""
    params: dict[str, Any] = {}
    for name, value in dbt_vars.items():
        if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.match(value)):
            params[name] = pd.Timestamp(value)
        else:
            params[name] = value
    tickers = list(dbt_vars.get("tickers") or [])
    benchmark = dbt_vars.get("benchmark_ticker")
    params["tickers_in_scope"] = tickers + ([benchmark] if benchmark else [])
    return params
