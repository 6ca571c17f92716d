"""The test tiers: a heavy test says what it needs with a mark, and the marks are checked.

Marks (declared in pyproject.toml):

* ``warehouse``: runs dbt (a warehouse build, ``python -m pipeline``, ``dbt docs``) or reads a warehouse
  dbt built;
* ``model``: runs the embedded LLM (the embedded server, whose workers load the GGUF model);
* ``spark``: runs Apache Spark (pyspark, Java).

``bin/test --fast`` runs ``-m "not warehouse and not model and not spark"``. Two checks keep the
marks complete, in every run:

* at collection, a test that uses a fixture of :data:`HEAVY_FIXTURES` (directly or through another
  fixture) without that fixture's marks is an error;
* while a test runs, an audit hook (:func:`sys.addaudithook`) sees every process pytest starts and every
  module it imports: a test that starts dbt, the embedded server or Spark without the mark fails
  with a line saying which mark to add.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TIER_MARKS = ("warehouse", "model", "spark")
FAST_EXPRESSION = " and ".join(f"not {mark}" for mark in TIER_MARKS)

# session fixtures that build something heavy, and the marks a test using them needs
HEAVY_FIXTURES: dict[str, set[str]] = {
    "built_warehouse": {"warehouse", "model"},
    "ollama_host": {"model"},
    "embedded_ollama_server": {"model"},
}

# `python -m <module>` children, and in-process imports, that need a mark
HEAVY_MODULES: dict[str, str] = {
    "pipeline": "warehouse",
    "embedded_ollama": "model",
    "embedded_ollama.worker_process": "model",
    "spark_target.parity": "spark",
    "spark_target.inputs": "spark",
    "spark_target.python_job": "spark",
}
HEAVY_PROGRAMS: dict[str, str] = {
    "dbt": "warehouse",
    "run": "warehouse",
    "spark-parity": "spark",
    "spark-submit": "spark",
    "java": "spark",
}
LIGHT_DBT_COMMANDS = ("parse", "ls", "list", "--version")  # read the project, build nothing
HEAVY_IMPORTS: dict[str, str] = {"xllamacpp": "model", "pyspark": "spark"}

CURRENT_TEST = pytest.StashKey[pytest.Item]()


def marks_of(item: pytest.Item) -> set[str]:
    return {mark.name for mark in item.iter_markers() if mark.name in TIER_MARKS}


def missing_fixture_marks(item: pytest.Item) -> list[str]:
    """``"<fixture> needs @pytest.mark.<mark>"`` for each heavy fixture of ``item`` whose mark it lacks."""
    have = marks_of(item)
    fixtures = getattr(item, "fixturenames", ())
    return [
        f"{name} needs @pytest.mark.{mark}"
        for name, needed in HEAVY_FIXTURES.items()
        if name in fixtures
        for mark in sorted(needed - have)
    ]


def mark_needed(event: str, args: tuple) -> str | None:
    """The tier mark an audited event needs (None: anything may do it)."""
    if event == "import":
        return HEAVY_IMPORTS.get(str(args[0]).split(".")[0]) if args and args[0] else None
    if event != "subprocess.Popen" or len(args) < 2:
        return None
    argv = [str(a) for a in (args[1] if isinstance(args[1], (list, tuple)) else [args[1]])]
    if not argv:
        return None
    if "-m" in argv[:-1]:
        module = argv[argv.index("-m") + 1]
        if module == "embedded_ollama" and "--ready-file" not in argv:
            return None  # the server's CLI refusing its arguments, not a server the launcher starts to serve
        return HEAVY_MODULES.get(module)
    program = Path(argv[0]).name
    if program == "dbt" and len(argv) > 1 and argv[1] in LIGHT_DBT_COMMANDS:
        return None
    return HEAVY_PROGRAMS.get(program)


def install_guard(config: pytest.Config) -> None:
    """Fail a running test that starts something heavy without its mark (see the module docstring)."""

    def guard(event: str, args: tuple) -> None:
        if event not in ("subprocess.Popen", "import"):
            return
        item = config.stash.get(CURRENT_TEST, None)
        if item is None:
            return
        mark = mark_needed(event, args)
        if mark is not None and mark not in marks_of(item):
            what = args[0] if event == "import" else " ".join(map(str, args[1]))[:80]
            raise RuntimeError(
                f"{item.nodeid} runs {what!r} without @pytest.mark.{mark}: add the mark (tests/tiers.py), "
                "so bin/test --fast leaves it out"
            )

    sys.addaudithook(guard)


def check_collected(items: list[pytest.Item]) -> None:
    problems = [f"{item.nodeid}: {line}" for item in items for line in missing_fixture_marks(item)]
    if problems:
        raise pytest.UsageError("tests without the tier mark their fixtures need:\n  " + "\n  ".join(problems))
