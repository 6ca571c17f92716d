"""What the documentation shows, checked against the code: commands, flags, paths and links.

Read from README.md and docs/*.md: every code span and every line of a fenced block. In them:

* a command is ``python -m <module>`` (any ``python``, e.g. ``.venv/bin/python``), ``bin/<script>``,
  ``benchmarks/<script>.py`` (with or without ``python``) or ``dbt <command>``; it must exist: a module
  of this project or an installed one, an executable script in bin/, a file in benchmarks/, a dbt
  command;
* a ``--flag`` after a command in the same span or line belongs to it and must be one of its flags;
* any other ``--flag`` shown must be a flag of one of the project's commands, or appear in the
  project's own files (a flag the project passes to another program, such as pip or Chromium);
* a path into the repository (``tests/...py``, ``macros/...sql``, ...) must exist;
* a relative link must point at a file that exists, and its ``#anchor`` at a heading of that page.

Flags come from each command's own parser, never by running the command: one child process
(``python docs_check.py MODULE ...``, so the test process imports none of the CLIs: Great Expectations,
for one, probes for pyspark on import) imports each CLI's module and takes its parser: a CLI with
``build_parser()`` gives it; for the others their ``main(["--help"])`` is called with
``ArgumentParser.parse_args`` intercepted, so it hands over the parser it builds before doing
anything. dbt's flags come from dbt's click commands, in the same child. A ``bin/`` script takes the
flags its own ``case`` arms and tests name, plus those of the module it passes ``"$@"`` to; pytest's
and pip's flags come from their ``--help`` text.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

PROJECT_DIR = Path(__file__).resolve().parents[2]
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
COMMAND = re.compile(
    r"""(?x)
    (?:\S*/)?python3?\s+-m\s+(?P<module>[A-Za-z_][\w.]*)
  | (?:\S*/)?python3?\s+(?P<script>benchmarks/\w+\.py)
  | (?<![\w./-])(?P<bench>benchmarks/\w+\.py)
  | (?<![\w./-])(?P<bin>bin/[\w-]+)
  | (?<![\w-])(?:\S*/)?dbt\s+(?P<dbt>[a-z]+(?:\s+(?:generate|serve))?)(?![\w/.-])
    """
)
# a command's flags end at a shell separator or a comment
SEPARATOR = re.compile(r"\s(?:\||&&|;|#)\s|\s#$")
REPO_PATH = re.compile(r"(?<![\w./$<-])((?:[\w.-]+/)+[\w.-]+\.(?:py|sql|yml|yaml|json|csv|md|toml|sh|txt))(?![\w/])")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
EXTERNAL_MODULES_WITH_FLAGS = ("pytest", "pip")


@dataclass(frozen=True)
class Shown:
    """Something a page shows: where, and the text."""

    page: str
    line: int
    text: str


def pages(project: Path = PROJECT_DIR) -> list[Path]:
    return [project / "README.md", *sorted((project / "docs").glob("*.md"))]


def code_texts(page: Path) -> Iterator[Shown]:
    """Every fenced line (continuations joined, comments dropped) and every inline code span of ``page``."""
    name = page.name if page.parent.name != "docs" else f"docs/{page.name}"
    lines = page.read_text(encoding="utf-8").split("\n")
    fenced, pending, prose = False, "", []
    for number, line in enumerate(lines, 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            yield from _spans(name, prose)
            prose = []
            continue
        if fenced:
            line = re.sub(r"(^|\s)#(\s.*)?$", "", line)  # a comment is prose, not a command
            pending += line.rstrip("\\")
            if not line.endswith("\\"):
                yield Shown(name, number, pending)
                pending = ""
        elif line.strip():
            prose.append((number, line))
        else:
            yield from _spans(name, prose)
            prose = []
    yield from _spans(name, prose)


def _spans(name: str, paragraph: list[tuple[int, str]]) -> Iterator[Shown]:
    """Inline code spans of a paragraph (they may run over a line break)."""
    if not paragraph:
        return
    text = " ".join(line for _, line in paragraph)
    starts = []
    for number, line in paragraph:
        starts += [number] * (len(line) + 1)
    for match in re.finditer(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", text):
        yield Shown(name, starts[min(match.start(), len(starts) - 1)], match.group(2).strip())


def commands_in(text: str) -> list[tuple[str, str, list[str]]]:
    """(kind, name, flags) of each command in a code text; the flags are those after it, up to the next
    command or a separator."""
    found = list(COMMAND.finditer(text))
    result = []
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        rest = text[match.end() : end]
        cut = SEPARATOR.search(rest)
        rest = rest[: cut.start()] if cut else rest
        kind = next(k for k in ("module", "script", "bench", "bin", "dbt") if match.group(k))
        name = match.group(kind)
        if kind == "script":
            kind = "bench"
        result.append((kind, re.sub(r"\s+", " ", name), FLAG.findall(rest)))
    return result


class _Captured(Exception):
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser


def _options(parser: argparse.ArgumentParser) -> set[str]:
    found = set()
    for action in parser._actions:  # argparse keeps no public list of its options
        found |= {o for o in action.option_strings if o.startswith("--")}
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _options(sub)
    return found


def python_flags(module: str) -> frozenset[str]:
    """The --flags of ``python -m module`` (a module of this project, or ``benchmarks.<script>``), from
    its parser (run in the child process, see :func:`flag_book`)."""
    mod = importlib.import_module(module if module.startswith("benchmarks.") else _main_module(module))
    if hasattr(mod, "build_parser"):
        return frozenset(_options(mod.build_parser()))
    if "ArgumentParser" not in Path(mod.__file__).read_text():
        return frozenset()  # a command without options (its main() is not run: it would do its job)

    def capture(parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        raise _Captured(parser)

    with (
        mock.patch.object(argparse.ArgumentParser, "parse_args", capture),
        mock.patch.object(argparse.ArgumentParser, "parse_known_args", capture),
        mock.patch.object(sys, "argv", [module, "--help"]),
    ):
        try:
            mod.main(["--help"]) if _takes_argv(mod.main) else mod.main()
        except _Captured as captured:
            return frozenset(_options(captured.parser))
    raise AssertionError(f"{module}.main() built no ArgumentParser")


def _takes_argv(main: object) -> bool:
    code = getattr(main, "__code__", None)
    return bool(code and code.co_argcount)


def _main_module(module: str) -> str:
    """The module whose main() ``python -m module`` runs: ``module.cli`` when ``__main__`` only calls it."""
    spec = importlib.util.find_spec(module)
    if spec and spec.submodule_search_locations:
        main = Path(spec.submodule_search_locations[0]) / "__main__.py"
        text = main.read_text() if main.exists() else ""
        called = re.search(r"from\s+([\w.]+)\s+import\s+main", text)
        if called:
            return called.group(1) if not called.group(1).startswith(".") else module + called.group(1)
        return f"{module}.__main__"
    return module


def is_project_module(module: str) -> bool:
    top = module.split(".")[0]
    return (PROJECT_DIR / top / "__init__.py").exists() or (PROJECT_DIR / f"{top}.py").exists()


def module_exists(module: str) -> bool:
    """A module ``python -m`` can run: a file of this project, or one installed."""
    if is_project_module(module):
        path = PROJECT_DIR.joinpath(*module.split("."))
        return (path / "__main__.py").exists() or path.with_suffix(".py").exists()
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@functools.cache
def help_flags(module: str) -> frozenset[str]:
    """An installed tool's --flags, read from its --help (pytest, pip)."""
    out = subprocess.run(
        [sys.executable, "-m", *module.split(), "--help"], capture_output=True, text=True, check=False, cwd=PROJECT_DIR
    ).stdout
    return frozenset(FLAG.findall(out))


def dbt_flags(command: str) -> frozenset[str] | None:
    """The --flags of ``dbt <command>`` from dbt's click commands; None when dbt has no such command."""
    from dbt.cli.main import cli

    group = cli
    for word in command.split():
        group = getattr(group, "commands", {}).get(word)
        if group is None:
            return None
    params = [*cli.params, *getattr(group, "params", [])]
    return frozenset(o for p in params for o in p.opts + p.secondary_opts if o.startswith("--"))


def forwarded_modules(script: str) -> list[str]:
    """The modules a bin/ script passes its arguments ("$@") to."""
    return re.findall(r"python\s+-m\s+([\w.]+)[^\n]*\"\$@\"", (PROJECT_DIR / script).read_text())


def bin_flags(script: str, book: dict[str, frozenset[str] | None]) -> frozenset[str]:
    """A bin/ script's flags: its case arms and string tests, plus those of the module it passes "$@" to."""
    text = (PROJECT_DIR / script).read_text()
    own = set(re.findall(r"^\s*(--[a-z][\w-]*)(?:=\*)?\)", text, re.M))
    own |= set(re.findall(r'=\s*"(--[a-z][\w-]*)"', text))
    for module in forwarded_modules(script):
        own |= (book.get(f"module {module}") or set()) if is_project_module(module) else help_flags(module)
    return frozenset(own)


def _keys(kind: str, name: str) -> list[str]:
    """The flag-book keys a command needs: ``module <m>`` for a project module (a benchmark script is
    the module benchmarks.<name>), ``dbt <command>``; a bin/ script needs the modules it forwards to."""
    if kind == "module":
        return [f"module {name}"] if is_project_module(name) else []
    if kind == "bench":
        return [f"module {name.removesuffix('.py').replace('/', '.')}"] if (PROJECT_DIR / name).is_file() else []
    if kind == "bin":
        path = PROJECT_DIR / name
        return [f"module {m}" for m in forwarded_modules(name) if is_project_module(m)] if path.is_file() else []
    return [f"dbt {name}"]


def flag_book(shown: list[Shown]) -> dict[str, frozenset[str] | None]:
    """The flags of every command ``shown`` names, read in one child process: key -> flags (None: no
    such dbt command; a module whose parser cannot be read fails the child with its error)."""
    keys = sorted({key for item in shown for kind, name, _ in commands_in(item.text) for key in _keys(kind, name)})
    keys = [
        k
        for k in keys
        if not k.startswith("module ") or module_exists(k.split(" ", 1)[1]) or k.startswith("module benchmarks.")
    ]
    result = subprocess.run(
        [sys.executable, __file__, *keys], capture_output=True, text=True, check=False, cwd=PROJECT_DIR
    )
    if result.returncode != 0:
        raise AssertionError(f"reading the CLIs' parsers failed:\n{result.stderr[-3000:]}")
    return {k: None if v is None else frozenset(v) for k, v in json.loads(result.stdout.splitlines()[-1]).items()}


def _read_flags(keys: list[str]) -> dict[str, list[str] | None]:
    """In the child: each key's flags."""
    os.chdir(PROJECT_DIR)
    sys.path.insert(0, str(PROJECT_DIR))
    out: dict[str, list[str] | None] = {}
    for key in keys:
        kind, name = key.split(" ", 1)
        flags = python_flags(name) if kind == "module" else dbt_flags(name)
        out[key] = None if flags is None else sorted(flags)
    return out


@functools.cache
def project_text() -> str:
    """The project's own files (not the docs, nor tests/docs): where a flag passed to another program is written."""
    files = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=PROJECT_DIR, check=True).stdout
    texts = []
    for name in files.split():
        path = PROJECT_DIR / name
        if path.suffix in {".md", ".csv", ".json", ".parquet", ".png"} or name.startswith("tests/docs/"):
            continue  # the docs themselves, data, and this check's own broken examples
        if not path.is_file():
            continue
        with contextlib.suppress(UnicodeDecodeError, OSError):
            texts.append(path.read_text(encoding="utf-8"))
    return "\n".join(texts)


def command_problems(shown: Shown, book: dict[str, frozenset[str] | None]) -> list[str]:
    """What is wrong with the commands and flags of one code text (``book``: :func:`flag_book`)."""
    problems = []
    for kind, name, flags in commands_in(shown.text):
        where = f"{shown.page}:{shown.line}"
        if kind == "module":
            if not module_exists(name):
                problems.append(f"{where}: python -m {name}: no such module")
                continue
            known = (
                book[f"module {name}"]
                if is_project_module(name)
                else help_flags(name)
                if name in EXTERNAL_MODULES_WITH_FLAGS
                else None
            )
        elif kind == "bench":
            if not (PROJECT_DIR / name).is_file():
                problems.append(f"{where}: {name}: no such file")
                continue
            known = book[f"module {name.removesuffix('.py').replace('/', '.')}"]
        elif kind == "bin":
            path = PROJECT_DIR / name
            if not (path.is_file() and os.access(path, os.X_OK)):
                problems.append(f"{where}: {name}: no such executable script")
                continue
            known = bin_flags(name, book)
        else:
            known = book[f"dbt {name}"]
            if known is None:
                problems.append(f"{where}: dbt {name}: no such dbt command")
                continue
        label = {"module": f"python -m {name}", "dbt": f"dbt {name}"}.get(kind, name)
        problems += [
            f"{where}: {label} has no flag {flag}" for flag in flags if known is not None and flag not in known
        ]
    return problems


def loose_flag_problems(shown: list[Shown], book: dict[str, frozenset[str] | None]) -> list[str]:
    """Flags shown without a command before them: each must be a flag of a command the docs show
    (``book``: :func:`flag_book`), or be written in the project's own files."""
    known = frozenset().union(*(flags for flags in book.values() if flags))
    for item in shown:
        for kind, name, _ in commands_in(item.text):
            if kind == "bin" and (PROJECT_DIR / name).is_file():
                known |= bin_flags(name, book)
    problems = []
    for item in shown:
        commands = list(COMMAND.finditer(item.text))
        before_first = item.text[: commands[0].start()] if commands else item.text
        for flag in FLAG.findall(before_first):
            if flag not in known and not re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", project_text()):
                problems.append(
                    f"{item.page}:{item.line}: {flag} is no flag of any command, nor in the project's files"
                )
    return problems


def path_problems(page: Path, project: Path = PROJECT_DIR) -> list[str]:
    """Repository paths the page names that do not exist (paths into folders of the repository only)."""
    tops = {p.name for p in project.iterdir() if p.is_dir() and not p.name.startswith(".")}
    problems = []
    for number, line in enumerate(page.read_text(encoding="utf-8").split("\n"), 1):
        for path in REPO_PATH.findall(line):
            if path.split("/")[0] in tops and not (project / path).exists():
                problems.append(f"{page.name}:{number}: {path} does not exist")
    return problems


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: formatting and punctuation dropped, spaces to hyphens, lower case."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"[`*]", "", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    fenced = False
    for line in page.read_text(encoding="utf-8").split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            base = slug(line.lstrip("#"))
            name, n = base, 0
            while name in found:
                n += 1
                name = f"{base}-{n}"
            found.add(name)
    return found


def link_problems(page: Path) -> list[str]:
    """Relative links that point nowhere: a missing file, or an anchor no heading of the page has."""
    problems = []
    for number, line in enumerate(page.read_text(encoding="utf-8").split("\n"), 1):
        for target in LINK.findall(line):
            if re.match(r"[a-z]+:", target):
                continue  # http(s), mailto
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                problems.append(f"{page.name}:{number}: link {target}: {path} does not exist")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file):
                problems.append(f"{page.name}:{number}: link {target}: {file.name} has no heading #{anchor}")
    return problems


if __name__ == "__main__":
    print(json.dumps(_read_flags(sys.argv[1:])))
