"""CLI error handling has one home: ``warehouse_core.cli.user_errors`` turns a UserError into one
``error: ...`` line and exit 2, and every warehouse CLI's ``main`` goes through it."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest
from warehouse_helpers import PROJECT_DIR

from warehouse_core import UserError
from warehouse_core.cli import EXIT_USER_ERROR, user_errors

# The packages whose CLIs use UserError (embedded_ollama is a stand-alone server with its own errors;
# benchmarks/ are measuring scripts).
CLI_PACKAGES = ("python_ingest", "pipeline", "report", "expectations", "spark_target", "llm_client", "signal_stats")


def test_a_user_error_becomes_one_line_and_exit_2(caplog: pytest.LogCaptureFixture) -> None:
    @user_errors
    def main(argv: list[str]) -> int:
        raise UserError(f"cannot read {argv[0]}:\n  permission denied; fix it and re-run")

    with caplog.at_level(logging.INFO):
        assert main(["prices.csv"]) == EXIT_USER_ERROR == 2
    assert [r.getMessage() for r in caplog.records] == [
        "error: cannot read prices.csv: permission denied; fix it and re-run"
    ]
    assert caplog.records[0].name == __name__  # the CLI's own logger


def test_any_other_exception_is_not_swallowed() -> None:
    @user_errors
    def main() -> int:
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        main()


def _mains() -> dict[Path, ast.FunctionDef]:
    found = {}
    for package in CLI_PACKAGES:
        for path in sorted((PROJECT_DIR / package).rglob("*.py")):
            for node in ast.parse(path.read_text()).body:
                if isinstance(node, ast.FunctionDef) and node.name == "main":
                    found[path.relative_to(PROJECT_DIR)] = node
    return found


def test_every_cli_main_is_decorated_and_catches_no_user_error_itself() -> None:
    mains = _mains()
    assert len(mains) >= 9, sorted(mains)
    problems = []
    for path, main in mains.items():
        if not any(isinstance(d, ast.Name) and d.id == "user_errors" for d in main.decorator_list):
            problems.append(f"{path}: main is not decorated with @user_errors")
        for handler in ast.walk(main):
            if isinstance(handler, ast.ExceptHandler) and "UserError" in ast.unparse(handler.type or ast.Pass()):
                problems.append(f"{path}:{handler.lineno}: main catches UserError itself (leave it to @user_errors)")
    assert not problems, "\n".join(problems)
