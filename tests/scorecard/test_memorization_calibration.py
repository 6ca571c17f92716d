"""The memorisation test's calibration, reduced (benchmarks/memorization_calibration.py runs the full
one): on simulated markets, twins without memory are flagged at most 10 % of the time (nominal 5 %),
a named twin 20 % more often right than its blind twin at least 80 % of the time. No warehouse, no
model: the simulation feeds signal_stats.memorization directly."""

from __future__ import annotations

from benchmarks import memorization_calibration as calibration
from warehouse_core.project import project_vars

REPLICATES, DRAWS = 60, 500
NULLS = ["sticky 85 %, independent", "named leans BUY, market +30 %/yr", "momentum named, buy-the-dip blind"]
MEMORY = "named 20 % skill, blind none"


def flagged_share(name: str) -> float:
    scenario = next(s for s in calibration.scenarios() if s.name == name)
    settings = calibration.settings_from_vars(DRAWS)
    band = project_vars()["hold_hit_band"]
    p_values = [calibration.replicate(scenario, index, settings, band)[1] for index in range(REPLICATES)]
    return sum(p < settings.significance for p in p_values) / REPLICATES


def test_twins_without_memory_are_rarely_flagged_and_memory_is_found() -> None:
    for name in NULLS:
        assert flagged_share(name) <= 0.10, name
    assert flagged_share(MEMORY) >= 0.80
