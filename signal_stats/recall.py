"""Recall statistics of mart_model_recall: does a model remember how past months went?

The recall probe (llm_return_recall) asks a model, with no market data, for a ticker's total return
over a past calendar month, as Didisheim, Fraschini and Somoza (2025) do. A model that remembers
history ranks the months as they really went: the Spearman correlation between recalled and actual
returns is positive. Its significance is a one-sided permutation test: the recalled returns are
shuffled across the months (within each ticker for the pooled row), seeded, so a model that knows
nothing gets a p-value spread evenly over (0, 1] and a rerun gives the same figures.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

POOLED_TICKER = "ALL_TICKERS"
"""The ticker of a model's pooled row (every ticker's probes together); no ticker can be spelt so."""

COLUMNS: dict[str, str] = {
    "model": "string",
    "ticker": "string",
    "probes": "Int64",
    "answered": "Int64",
    "spearman_correlation": "Float64",
    "right_sign_share": "Float64",
    "actual_up_share": "Float64",
    "p_value": "Float64",
    "recalls": "boolean",
}


class RecallSettings(BaseModel):
    """The vars of mart_model_recall (models/marts/recall/_recall.yml passes them in)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    permutations: int = Field(ge=100)
    significance: float = Field(gt=0, lt=1)
    seed: int

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RecallSettings:
        return cls.model_validate(config)


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties given the mean of the ranks they span (as scipy.stats.rankdata's default)."""
    return pd.Series(values).rank(method="average").to_numpy(dtype=float)


def spearman(recalled: np.ndarray, actual: np.ndarray) -> float | None:
    """Spearman's rank correlation; None with fewer than 3 pairs or when either side is constant."""
    if len(recalled) < 3:
        return None
    x, y = average_ranks(recalled), average_ranks(actual)
    x, y = x - x.mean(), y - y.mean()
    scale = np.sqrt((x @ x) * (y @ y))
    return None if scale == 0 else float(x @ y / scale)


def right_sign_share(recalled: np.ndarray, actual: np.ndarray) -> float | None:
    """Share of months whose recalled return has the actual return's sign (zero counts as its own sign)."""
    return float(np.mean(np.sign(recalled) == np.sign(actual))) if len(recalled) else None


def permutation_p_value(
    recalled: np.ndarray, actual: np.ndarray, groups: Sequence[Any], permutations: int, seed: Sequence[int]
) -> float | None:
    """One-sided p-value of the Spearman correlation (H1: recalled and actual rank alike): the share of
    ``permutations`` shuffles of the recalled returns within each group whose correlation reaches the
    observed one, counting the observed arrangement itself, (1 + hits) / (1 + permutations)."""
    observed = spearman(recalled, actual)
    if observed is None:
        return None
    rng = np.random.default_rng(list(seed))
    x, y = average_ranks(recalled), average_ranks(actual)
    x_centred, y_centred = x - x.mean(), y - y.mean()
    shuffled = np.empty((permutations, len(x)))
    group_of = np.asarray(groups)
    for group in dict.fromkeys(groups):  # first-seen order: the same draws on every run
        where = np.flatnonzero(group_of == group)
        shuffled[:, where] = rng.permuted(np.tile(x_centred[where], (permutations, 1)), axis=1)
    # a shuffle keeps the ranks' mean and spread, so only the cross product changes
    correlations = shuffled @ y_centred / np.sqrt((x_centred @ x_centred) * (y_centred @ y_centred))
    hits = int(np.sum(correlations >= observed - 1e-12))
    return (1 + hits) / (1 + permutations)


def _row_seed(seed: int, model: str, ticker: str) -> list[int]:
    """A seed of its own per (model, ticker): a row's p-value does not depend on which other rows exist."""
    return [seed, zlib.crc32(f"{model}\x00{ticker}".encode())]


def _statistics(model: str, ticker: str, probes: pd.DataFrame, settings: RecallSettings) -> dict[str, Any]:
    answered = probes[probes["status"].eq("ok") & probes["recalled_return"].notna() & probes["actual_return"].notna()]
    recalled = answered["recalled_return"].to_numpy(dtype=float)
    actual = answered["actual_return"].to_numpy(dtype=float)
    p_value = permutation_p_value(
        recalled, actual, list(answered["ticker"]), settings.permutations, _row_seed(settings.seed, model, ticker)
    )
    return {
        "model": model,
        "ticker": ticker,
        "probes": len(probes),
        "answered": len(answered),
        "spearman_correlation": spearman(recalled, actual),
        "right_sign_share": right_sign_share(recalled, actual),
        "actual_up_share": float(np.mean(actual > 0)) if len(actual) else None,
        "p_value": p_value,
        "recalls": p_value is not None and p_value < settings.significance,
    }


def recall_table(answers: pd.DataFrame, months: pd.DataFrame, settings: RecallSettings) -> pd.DataFrame:
    """One row per (model, ticker) of the recall probe's ``answers`` (llm_return_recall), joined to the
    actual returns of ``months`` (int_llm_recall_months), plus a pooled row per model (ticker
    ``POOLED_TICKER``, shuffled within tickers)."""
    probes = answers[["model", "ticker", "month", "status", "recalled_return"]].merge(
        months[["ticker", "month", "actual_return"]], on=["ticker", "month"], how="left"
    )
    rows = []
    for model, by_model in probes.groupby("model", sort=True):
        for ticker, by_ticker in by_model.groupby("ticker", sort=True):
            rows.append(_statistics(str(model), str(ticker), by_ticker, settings))
        rows.append(_statistics(str(model), POOLED_TICKER, by_model.sort_values(["ticker", "month"]), settings))
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    return frame.astype(COLUMNS)
