"""The strategy-name rules: warehouse_core.strategy_names for Python, the macros for SQL, with the same parts."""

from __future__ import annotations

import re

import duckdb
from warehouse_helpers import PROJECT_DIR

from warehouse_core.strategy_names import (
    BLIND_SUFFIX,
    EXTERNAL_PREFIX,
    LLM_PREFIX,
    UNSIZED_SUFFIX,
    blind_strategy,
    blind_twin_of,
    external_strategy,
    is_unsized_twin,
    llm_strategy,
    named_twin,
    states_confidence_sql,
    unsized_strategy,
)


def macro_body(path: str, name: str) -> str:
    text = (PROJECT_DIR / "macros" / path).read_text()
    return re.search(rf"{{% macro {name}\(.*?%}}(.*?){{%-? endmacro", text, re.S).group(1).strip(" -\n")


def test_the_sql_macros_build_the_names_from_the_same_parts() -> None:
    named, blind = macro_body("backtest_constants.sql", "llm_strategy").split("\n")
    assert named == f"'{LLM_PREFIX}' || {{{{ model }}}}"
    assert f"then '{BLIND_SUFFIX}' else '' end" in blind
    assert macro_body("backtest_constants.sql", "llm_unsized_strategy") == (
        f"'{LLM_PREFIX}' || {{{{ model }}}} || '{UNSIZED_SUFFIX}'"
    )
    assert macro_body("external_strategy.sql", "external_strategy") == f"'{EXTERNAL_PREFIX}' || {{{{ name_column }}}}"


def test_which_strategies_state_their_confidence() -> None:
    names = [
        "buy_and_hold",
        "sma_crossover",
        llm_strategy("m:1"),
        unsized_strategy("m:1"),
        external_strategy("mine"),
    ]
    con = duckdb.connect()
    con.execute("create table s as select unnest(?) as strategy", [names])
    stating = [
        r[0] for r in con.execute(f"select strategy from s where {states_confidence_sql()} order by 1").fetchall()
    ]
    assert stating == ["external:mine", "llm:m:1"]
    assert [is_unsized_twin(n) for n in names] == [False, False, False, True, False]


def test_a_blind_twin_names_its_named_twin() -> None:
    assert blind_strategy("m:1") == "llm:m:1:blind"
    assert named_twin(blind_strategy("m:1")) == llm_strategy("m:1")
    assert [named_twin(n) for n in ["llm:m:1", unsized_strategy("m:1"), "external:blind", "buy_and_hold"]] == [None] * 4
    # the blind twin answering a strategy's named signals: its own and its un-sized twin's
    assert [blind_twin_of(n) for n in [llm_strategy("m:1"), unsized_strategy("m:1")]] == ["llm:m:1:blind"] * 2
    assert [blind_twin_of(n) for n in [blind_strategy("m:1"), "external:x", "buy_and_hold"]] == [None] * 3
