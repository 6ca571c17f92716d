"""The scorecard section: one verdict line per strategy with its p-values, the same in JSON and HTML,
and one line saying what to do on a warehouse built before the scorecard existed.

The scorecard here is hand-made (scorecard_fixture.py): these tests check the rendering, not the
statistics; the last one reads whatever the real build made."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from scorecard_fixture import add_scorecard
from warehouse_helpers import run_cli

from report.warehouse import SCORECARD

pytestmark = [pytest.mark.warehouse, pytest.mark.model]
MISSING = "no scorecard: run dbt build"


def verdict_line(text: str, strategy: str) -> str:
    """The one scorecard line of ``strategy`` (between the SCORECARD title and the next blank line)."""
    block = text[text.index("SCORECARD") :].split("\n\n")[0]
    lines = [line for line in block.splitlines() if line.startswith(strategy + " ")]
    assert len(lines) == 1, block
    return lines[0]


def expected_p(value: float) -> str:
    return "p<0.001" if value < 0.001 else f"p={value:.3f}" if value < 0.01 else f"p={value:.2f}"


def test_without_the_scorecard_the_report_says_run_dbt_build(without_scorecard: Path, tmp_path: Path) -> None:
    text = run_cli(["report"], without_scorecard).stdout
    assert MISSING in text and "SUMMARY BY TICKER" in text
    report = json.loads(run_cli(["report", "--format", "json"], without_scorecard).stdout)
    assert report["scorecard"] is None and report["scorecard_missing"] == MISSING
    page = tmp_path / "r.html"
    run_cli(["report", "--format", "html", "--output", str(page)], without_scorecard)
    assert MISSING in page.read_text(encoding="utf-8")


def test_one_verdict_line_per_strategy_with_its_p_values(with_scorecard: tuple[Path, list[dict]]) -> None:
    folder, rows = with_scorecard
    text = run_cli(["report"], folder).stdout
    for row in rows:
        line = verdict_line(text, row["strategy"])
        assert line.split()[1] == row["verdict"]
        assert (
            f"hit {row['hit_rate'] * 100:.1f}% vs {row['random_timing_hit_rate'] * 100:.1f}% at random times, "
            f"adj {expected_p(row['signal_timing_adjusted_p_value'])} (raw {expected_p(row['signal_timing_p_value'])}, "
            f"{row['random_timing_family_size']} tried), MDE {row['minimum_detectable_effect'] * 100:.1f} pts"
        ) in line, line
        assert f"portfolio {expected_p(row['portfolio_timing_p_value'])}" in line
        assert f"SPA {expected_p(row['spa_p_value'])}" in line and f"PSR {row['probabilistic_sharpe']:.2f}" in line
        assert line.index("adj p") < line.index("SPA"), "the verdict's figures lead, the descriptive ones follow"
        assert f"n={row['signals']}" in line and row["verdict_reason"] in line
    assert any("p<0.001" in verdict_line(text, row["strategy"]) for row in rows)
    llm = [row["strategy"] for row in rows if row["decisions"] is not None]
    health = text[text.index("LLM OUTPUT HEALTH") :].split("\n\n")[0] if llm else ""
    for strategy in llm:
        assert any(line.startswith(strategy) and " 48 " in line and "1234" in line for line in health.splitlines())


def test_json_scorecard_holds_every_column_of_the_mart(with_scorecard: tuple[Path, list[dict]]) -> None:
    folder, rows = with_scorecard
    report = json.loads(run_cli(["report", "--format", "json"], folder).stdout)
    assert report["scorecard_missing"] is None
    by_strategy = {r["strategy"]: r for r in report["scorecard"]}
    assert by_strategy.keys() == {row["strategy"] for row in rows}
    for row in rows:
        assert by_strategy[row["strategy"]] == pytest.approx(row)  # extras too (spa_family_days)


def test_html_scorecard_colours_each_verdict(with_scorecard: tuple[Path, list[dict]], tmp_path: Path) -> None:
    folder, rows = with_scorecard
    target = tmp_path / "r.html"
    run_cli(["report", "--format", "html", "--output", str(target)], folder)
    page = target.read_text(encoding="utf-8")
    table = page[page.index("Scorecard: could luck") : page.index("<h2>Overview")]
    for row in rows:
        cells = table[table.index(f"</i> {row['strategy']}</td>") :].split("</tr>")[0]
        assert f'class="verdict {row["verdict"]}"' in cells
        assert expected_p(row["spa_p_value"]).removeprefix("p=") in cells
        assert f"{row['minimum_detectable_effect'] * 100:.1f} pts" in cells
        adjusted = expected_p(row["signal_timing_adjusted_p_value"]).removeprefix("p=").replace("<", "&lt;")
        assert cells.index(adjusted) < cells.index(expected_p(row["spa_p_value"]).removeprefix("p="))
    assert 'class="sig">0.001<' in table  # an adjusted p-value that passes stands out
    assert "Smallest detectable edge" in table
    assert ".edge{background:#1e8e3e}" in page and ".no_edge{background:#c5221f}" in page


def test_a_scorecard_with_only_the_required_columns_renders(marts_only: Path, tmp_path: Path) -> None:
    folder = tmp_path / "minimal"
    folder.mkdir()
    (folder / "warehouse.duckdb").write_bytes((marts_only / "warehouse.duckdb").read_bytes())
    rows = add_scorecard(folder / "warehouse.duckdb", extras=False)
    text = run_cli(["report"], folder).stdout
    for row in rows:
        line = verdict_line(text, row["strategy"])
        assert line.split()[1] == row["verdict"] and "random timing n/a" in line
    assert "LLM OUTPUT HEALTH" not in text


def test_a_scorecard_of_another_shape_is_one_line_error(with_scorecard: tuple[Path, list[dict]]) -> None:
    folder, _ = with_scorecard
    with duckdb.connect(str(folder / "warehouse.duckdb")) as con:
        con.execute(
            f"update {SCORECARD} set verdict = 'maybe' where strategy = (select min(strategy) from {SCORECARD})"
        )
    result = run_cli(["report"], folder, check=False)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1
    assert lines[0].startswith(f"error: {SCORECARD} column verdict") and "dbt build" in lines[0]


def test_the_built_warehouse_scorecard_is_reported(marts_only: Path) -> None:
    """Whatever the build made: a line per scorecard row, or the one-line hint on a build without it."""
    with duckdb.connect(str(marts_only / "warehouse.duckdb"), read_only=True) as con:
        present = con.execute(
            "select count(*) from information_schema.tables where table_name = ?", [SCORECARD]
        ).fetchone()[0]
        rows = con.execute(f"select strategy, verdict from {SCORECARD}").fetchall() if present else []
    text = run_cli(["report"], marts_only).stdout
    if not present:
        assert MISSING in text
    for strategy, verdict in rows:
        assert verdict_line(text, strategy).split()[1] == verdict
