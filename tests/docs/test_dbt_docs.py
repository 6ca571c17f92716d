"""dbt docs: every model, column and source documented, the catalog covers every model,
exposures name their owners, sources are fresh, and the analyses compile and run."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import duckdb
import pytest
import yaml
from warehouse_helpers import PROJECT_DIR, run_dbt

pytestmark = [pytest.mark.warehouse, pytest.mark.model]

PACKAGE = "signal_warehouse"


@pytest.fixture(scope="module")
def docs(built_warehouse: Path) -> dict:
    """`dbt docs generate` on the built warehouse: manifest, catalog and the static site."""
    result = run_dbt(["docs", "generate"], built_warehouse)
    assert "Catalog written" in result.stdout
    target = built_warehouse / "target"
    return {
        "manifest": json.loads((target / "manifest.json").read_text()),
        "catalog": json.loads((target / "catalog.json").read_text()),
        "target": target,
    }


def _models(manifest: dict) -> dict[str, dict]:
    return {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["package_name"] == PACKAGE
    }


def test_the_catalog_covers_every_model_and_the_site_is_written(docs: dict) -> None:
    models = _models(docs["manifest"])
    assert len(models) >= 15
    missing = sorted(node["name"] for uid, node in models.items() if uid not in docs["catalog"]["nodes"])
    assert not missing, f"models not in catalog.json (not built?): {missing}"
    assert (docs["target"] / "index.html").is_file()  # what `dbt docs serve` serves


def test_every_model_and_every_column_is_described_and_owned(docs: dict) -> None:
    problems = []
    for uid, node in sorted(_models(docs["manifest"]).items()):
        name = node["name"]
        if not node["description"].strip():
            problems.append(f"{name}: no description")
        if not (node["config"].get("meta") or {}).get("owner"):
            problems.append(f"{name}: no meta.owner")
        built = {c.lower() for c in docs["catalog"]["nodes"][uid]["columns"]}
        described = {c.lower() for c, col in node["columns"].items() if col["description"].strip()}
        documented = {c.lower() for c in node["columns"]}
        if built - described:
            problems.append(f"{name}: undescribed columns {sorted(built - described)}")
        if documented - built:
            problems.append(f"{name}: yml documents columns the table does not have {sorted(documented - built)}")
    assert not problems, "\n".join(problems)


def test_sources_are_described_and_have_freshness(docs: dict, built_warehouse: Path) -> None:
    """Every source is described and has a freshness rule, unless its meta.freshness says why not
    (signals files are loaded on demand: their age says nothing about staleness)."""
    sources = docs["manifest"]["sources"]
    assert {s["name"] for s in sources.values()} >= {"prices", "ingest_runs", "signals", "signal_loads"}
    with_freshness = 0
    for uid, source in sources.items():
        assert source["description"].strip() and source["source_description"].strip(), uid
        if not (source["meta"] or {}).get("freshness"):
            assert source["loaded_at_field"], uid
            assert (source["freshness"] or {}).get("warn_after", {}).get("count"), f"{uid} has no freshness"
            with_freshness += 1
        built = set(docs["catalog"]["sources"][uid]["columns"])
        described = {c for c, col in source["columns"].items() if col["description"].strip()}
        assert built <= described, f"{uid}: undescribed columns {sorted(built - described)}"
    result = run_dbt(["source", "freshness"], built_warehouse)
    assert result.stdout.count("PASS freshness") == with_freshness >= 2, result.stdout[-2000:]


def test_exposures_for_the_report_and_a_bi_dashboard(docs: dict) -> None:
    manifest = docs["manifest"]
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert exposures["signal_report"]["type"] == "application"
    assert exposures["bi_signal_dashboard"]["type"] == "dashboard"
    for exposure in exposures.values():
        assert exposure["owner"]["name"] and exposure["description"].strip(), exposure["name"]
        assert (exposure["config"].get("meta") or {}).get("owner"), exposure["name"]
        for uid in exposure["depends_on"]["nodes"]:
            assert manifest["nodes"][uid]["original_file_path"].startswith("models/marts/"), (
                f"{exposure['name']} reads {uid}, which is not a mart"
            )
    report_reads = set(exposures["signal_report"]["depends_on"]["nodes"])
    assert {f"model.{PACKAGE}.mart_backtest_summary", f"model.{PACKAGE}.mart_signal_tracking"} <= report_reads


def test_repeated_descriptions_use_doc_blocks() -> None:
    """A literal column description written out three or more times belongs in a {% docs %} block."""
    uses = collections.defaultdict(list)
    for path in sorted((PROJECT_DIR / "models").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            for column in model.get("columns") or []:
                text = (column.get("description") or "").strip()
                if text and "{{" not in text:
                    uses[text].append(f"{model['name']}.{column['name']}")
    repeated = {text: where for text, where in uses.items() if len(where) >= 3}
    assert not repeated, repeated


def test_analyses_compile_and_run_on_the_warehouse(built_warehouse: Path) -> None:
    run_dbt(["compile", "--select", "resource_type:analysis"], built_warehouse)
    compiled = sorted((built_warehouse / "target" / "compiled" / PACKAGE / "analyses").glob("*.sql"))
    names = {path.stem for path in compiled}
    assert {"llm_vs_baselines_by_ticker", "signal_confidence_calibration", "hit_rate_by_action"} <= names
    with duckdb.connect(str(built_warehouse / "warehouse.duckdb"), read_only=True) as con:
        for path in compiled:
            rows = con.execute(path.read_text()).fetchall()
            assert rows, f"analysis {path.stem} returned no rows"
