"""Load the versioned suite files: GX ExpectationSuite JSON plus where to read the batch from.

Each file ``suites/<layer>/<name>.json`` is an ExpectationSuite as GX serialises it. Its ``meta``
says which warehouse relation it validates and how to batch it:

* ``relation``  - ``schema.table`` in the DuckDB warehouse (required);
* ``order_by``  - row order of the dataframe, for order-sensitive expectations such as
  ``expect_column_values_to_be_increasing`` (default: no order);
* ``batch_by``  - columns whose distinct values each get their own batch (e.g. ``["ticker"]``
  validates every ticker separately, so "dates increase" means "within a ticker").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import great_expectations as gx
from great_expectations.core.suite_parameters import parse_suite_parameter
from pydantic import BaseModel, Field

from warehouse_core import UserError

SUITES_DIR = Path(__file__).resolve().parent / "suites"
LAYERS = ("raw", "clean", "features", "llm", "backtest", "signals")


class SuiteSpec(BaseModel):
    """One suite file: the GX suite body and the relation it validates."""

    name: str
    layer: str
    path: Path
    relation: str
    order_by: list[str] = Field(default_factory=list)
    batch_by: list[str] = Field(default_factory=list)
    body: dict[str, Any]

    @property
    def schema_name(self) -> str:
        return self.relation.split(".", 1)[0]

    @property
    def table_name(self) -> str:
        return self.relation.split(".", 1)[1]

    def to_gx_suite(self, parameters: dict[str, Any] | None = None) -> gx.ExpectationSuite:
        """A fresh GX ExpectationSuite built from the file (GX validates every expectation's kwargs).

        With ``parameters``, every ``{"$PARAMETER": expr}`` is evaluated by GX's own suite-parameter
        parser first, so the suite (and its Data Docs page) carries the concrete thresholds of this
        run: GX 1.24's Data Docs renderers cannot display an unresolved parameter (e.g. ``mostly``).
        """
        body = json.loads(json.dumps(self.body))
        if parameters is not None:
            body["expectations"] = _resolve(body.get("expectations", []), parameters)
        return gx.ExpectationSuite(**body)

    def parameter_names(self) -> set[str]:
        """Names used in ``{"$PARAMETER": ...}`` expressions (identifiers only, not operators)."""
        names: set[str] = set()
        for expression in _parameter_expressions(self.body.get("expectations", [])):
            names.update(token for token in _identifiers(expression))
        return names


def _parameter_expressions(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if set(node) == {"$PARAMETER"}:
            yield str(node["$PARAMETER"])
            return
        for value in node.values():
            yield from _parameter_expressions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _parameter_expressions(value)


def _resolve(node: Any, parameters: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if set(node) == {"$PARAMETER"}:
            return parse_suite_parameter(str(node["$PARAMETER"]), parameters)
        return {key: _resolve(value, parameters) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(value, parameters) for value in node]
    return node


def _identifiers(expression: str) -> Iterator[str]:
    yield from re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expression)


def load_suite(path: Path) -> SuiteSpec:
    body = json.loads(path.read_text())
    meta = body.get("meta") or {}
    if "relation" not in meta or "." not in meta["relation"]:
        raise UserError(f"{path}: meta.relation must name the validated table as schema.table")
    return SuiteSpec(
        name=body["name"],
        layer=path.parent.name,
        path=path,
        relation=meta["relation"],
        order_by=meta.get("order_by") or [],
        batch_by=meta.get("batch_by") or [],
        body=body,
    )


def load_suites(selection: list[str] | None = None, suites_dir: Path = SUITES_DIR) -> list[SuiteSpec]:
    """All suite files in layer order; ``selection`` keeps those whose layer or name is listed."""
    specs = [load_suite(path) for layer in LAYERS for path in sorted((suites_dir / layer).glob("*.json"))]
    if selection:
        wanted = set(selection)
        unknown = wanted - {s.layer for s in specs} - {s.name for s in specs}
        if unknown:
            known = ", ".join(sorted({s.layer for s in specs} | {s.name for s in specs}))
            raise UserError(f"unknown suite or layer: {', '.join(sorted(unknown))} (known: {known})")
        specs = [s for s in specs if s.layer in wanted or s.name in wanted]
    return specs
