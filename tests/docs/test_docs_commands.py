"""The docs keep their promises: every command, flag, repository path and relative link shown in
README.md and docs/*.md exists (docs_check says how each is checked), and the checks find what a
broken page gets wrong."""

from __future__ import annotations

from pathlib import Path

from docs_check import (
    PROJECT_DIR,
    Shown,
    code_texts,
    command_problems,
    commands_in,
    flag_book,
    link_problems,
    loose_flag_problems,
    pages,
    path_problems,
    slug,
)

# Pages linked before they exist (written on another branch at the same time): their links may point
# nowhere until then, and once a page exists its entry must go. docs/spark.md was one; it exists now.
PENDING_PAGES: set[str] = set()
README_MAX_LINES = 200


def shown_everywhere() -> list[Shown]:
    return [item for page in pages() for item in code_texts(page)]


def test_every_command_and_flag_the_docs_show_exists() -> None:
    shown = shown_everywhere()
    assert sum(len(commands_in(item.text)) for item in shown) > 100  # the extraction works
    book = flag_book(shown)
    problems = [problem for item in shown for problem in command_problems(item, book)]
    problems += loose_flag_problems(shown, book)
    assert not problems, "\n".join(problems)


def test_every_path_and_link_resolves() -> None:
    problems = [p for page in pages() for p in path_problems(page) + link_problems(page)]
    pending = [p for p in problems if any(Path(name).name in p for name in PENDING_PAGES)]
    assert not [p for p in problems if p not in pending], "\n".join(problems)
    for name in PENDING_PAGES:
        assert not (PROJECT_DIR / name).exists(), f"{name} exists now: remove it from PENDING_PAGES"


def test_the_readme_is_short() -> None:
    lines = (PROJECT_DIR / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move the detail to a page under docs/"


def test_anchors_are_githubs() -> None:
    assert slug("Calibration: `benchmarks/verdict_calibration.py`") == "calibration-benchmarksverdict_calibrationpy"
    assert slug("1. `dbt build`") == "1-dbt-build"
    assert slug("Risk-sized LLM portfolios") == "risk-sized-llm-portfolios"


BROKEN_PAGE = """# A broken page

```bash
.venv/bin/python -m report --format html --colour red     # a flag report does not have
.venv/bin/python -m no_such_module --help
bin/deploy --now
.venv/bin/python benchmarks/no_such_benchmark.py
dbt frobnicate --select x
dbt build --no-such-dbt-flag
```

Pass `--refresh-everything` to start over; `bin/setup --modle qwen` installs a model.
The rule is proved by `tests/core/test_warehouse_dir_rule.py`. See [the report](report.md#no-such-heading),
[the scorecard](scorecard.md#the-rule) and [nothing](nowhere.md).
"""


def test_the_checks_fail_on_a_broken_page(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "report.md").write_text("# The report\n\n## Text\n")
    (docs / "scorecard.md").write_text("# Scorecard\n\n## The rule\n")
    page = docs / "broken.md"
    page.write_text(BROKEN_PAGE)
    shown = list(code_texts(page))
    book = flag_book(shown)
    problems = [p for item in shown for p in command_problems(item, book)]
    assert problems == [
        "docs/broken.md:4: python -m report has no flag --colour",
        "docs/broken.md:5: python -m no_such_module: no such module",
        "docs/broken.md:6: bin/deploy: no such executable script",
        "docs/broken.md:7: benchmarks/no_such_benchmark.py: no such file",
        "docs/broken.md:8: dbt frobnicate: no such dbt command",
        "docs/broken.md:9: dbt build has no flag --no-such-dbt-flag",
        "docs/broken.md:12: bin/setup has no flag --modle",
    ]
    assert loose_flag_problems(shown, book) == [
        "docs/broken.md:12: --refresh-everything is no flag of any command, nor in the project's files"
    ]
    (tmp_path / "tests").mkdir()
    assert path_problems(page, tmp_path) == ["broken.md:13: tests/core/test_warehouse_dir_rule.py does not exist"]
    assert link_problems(page) == [
        "broken.md:13: link report.md#no-such-heading: report.md has no heading #no-such-heading",
        "broken.md:14: link nowhere.md: nowhere.md does not exist",
    ]
