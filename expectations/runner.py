"""Validate warehouse tables with the GX suites and build Data Docs.

Why pandas and not GX's SQL datasource: GX Core 1.24's SQL datasource over ``duckdb-engine`` fails
while resolving metric bundles (an ``IndexError`` in ``resolve_metric_bundle``, an upstream
issue), so each relation is read once through a read-only DuckDB connection into a dataframe and
validated as a GX pandas dataframe batch. The tables are small (tens of thousands of rows).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import great_expectations as gx
import pandas as pd
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from pydantic import BaseModel, Field
from tqdm import tqdm

from expectations.offline_docs import make_offline
from expectations.suites import SuiteSpec
from warehouse_core.warehouse import connect

log = logging.getLogger(__name__)

DOCS_SITE = "warehouse"
DOCS_MARKER = ".gx_data_docs"  # written into the docs dir so a rerun may safely replace it


class Failure(BaseModel):
    """One failed expectation in one batch, short enough for a terminal."""

    batch: str
    expectation: str
    column: str | None = None
    detail: str


class SuiteOutcome(BaseModel):
    """What one suite found: PASS, FAIL, MISSING (relation not built) or ERROR (could not run)."""

    suite: str
    layer: str
    relation: str
    status: str
    rows: int = 0
    batches: int = 0
    evaluated: int = 0
    failed: int = 0
    failures: list[Failure] = Field(default_factory=list)
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "PASS"


def _existing_relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    return {f"{schema}.{table}" for schema, table in rows}


def _read_relation(con: duckdb.DuckDBPyConnection, spec: SuiteSpec) -> pd.DataFrame:
    order = ", ".join(f'"{column}"' for column in spec.order_by)
    sql = f'select * from "{spec.schema_name}"."{spec.table_name}"' + (f" order by {order}" if order else "")
    return con.execute(sql).df()


def _batches(spec: SuiteSpec, frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    if not spec.batch_by or frame.empty:
        return [("all rows", frame)]
    groups = frame.groupby(spec.batch_by, sort=True, dropna=False)
    return [
        (
            ", ".join(
                f"{c}={'none' if pd.isna(v) else v}"
                for c, v in zip(spec.batch_by, key if isinstance(key, tuple) else (key,), strict=False)
            ),
            part.reset_index(drop=True),
        )
        for key, part in groups
    ]


def _run_name(suite: str, label: str) -> str:
    """Data Docs use the run name as a folder: keep it to safe characters."""
    return re.sub(r"[^A-Za-z0-9_.=^-]+", "_", f"{suite}.{label}")


def _condition_text(condition: Any) -> str:
    """GX row conditions (Condition objects or their serialised dicts) as ``a == 1 and b == x``."""
    if isinstance(condition, dict):
        if "conditions" in condition:
            joiner = f" {condition.get('type', 'and')} "
            return "(" + joiner.join(_condition_text(part) for part in condition["conditions"]) + ")"
        if "column" in condition:
            return f"{condition['column']['name']} {condition['operator']} {condition['parameter']!r}"
    if hasattr(condition, "conditions"):
        return "(" + " and ".join(_condition_text(part) for part in condition.conditions) + ")"
    return str(getattr(condition, "pass_through_filter", condition))


def _describe_failure(batch: str, result: Any) -> Failure:
    config = result.expectation_config
    kwargs = {
        k: v for k, v in config.kwargs.items() if k not in ("batch_id", "column", "row_condition", "condition_parser")
    }
    outcome = result.result or {}
    parts = [f"expected {kwargs}"]
    if config.kwargs.get("row_condition"):
        parts.append(f"where {_condition_text(config.kwargs['row_condition'])}")
    if "observed_value" in outcome:
        parts.append(f"observed {outcome['observed_value']!r}")
    if outcome.get("unexpected_count"):
        sample = outcome.get("partial_unexpected_list") or []
        parts.append(f"{outcome['unexpected_count']} unexpected, e.g. {sample[:3]!r}")
    if result.exception_info and result.exception_info.get("raised_exception"):
        parts.append(f"raised {result.exception_info.get('exception_message')}")
    return Failure(batch=batch, expectation=config.type, column=config.kwargs.get("column"), detail="; ".join(parts))


def _prepare_docs_dir(docs_dir: Path) -> None:
    """Replace the Data Docs of an earlier run, but never delete a folder we did not write."""
    if docs_dir.exists() and any(docs_dir.iterdir()):
        if not (docs_dir / DOCS_MARKER).exists():
            raise FileExistsError(
                f"{docs_dir} is not empty and was not written by `python -m expectations`; pick another --docs-dir"
            )
        shutil.rmtree(docs_dir)
    docs_dir.mkdir(parents=True, exist_ok=True)
    (docs_dir / DOCS_MARKER).write_text("Data Docs written by `python -m expectations`; replaced on every run.\n")


def run_suites(
    warehouse_file: Path,
    specs: list[SuiteSpec],
    parameters: dict[str, Any],
    docs_dir: Path | None,
    allow_missing: bool = False,
) -> list[SuiteOutcome]:
    """Validate every suite against ``warehouse_file`` (opened read-only) and build Data Docs.

    A missing or locked warehouse raises ``UserError``, before the Data Docs of the last run are touched.
    """
    outcomes: list[SuiteOutcome] = []
    # connect first: a locked warehouse must not cost the Data Docs of the last run
    with (
        connect(warehouse_file, read_only=True) as con,
        tempfile.TemporaryDirectory(prefix="gx_context_") as context_root,
    ):
        context = gx.get_context(mode="file", project_root_dir=context_root)
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        if docs_dir is not None:
            _prepare_docs_dir(docs_dir)
            context.add_data_docs_site(
                site_name=DOCS_SITE,
                site_config={
                    "class_name": "SiteBuilder",
                    "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
        datasource = context.data_sources.add_pandas("warehouse")
        run_time = dt.datetime.now(dt.timezone.utc)
        existing = _existing_relations(con)
        for spec in tqdm(specs, desc="expectation suites", unit="suite", disable=None):
            outcomes.append(_run_one(context, datasource, con, spec, existing, parameters, run_time, allow_missing))
        if docs_dir is not None:
            context.build_data_docs(site_names=[DOCS_SITE])
            offline = make_offline(docs_dir)
            log.info(
                "Data Docs written to %s%s", docs_dir / "index.html", " (offline: assets vendored)" if offline else ""
            )
    return outcomes


def _run_one(
    context,
    datasource,
    con,
    spec: SuiteSpec,
    existing: set[str],
    parameters: dict[str, Any],
    run_time: dt.datetime,
    allow_missing: bool,
) -> SuiteOutcome:
    base = {"suite": spec.name, "layer": spec.layer, "relation": spec.relation}
    if spec.relation not in existing:
        return SuiteOutcome(
            **base,
            status="SKIPPED" if allow_missing else "MISSING",
            message=f"table {spec.relation} is not in the warehouse (model not built yet?)",
        )
    unknown = sorted(spec.parameter_names() - set(parameters))
    if unknown:
        return SuiteOutcome(
            **base, status="ERROR", message=f"suite uses $PARAMETER(s) that are not dbt vars: {', '.join(unknown)}"
        )
    frame = _read_relation(con, spec)
    missing_columns = [c for c in spec.order_by + spec.batch_by if c not in frame.columns]
    if missing_columns:
        return SuiteOutcome(
            **base,
            status="ERROR",
            rows=len(frame),
            message=f"meta.order_by/batch_by name columns not in {spec.relation}: {missing_columns}",
        )
    suite = context.suites.add(spec.to_gx_suite(parameters))
    asset = datasource.add_dataframe_asset(spec.name)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(
            name=spec.name, data=asset.add_batch_definition_whole_dataframe("whole table"), suite=suite
        )
    )
    outcome = SuiteOutcome(**base, status="PASS", rows=len(frame))
    for label, part in _batches(spec, frame):
        result = definition.run(
            batch_parameters={"dataframe": part},
            result_format="SUMMARY",
            run_id=RunIdentifier(run_name=_run_name(spec.name, label), run_time=run_time),
        )
        outcome.batches += 1
        outcome.evaluated += result.statistics["evaluated_expectations"]
        failed = [r for r in result.results if not r.success]
        outcome.failed += len(failed)
        outcome.failures.extend(_describe_failure(label, r) for r in failed)
    if outcome.failed:
        outcome.status = "FAIL"
    return outcome
