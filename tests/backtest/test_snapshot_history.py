"""snap_signal_validation keeps each signal's validation history across runs.

First run: prices only up to mid-February, so the latest signals' 20-day outcome is pending.
Second run: the full series; those signals get a hit or miss, and the snapshot holds both versions.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from price_fixtures import fixture_prices, fixture_vars, query, vars_arg, write_prices
from warehouse_helpers import run_dbt

pytestmark = pytest.mark.warehouse

TICKERS = ["WAVE", "ALT"]
SELECT = ["--select", "+snap_signal_validation"]


def test_pending_then_decided_gives_two_versions(tmp_path: Path) -> None:
    write_prices(tmp_path, fixture_prices())
    run_dbt(["build", *SELECT, *vars_arg(fixture_vars(TICKERS, end="2020-02-21"))], tmp_path)
    first = query(tmp_path, "select signal_id, outcome from main_snapshots.snap_signal_validation")
    pending = {r["signal_id"] for r in first if r["outcome"] == "pending"}
    assert pending and len(first) == len({r["signal_id"] for r in first})

    run_dbt(["build", *SELECT, *vars_arg(fixture_vars(TICKERS))], tmp_path)
    history = query(
        tmp_path,
        "select signal_id, outcome, dbt_valid_from, dbt_valid_to from main_snapshots.snap_signal_validation order by signal_id, dbt_valid_from",
    )
    by_signal: dict[str, list[dict]] = {}
    for row in history:
        by_signal.setdefault(row["signal_id"], []).append(row)
    decided_now = [s for s in pending if any(v["outcome"] != "pending" for v in by_signal[s])]
    assert decided_now, "some pending signal should be decided once the later prices arrive"
    for signal_id in decided_now:
        old, new = by_signal[signal_id]
        assert old["outcome"] == "pending" and old["dbt_valid_to"] is not None
        assert new["outcome"] in ("hit", "miss") and new["dbt_valid_to"] is None
    current = [r for r in history if r["dbt_valid_to"] is None]
    assert len(current) == len({r["signal_id"] for r in history})  # one current version per signal
