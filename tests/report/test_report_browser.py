"""report.html in a real browser: headless Chromium (offline) renders the top of the page, and the
screenshot must show the header, the scorecard and the overview chart, not a blank or broken page;
the page Chromium built must tell the story: the headline first, each strategy's facts, the failing
flags, every axis titled, each strategy's buy-and-hold yardstick named for it, calibration counts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from browser_helpers import dump_dom, ink, read_png, screenshot
from warehouse_helpers import run_cli

from report.charts import DATE_AXIS, strategy_colors

pytestmark = [pytest.mark.warehouse, pytest.mark.model]
VERDICT_COLOURS = {"edge": "#1e8e3e", "no_edge": "#c5221f", "insufficient_data": "#8a8f98"}
# Pixels of one colour (within 12 per channel) that prove it is drawn. A strategy's PORTFOLIO lines in
# the overview charts cover thousands (3,600-9,000 on the sample); its legend keys, swatch and the
# UI's reds and greens a few hundred (at most 340 with the charts removed). A verdict badge ~600.
LINE_PIXELS, BADGE_PIXELS = 1000, 200
# The headline, the header, the scorecard and each strategy's facts come before the overview charts:
# 2600 px of a 1400 px wide window hold them all
SCREEN = (1400, 2600)
AXIS_TITLES = (DATE_AXIS, "Equity (", "Drawdown (%)", "Stated confidence (%)", "Realised hit rate (%)")


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


def _text(markup: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", markup)).replace("&amp;", "&").strip()


def assert_tells_the_story(dom: str, report: dict) -> None:
    """What a reader needs to read the numbers is on the page Chromium built (report = the JSON report)."""
    found = re.search(r'<p class="headline" id="headline">(.*?)</p>', dom, re.S)
    assert found, "no headline"
    assert dom.index('id="headline"') < dom.index("Scorecard: could luck"), "the headline must come first"
    headline = _text(found.group(1))
    assert headline == report["headline"], headline
    edges = [r["strategy"] for r in report["scorecard"] if r["verdict"] == "edge"]
    assert all(s in headline for s in edges) if edges else headline.startswith("No strategy shows an edge:")

    facts = dom[dom.index("<h2>What the numbers say") : dom.index("<h2>Overview")]
    for strategy, sentences in report["facts"].items():
        assert all(_text(f"<li>{s}</li>") in _text(facts) for s in sentences), f"facts of {strategy} missing"

    invalid = sum(not row["is_valid"] for row in report["summary"])
    assert len(re.findall(r'class="invalid">not valid: ', dom)) == invalid, "each invalid row names its failing flags"

    overview = dom[dom.index("<h2>Overview") : dom.index("<h2>Strategies and tickers")]
    labels = [
        _text(label) for label in re.findall(r"<span><i [^>]*></i>(buy-and-hold basket of [^<]*)</span>", overview)
    ]
    first_legend = labels[: len({w["strategy"] for w in report["header"]["windows"]})]
    for window in report["header"]["windows"]:
        assert any(window["strategy"] in label for label in labels), f"no yardstick named for {window['strategy']}"
    assert len(set(first_legend)) == len(first_legend), f"yardsticks that cannot be told apart: {labels}"

    for title in AXIS_TITLES:
        assert title in dom, f"axis title {title!r} missing"
    calibration = dom[dom.index("Calibration: stated confidence") :]
    assert all(f"n={b['signals']}" in calibration for b in report["calibration"]), "calibration counts missing"
    if any(b["too_few"] for b in report["calibration"]):
        assert "too few" in calibration and 'fill="#fff"' in calibration, "buckets with too few signals not marked"


def render(folder: Path, target: Path) -> tuple[str, dict[str, str], dict]:
    """report.html of ``folder``; returns the page, the line colour of each strategy with a PORTFOLIO
    and the JSON report."""
    run_cli(["report", "--format", "html", "--output", str(target)], folder)
    report = json.loads(run_cli(["report", "--format", "json"], folder).stdout)
    colours = strategy_colors(report["strategies"])
    lines = {w["strategy"]: colours[w["strategy"]][0] for w in report["header"]["windows"]}
    return target.read_text(encoding="utf-8"), lines, report


def test_report_renders_in_chromium(chromium: str, with_scorecard: tuple[Path, list[dict]], tmp_path: Path) -> None:
    folder, rows = with_scorecard
    _, colours, report = render(folder, tmp_path / "report.html")
    assert len(colours) == len(rows)
    png = tmp_path / "report.png"
    screenshot(tmp_path / "report.html", png, tmp_path / "profile", size=SCREEN)
    assert_shows_report(png, colours, {row["verdict"]: VERDICT_COLOURS[row["verdict"]] for row in rows})

    dom = dump_dom(tmp_path / "report.html", tmp_path / "profile")
    scorecard = dom[dom.index("Scorecard: could luck") : dom.index("<h2>What the numbers say")]
    assert scorecard.count('<tr><td><i style="color:') == len(rows)  # one row per strategy, as rendered
    assert_tells_the_story(dom, report)


@pytest.mark.parametrize("breakage", ["empty body", "charts missing"])
def test_the_check_fails_on_a_broken_page(
    chromium: str, with_scorecard: tuple[Path, list[dict]], tmp_path: Path, breakage: str
) -> None:
    folder, _ = with_scorecard
    page, colours, _ = render(folder, tmp_path / "report.html")
    if breakage == "empty body":
        broken = page[: page.index("<main>")] + "</body></html>"
    else:
        broken = re.sub(r"<svg.*?</svg>", "", page, flags=re.DOTALL)
    (tmp_path / "broken.html").write_text(broken, encoding="utf-8")
    png = tmp_path / "broken.png"
    screenshot(tmp_path / "broken.html", png, tmp_path / "profile", size=SCREEN)
    with pytest.raises(AssertionError, match=r"blank|not drawn"):
        assert_shows_report(png, colours, VERDICT_COLOURS)


STORY_BREAKAGES = {
    # what a page without each part of the story looks like, and the message the check gives
    "no headline": (r'<p class="headline" id="headline">.*?</p>', "", "no headline"),
    "bare not valid": (r'class="invalid">not valid: [^<]*', 'class="invalid">not valid', "failing flags"),
    "grey yardsticks": (r"buy-and-hold basket of [^<]*", "buy-and-hold basket", "yardstick"),
    "untitled axes": (r'<text [^>]*class="axis"[^>]*>[^<]*</text>', "", "axis title"),
    "no counts": (r'<text [^>]*class="count"[^>]*>[^<]*</text>', "", "calibration counts"),
}


@pytest.mark.parametrize("breakage", STORY_BREAKAGES)
def test_the_story_check_fails_on_a_page_without_it(
    chromium: str, with_scorecard: tuple[Path, list[dict]], tmp_path: Path, breakage: str
) -> None:
    folder, _ = with_scorecard
    page, _, report = render(folder, tmp_path / "report.html")
    pattern, replacement, message = STORY_BREAKAGES[breakage]
    broken, n = re.subn(pattern, replacement, page, flags=re.S)
    assert n, f"the breakage {breakage!r} found nothing to break"
    (tmp_path / "broken.html").write_text(broken, encoding="utf-8")
    with pytest.raises(AssertionError, match=message):
        assert_tells_the_story(dump_dom(tmp_path / "broken.html", tmp_path / "profile"), report)
