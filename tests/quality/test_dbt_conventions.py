"""The dbt conventions (docs/dbt-conventions.md), checked on the manifest of `dbt parse` (no build):
the dbt-project-evaluator rules this project keeps, with the house conventions declared in its vars
(dbt_project.yml, scope dbt_project_evaluator) and the exceptions in
conventions/dbt_project_evaluator_exceptions.csv, one reason each. A finding that is neither fixed
nor declared fails."""

from __future__ import annotations

import csv
import fnmatch
import json
from pathlib import Path

import pytest
import yaml
from warehouse_helpers import PROJECT_DIR, run_dbt

from report.warehouse import MARTS, SCORECARD

PACKAGE = "signal_warehouse"
EXCEPTIONS = PROJECT_DIR / "conventions" / "dbt_project_evaluator_exceptions.csv"
FOLDER_TYPES = {"staging": "staging", "intermediate": "intermediate", "marts": "marts"}  # anything else: other
DEFAULT_PREFIXES = {"staging": ["stg_"], "intermediate": ["int_"], "marts": ["fct_", "dim_"], "other": ["rpt_"]}
TOO_MANY_JOINS = 7  # the evaluator's too_many_joins_threshold


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("parse")
    run_dbt(["parse"], folder)
    return json.loads((folder / "target" / "manifest.json").read_text())


def evaluator_vars() -> dict:
    return yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]["dbt_project_evaluator"]


def declared(fct_name: str, column: str, value: str) -> bool:
    """True when the exceptions file excludes ``value`` of ``column`` from ``fct_name`` (SQL like patterns)."""
    with EXCEPTIONS.open(newline="") as rows:
        return any(
            row["fct_name"] == fct_name
            and row["column_name"] == column
            and fnmatch.fnmatchcase(value, row["id_to_exclude"].replace("%", "*").replace("_", "?"))
            for row in csv.DictReader(rows)
        )


def models(manifest: dict) -> dict[str, dict]:
    return {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["package_name"] == PACKAGE
    }


def test_every_exception_has_a_reason() -> None:
    with EXCEPTIONS.open(newline="") as rows:
        for row in csv.DictReader(rows):
            assert len(row["comment"].split()) >= 5, f"{row['fct_name']} {row['id_to_exclude']}: say why in a line"


def has_key_test(tests: list[tuple[set[str], str]], groups: list[list[str]]) -> bool:
    """``tests``: (macros, column) of each test on a model. A group of one macro (a multi-column
    key test) is enough on its own; a group of several must all test the same column."""
    for group in groups:
        wanted = [f"macro.{name}" for name in group]
        columns = {column for _, column in tests if column} if len(wanted) > 1 else {None}
        for column in columns:
            if all(any(m in macros and column in (None, col) for macros, col in tests) for m in wanted):
                return True
    return False


def test_every_model_has_a_primary_key_test(manifest: dict) -> None:
    tests_on: dict[str, list[tuple[set[str], str]]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("attached_node"):
            entry = (set(node["depends_on"]["macros"]), node.get("column_name") or "")
            tests_on.setdefault(node["attached_node"], []).append(entry)
    groups = evaluator_vars()["primary_key_test_macros"]
    missing = [
        node["name"]
        for uid, node in models(manifest).items()
        if not has_key_test(tests_on.get(uid, []), groups)
        and not declared("fct_missing_primary_key_tests", "resource_name", node["name"])
    ]
    assert not missing, f"models without a key test (unique + not_null, or unique_combination_of_columns): {missing}"


def test_model_names_have_their_folder_prefix(manifest: dict) -> None:
    settings = evaluator_vars()
    wrong = []
    for node in models(manifest).values():
        model_type = FOLDER_TYPES.get(node["fqn"][1], "other")
        prefixes = settings.get(f"{model_type}_prefixes", DEFAULT_PREFIXES[model_type])
        if not node["name"].startswith(tuple(prefixes)) and not declared(
            "fct_model_naming_conventions", "resource_name", node["name"]
        ):
            wrong.append(f"{node['name']} ({node['original_file_path']}: {' or '.join(prefixes)})")
    assert not wrong, f"model names without their folder's prefix: {wrong}"


def test_sources_are_read_by_staging_models_only(manifest: dict) -> None:
    readers = [
        node["name"]
        for node in models(manifest).values()
        if node["fqn"][1] != "staging"
        and any(parent.startswith("source.") for parent in node["depends_on"]["nodes"])
        and not declared("fct_marts_or_intermediate_dependent_on_source", "child", node["name"])
    ]
    assert not readers, f"models outside staging that read a source: {readers}"


def test_sources_have_freshness_or_a_reason(manifest: dict) -> None:
    stale = [
        f"{source['source_name']}.{source['name']}"
        for source in manifest["sources"].values()
        if source["package_name"] == PACKAGE
        and not (source.get("freshness") or {}).get("warn_after", {}).get("count")
        and not (source.get("freshness") or {}).get("error_after", {}).get("count")
        and not declared("fct_sources_without_freshness", "resource_name", f"{source['source_name']}.{source['name']}")
    ]
    assert not stale, f"sources without freshness: {stale}"


def test_no_model_joins_too_many_models(manifest: dict) -> None:
    joins = [
        f"{node['name']} ({len(node['depends_on']['nodes'])})"
        for node in models(manifest).values()
        if len(node["depends_on"]["nodes"]) >= TOO_MANY_JOINS
        and not declared("fct_too_many_joins", "resource_name", node["name"])
    ]
    assert not joins, f"models reading {TOO_MANY_JOINS} or more models: {joins}"


def test_exposure_parents_are_public_tables_with_contracts(manifest: dict) -> None:
    problems = []
    for exposure in manifest["exposures"].values():
        for uid in exposure["depends_on"]["nodes"]:
            node = manifest["nodes"].get(uid)
            if node is None or node["resource_type"] != "model":
                continue
            name = node["name"]
            if node["access"] != "public":
                problems.append(f"{exposure['name']} reads {name}, which is {node['access']}, not public")
            if not node["contract"]["enforced"] and not declared(
                "fct_public_models_without_contract", "resource_name", name
            ):
                problems.append(f"{exposure['name']} reads {name}, whose contract is not enforced")
            if node["config"]["materialized"] not in ("table", "incremental") and not declared(
                "fct_exposure_parents_materializations", "parent_resource_name", name
            ):
                problems.append(f"{exposure['name']} reads {name}, a {node['config']['materialized']}")
    assert not problems, "\n".join(sorted(set(problems)))


def test_the_report_exposure_lists_every_mart_the_report_reads(manifest: dict) -> None:
    """The report reads report.warehouse.MARTS and the scorecard (tests/report's marts_only
    warehouse holds nothing else, and the report runs on it); the exposure must name each."""
    exposure = next(e for e in manifest["exposures"].values() if e["name"] == "signal_report")
    listed = {manifest["nodes"][uid]["name"] for uid in exposure["depends_on"]["nodes"] if uid in manifest["nodes"]}
    assert listed == {*MARTS, SCORECARD}


def test_the_conventions_file_is_not_a_seed() -> None:
    """The exceptions file is the evaluator's seed, but the warehouse must not hold it: it lives outside seeds/."""
    seed_paths = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text()).get("seed-paths", ["seeds"])
    assert not any(Path(EXCEPTIONS).is_relative_to(PROJECT_DIR / path) for path in seed_paths)
