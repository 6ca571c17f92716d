"""report.html in a real browser: headless Chromium (offline) renders the top of the page, and the
screenshot must show the header, the scorecard and the overview chart, not a blank or broken page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from browser_helpers import dump_dom, ink, read_png, screenshot
from warehouse_helpers import run_cli

from report.charts import strategy_colors

pytestmark = [pytest.mark.warehouse, pytest.mark.model]
VERDICT_COLOURS = {"edge": "#1e8e3e", "no_edge": "#c5221f", "insufficient_data": "#8a8f98"}
# Pixels of one colour (within 12 per channel) that prove it is drawn. A strategy's PORTFOLIO lines in
# the overview charts cover thousands (3,600-9,000 on the sample); its legend keys, swatch and the
# UI's reds and greens a few hundred (at most 280 with the charts removed). A verdict badge ~600.
LINE_PIXELS, BADGE_PIXELS = 1000, 200


def pixels_of(image: np.ndarray, colour: str, tolerance: int = 12) -> int:
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(image[:, :, :3].astype(int) - rgb).max(axis=2) <= tolerance).sum())


def assert_shows_report(png: Path, lines: dict[str, str], badges: dict[str, str]) -> None:
    """Not blank (enough ink and colours in the top 2000 px), every strategy's line colour drawn
    (the overview charts) and every verdict badge's colour (the scorecard)."""
    image = read_png(png)
    top = ink(image, 0, 2000)
    assert top.share > 0.03 and top.colours > 500, f"the page looks blank or unstyled: {top}"
    counts = {name: pixels_of(image, colour) for name, colour in lines.items()}
    assert all(n >= LINE_PIXELS for n in counts.values()), f"strategy lines not drawn (pixels per colour): {counts}"
    counts = {name: pixels_of(image, colour) for name, colour in badges.items()}
    assert all(n >= BADGE_PIXELS for n in counts.values()), f"verdict badges not drawn (pixels per colour): {counts}"


def render(folder: Path, target: Path) -> tuple[str, dict[str, str]]:
    """report.html of ``folder``; returns the page and the line colour of each strategy with a PORTFOLIO."""
    run_cli(["report", "--format", "html", "--output", str(target)], folder)
    report = json.loads(run_cli(["report", "--format", "json"], folder).stdout)
    colours = strategy_colors(report["strategies"])
    return target.read_text(encoding="utf-8"), {
        w["strategy"]: colours[w["strategy"]][0] for w in report["header"]["windows"]
    }


def test_report_renders_in_chromium(chromium: str, with_scorecard: tuple[Path, list[dict]], tmp_path: Path) -> None:
    folder, rows = with_scorecard
    _, colours = render(folder, tmp_path / "report.html")
    assert len(colours) == len(rows)
    png = tmp_path / "report.png"
    screenshot(tmp_path / "report.html", png, tmp_path / "profile")
    assert_shows_report(png, colours, {row["verdict"]: VERDICT_COLOURS[row["verdict"]] for row in rows})

    dom = dump_dom(tmp_path / "report.html", tmp_path / "profile")
    scorecard = dom[dom.index("Scorecard: could luck") : dom.index("<h2>Overview")]
    assert scorecard.count('<tr><td><i style="color:') == len(rows)  # one row per strategy, as rendered


@pytest.mark.parametrize("breakage", ["empty body", "charts missing"])
def test_the_check_fails_on_a_broken_page(
    chromium: str, with_scorecard: tuple[Path, list[dict]], tmp_path: Path, breakage: str
) -> None:
    folder, _ = with_scorecard
    page, colours = render(folder, tmp_path / "report.html")
    if breakage == "empty body":
        broken = page[: page.index("<main>")] + "</body></html>"
    else:
        broken = re.sub(r"<svg.*?</svg>", "", page, flags=re.DOTALL)
    (tmp_path / "broken.html").write_text(broken, encoding="utf-8")
    png = tmp_path / "broken.png"
    screenshot(tmp_path / "broken.html", png, tmp_path / "profile")
    with pytest.raises(AssertionError, match=r"blank|not drawn"):
        assert_shows_report(png, colours, VERDICT_COLOURS)
