"""Glue between dbt-duckdb Python models and the stages: logging and relation reading."""

from __future__ import annotations

import logging
from typing import Any

_HANDLER_NAME = "llm_client-dbt-bridge"


class _DbtBridge(logging.Handler):
    """Forwards ``llm_client`` log records to dbt's event log (console and logs/dbt.log)."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.set_name(_HANDLER_NAME)
        from dbt.adapters.events.logging import AdapterLogger

        self._dbt = AdapterLogger("llm")

    def emit(self, record: logging.LogRecord) -> None:
        message = self.format(record)
        if record.levelno >= logging.ERROR:
            self._dbt.error(message)
        elif record.levelno >= logging.WARNING:
            self._dbt.warning(message)
        else:
            self._dbt.info(message)


def attach_dbt_logging() -> None:
    """Route the package's log lines into dbt's log (idempotent within one dbt process)."""
    package_logger = logging.getLogger("llm_client")
    if any(h.get_name() == _HANDLER_NAME for h in package_logger.handlers):
        return
    package_logger.addHandler(_DbtBridge())
    package_logger.setLevel(logging.INFO)
    package_logger.propagate = False


def rows_of(relation: Any) -> list[dict[str, Any]]:
    """All rows of a DuckDB relation as dicts of plain Python values (dates stay ``datetime.date``)."""
    columns = list(relation.columns)
    return [dict(zip(columns, values, strict=True)) for values in relation.fetchall()]
