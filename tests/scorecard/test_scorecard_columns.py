"""The scorecard's column list has one home, signal_stats.columns.COLUMNS: the model's yml describes
exactly those columns in that order, and the report and the GX suite take them from it."""

from __future__ import annotations

import json

import yaml
from warehouse_helpers import PROJECT_DIR

from expectations.settings import suite_parameters
from report.data import REQUIRED_SCORECARD_COLUMNS, ScorecardRow
from signal_stats.columns import COLUMNS


def test_the_yml_describes_the_column_list_in_order() -> None:
    models = yaml.safe_load((PROJECT_DIR / "models/marts/scorecard/_scorecard.yml").read_text())["models"]
    card = next(m for m in models if m["name"] == "mart_strategy_scorecard")
    assert [c["name"] for c in card["columns"]] == list(COLUMNS)


def test_the_report_and_the_gx_suite_take_their_columns_from_the_list() -> None:
    assert set(ScorecardRow.model_fields) == set(COLUMNS)
    assert set(REQUIRED_SCORECARD_COLUMNS) <= set(COLUMNS)
    suite = json.loads((PROJECT_DIR / "expectations/suites/signals/strategy_scorecard.json").read_text())
    columns = next(e for e in suite["expectations"] if e["type"] == "expect_table_columns_to_match_set")
    assert columns["kwargs"]["column_set"] == {"$PARAMETER": "scorecard_columns"}
    assert suite_parameters({})["scorecard_columns"] == list(COLUMNS)
