"""The strategy-name rules for Python, written once (design.md, "Strategy names"). SQL builds the names
with the macros of macros/backtest_constants.sql and macros/external_strategy.sql, which use the same
parts (tests/core/test_strategy_names.py holds the two together).

* ``buy_and_hold``, ``sma_crossover``: the rule baselines, whose confidence is always 1.0;
* ``llm:<model>``: an LLM model's signals, its portfolio sized by the risk stage;
* ``llm:<model>:no_risk``: the same signals, not risk-sized (the un-sized twin);
* ``llm:<model>:blind``: the model's answers when asked blind (the memorisation check's twin:
  nothing in the prompt names the asset or the period), risk-sized by its own blind assessments;
* ``external:<name>``: a signals file loaded with ``python -m python_ingest.signals``.
"""

from __future__ import annotations

LLM_PREFIX = "llm:"
EXTERNAL_PREFIX = "external:"
UNSIZED_SUFFIX = ":no_risk"
BLIND_SUFFIX = ":blind"


def llm_strategy(model: str) -> str:
    return f"{LLM_PREFIX}{model}"


def unsized_strategy(model: str) -> str:
    return f"{LLM_PREFIX}{model}{UNSIZED_SUFFIX}"


def blind_strategy(model: str) -> str:
    return f"{LLM_PREFIX}{model}{BLIND_SUFFIX}"


def named_twin(strategy: str) -> str | None:
    """The named twin ``llm:<model>`` of a blind twin ``llm:<model>:blind``; None for any other name."""
    if strategy.startswith(LLM_PREFIX) and strategy.endswith(BLIND_SUFFIX):
        return strategy.removesuffix(BLIND_SUFFIX)
    return None


def blind_twin_of(strategy: str) -> str | None:
    """The blind twin ``llm:<model>:blind`` of the strategies trading a named twin's signals
    (``llm:<model>`` and its un-sized twin ``llm:<model>:no_risk``); None for a blind twin itself and
    every other strategy."""
    if not strategy.startswith(LLM_PREFIX) or named_twin(strategy) is not None:
        return None
    return f"{strategy.removesuffix(UNSIZED_SUFFIX)}{BLIND_SUFFIX}"


def external_strategy(name: str) -> str:
    return f"{EXTERNAL_PREFIX}{name}"


def is_unsized_twin(strategy: str) -> bool:
    return strategy.startswith(LLM_PREFIX) and strategy.endswith(UNSIZED_SUFFIX)


def states_confidence(strategy: str) -> bool:
    """The strategy's confidence is its own statement: :func:`states_confidence_sql`'s rule in Python."""
    return strategy.startswith((LLM_PREFIX, EXTERNAL_PREFIX)) and not strategy.endswith(UNSIZED_SUFFIX)


def states_confidence_sql(column: str = "strategy") -> str:
    """SQL predicate: strategies whose confidence is their own statement (every LLM model, every signals
    file); not the rule baselines (always 1.0) nor an un-sized twin, which trades its parent's signals."""
    return f"({column} like '{LLM_PREFIX}%' or {column} like '{EXTERNAL_PREFIX}%') and {column} not like '%{UNSIZED_SUFFIX}'"
