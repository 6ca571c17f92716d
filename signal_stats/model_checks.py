"""The scorecard's memorisation columns: for each LLM strategy, is its edge skill or memory?

Three checks, each beside the strategy it is about (docs/memorization.md):

* the paired test of a model's named and blind twin (signal_stats.memorization), and whether the
  named twin's signals pass the check (``memorization_check_passed``: its blind twin shows an edge
  too and the named answers do not beat the blind ones significantly; null when no blind twin ran);
* the recall probe (mart_model_recall, the model's pooled ALL_TICKERS row): does the model remember
  past monthly returns;
* the training-data cutoff (int_llm_training_cutoffs): how many decided signals predate it, and the
  verdict's statistic (hit rate above the same actions on random days of the same span) on each part.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from signal_stats.memorization import MemorizationTest, excess_hits, memorization_test
from signal_stats.settings import ScorecardSettings
from signal_stats.timing_tests import OutcomeSurface
from signal_stats.verdict import EDGE, p_text
from warehouse_core.strategy_names import blind_twin_of, named_twin


def memorization_figures(
    frame: pd.DataFrame, decided: pd.DataFrame, surface: OutcomeSurface, settings: ScorecardSettings
) -> pd.DataFrame:
    """Add memorization_pairs, memorization_gap and memorization_p_value to every strategy trading a
    tested model's named or blind signals (its :no_risk twin too)."""
    by_strategy = dict(tuple(decided.groupby("strategy", sort=False)))
    strategies = set(frame["strategy"]) | set(by_strategy)
    figures = {}
    for blind in sorted(strategies):
        named = named_twin(blind)
        if named is None or named not in strategies:
            continue
        if named in by_strategy and blind in by_strategy:
            test = memorization_test(
                by_strategy[named],
                by_strategy[blind],
                surface.hits,
                surface.ticker_rows,
                settings.block_days,
                settings.random_timing_draws,
                settings.seed,
            )
        else:  # a twin without one decided signal: the check ran, and nothing could be compared
            test = MemorizationTest(0, None, None)
        figures[blind] = test
    # a blind twin's own row, and every strategy trading its named twin's signals
    tested = frame["strategy"].map(lambda strategy: figures.get(blind_twin_of(strategy) or strategy))
    frame["memorization_pairs"] = tested.map(lambda t: t.pairs, na_action="ignore")
    frame["memorization_gap"] = tested.map(lambda t: t.gap, na_action="ignore")
    frame["memorization_p_value"] = tested.map(lambda t: t.p_value, na_action="ignore")
    return frame


def memorization_passed(frame: pd.DataFrame, settings: ScorecardSettings) -> pd.Series:
    """True/False on the rows trading a named twin's signals (``llm:<model>`` and its ``:no_risk``
    twin) when the blind twin ran: the blind twin's verdict is edge and the gap is not significant (no
    paired decision: False, nothing shows the edge survives). Null elsewhere. Needs the verdicts."""
    passed = []
    for strategy, p_value in zip(frame["strategy"], frame["memorization_p_value"], strict=True):
        blind = blind_verdict(frame, strategy)
        if blind is None:
            passed.append(None)
            continue
        significant = pd.isna(p_value) or p_value < settings.significance
        passed.append(bool(blind == EDGE and not significant))
    return pd.Series(passed, index=frame.index, dtype="object")


def blind_verdict(frame: pd.DataFrame, strategy: str) -> str | None:
    """The verdict of the blind twin of the named signals a strategy trades; None when there is none."""
    blind = blind_twin_of(strategy)
    rows = frame.loc[frame["strategy"] == blind, "verdict"] if blind else []
    return rows.iloc[0] if len(rows) else None


def recall_figures(frame: pd.DataFrame, recall: pd.DataFrame) -> pd.DataFrame:
    """Add recall_p_value and recalls (the model's pooled row of mart_model_recall) to its strategies."""
    pooled = recall.drop_duplicates("model").set_index("model")
    frame["recall_probes"] = frame["model"].map(pooled["probes"])
    frame["recall_spearman_correlation"] = frame["model"].map(pooled["spearman_correlation"])
    frame["recall_p_value"] = frame["model"].map(pooled["p_value"])
    frame["recalls"] = frame["model"].map(pooled["recalls"])
    return frame


def cutoff_figures(
    frame: pd.DataFrame, decided: pd.DataFrame, surface: OutcomeSurface, cutoffs: pd.DataFrame
) -> pd.DataFrame:
    """Add training_cutoff and, per part (decided signals dated up to the cutoff, and after it), the
    count and the hit rate above the same actions on random days of the strategy's span."""
    known = cutoffs.dropna(subset=["training_cutoff"]).drop_duplicates("model").set_index("model")["training_cutoff"]
    frame["training_cutoff"] = frame["model"].map(known.to_dict())  # a dict: no rows cast to float
    parts: dict[str, dict[str, object]] = {}
    for strategy, rows in decided.groupby("strategy", sort=False):
        parts[strategy] = {}
        models = frame.loc[frame["signals_from"] == strategy, "training_cutoff"].dropna()
        if models.empty:
            continue
        cutoff = pd.Timestamp(models.iloc[0])
        excess = excess_hits(rows, "action", surface.hits, surface.ticker_rows)
        before = pd.to_datetime(rows["signal_date"]).to_numpy() <= np.datetime64(cutoff)
        for name, mask in (("before", before), ("after", ~before)):
            parts[strategy][f"signals_{name}_cutoff"] = int(mask.sum())
            parts[strategy][f"excess_hit_rate_{name}_cutoff"] = float(excess[mask].mean()) if mask.any() else None
    for column in (
        "signals_before_cutoff",
        "signals_after_cutoff",
        "excess_hit_rate_before_cutoff",
        "excess_hit_rate_after_cutoff",
    ):
        frame[column] = frame["signals_from"].map(lambda s, c=column: parts.get(s, {}).get(c), na_action="ignore")
    return frame


def check_notes(row: dict, blind_verdict: str | None, settings: ScorecardSettings) -> list[str]:
    """What the checks add to a strategy's verdict_reason, in words a trader reads (empty when
    nothing ran or nothing needs saying)."""
    notes = []
    p_value, passed = row.get("memorization_p_value"), row.get("memorization_check_passed")
    if passed is not None and not pd.isna(passed):
        pairs, gap = int(row["memorization_pairs"]), row.get("memorization_gap")
        if pairs == 0:
            notes.append("memorisation check failed: no decision was decided by both the named and the blind twin")
        else:
            compared = (
                f"named answers {100 * gap:+.1f} hit-rate points against the blind twin's on "
                f"{pairs} paired decisions (p {p_text(p_value)})"
            )
            if p_value < settings.significance:
                notes.append(
                    f"memorisation check failed: {compared}: it answers better when it sees the name "
                    "and the dates, so the edge may be memory of what happened next"
                )
            elif blind_verdict != EDGE and row["verdict"] == EDGE:
                notes.append(
                    f"memorisation check failed: its blind twin, asked without the name or the dates, "
                    f"is {blind_verdict} ({compared}): the edge may be memory, not skill"
                )
            elif blind_verdict != EDGE:
                notes.append(f"memorisation check: {compared}; its blind twin's verdict: {blind_verdict}")
            else:
                notes.append(f"memorisation check passed: the blind twin shows an edge too ({compared})")
    if row.get("recalls") is True:
        notes.append(
            f"the model recalls past monthly returns (Spearman {row['recall_spearman_correlation']:.2f}, "
            f"p {p_text(row['recall_p_value'])} over {int(row['recall_probes'])} probes; mart_model_recall)"
        )
    return notes
