"""Run settings: dbt vars (warehouse_core.project.project_vars, with --vars applied) become GX suite parameters."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pandas as pd

from signal_stats.columns import COLUMNS

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def suite_parameters(dbt_vars: dict[str, Any]) -> dict[str, Any]:
    """GX suite parameters: every dbt var by its own name, ISO dates as timestamps, plus
    ``tickers_in_scope`` (tickers + benchmark), the set the staging layer keeps, and ``scorecard_columns``
    (signal_stats.columns.COLUMNS)."""
    params: dict[str, Any] = {}
    for name, value in dbt_vars.items():
        if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.match(value)):
            params[name] = pd.Timestamp(value)
        else:
            params[name] = value
    tickers = list(dbt_vars.get("tickers") or [])
    benchmark = dbt_vars.get("benchmark_ticker")
    params["tickers_in_scope"] = tickers + ([benchmark] if benchmark else [])
    params["scorecard_columns"] = list(COLUMNS)  # the scorecard's column list, kept in one place
    return params
