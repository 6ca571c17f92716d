"""The scorecard recomputed from the public tables (mart_signal_tracking, fct_backtest_daily,
mart_backtest_summary, llm_signal_generation) with scipy, arch and the papers' formulas, without
signal_stats, and compared with mart_strategy_scorecard column by column."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import reference_random_timing as timing
from arch.bootstrap import SPA, StationaryBootstrap
from reference_stats import arch_spa, hand_psr, hand_sr0
from scipy.stats import binomtest, poisson_binom

from warehouse_core.project import project_vars

TOLERANCE = {"rel": 1e-9, "abs": 1e-12}


def read_tables(warehouse_dir: Path) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(warehouse_dir / "warehouse.duckdb"), read_only=True)
    try:
        return {
            "scorecard": con.sql("select * from mart_strategy_scorecard order by strategy").df(),
            "tracking": con.sql("select * from mart_signal_tracking").df(),
            "daily": con.sql(
                "select * from fct_backtest_daily where ticker = 'PORTFOLIO' order by strategy, date"
            ).df(),
            "summary": con.sql("select * from mart_backtest_summary where ticker = 'PORTFOLIO'").df(),
            "llm": con.sql("select * from llm_signal_generation").df(),
            "prices": con.sql("select ticker, date, adj_close from fct_prices_daily").df(),
            "positions": con.sql(
                "select strategy, ticker, date, exposure, buy_hold_return from fct_backtest_daily "
                "where ticker <> 'PORTFOLIO'"
            ).df(),
            "caps": con.sql("select strategy, date, position_cap from int_backtest_portfolio_daily").df(),
        }
    finally:
        con.close()


def scorecard_vars(overrides: dict | None = None) -> dict:
    values = project_vars() | (overrides or {})
    assert values["scorecard_bootstrap_reps"] >= 1000
    return values


def source_of(strategy: str, with_signals: set[str]) -> str | None:
    while strategy and strategy not in with_signals:
        strategy = strategy.rsplit(":", 1)[0] if ":" in strategy else ""
    return strategy or None


def expected_signal_columns(tracking: pd.DataFrame, source: str | None, band: float) -> dict:
    rows = tracking[tracking["strategy"] == source]
    decided = rows[rows["outcome"].isin(["hit", "miss"])]
    n, hits = len(decided), int((decided["outcome"] == "hit").sum())
    expected = {"signals": n, "hits": hits, "pending_signals": int((rows["outcome"] == "pending").sum())}
    if len(rows):
        for action in ["BUY", "SELL", "HOLD"]:
            expected[f"{action.lower()}_share"] = float((rows["action"] == action).mean())
        expected["mean_confidence"] = float(rows["confidence"].mean())
    if n == 0:
        return expected
    r = decided["forward_return_horizon"].to_numpy()
    hit_if = {"BUY": r > 0, "SELL": r < 0, "HOLD": np.abs(r) <= band}
    probabilities = [float(hit_if[a].mean()) for a in decided["action"]]
    hit = (decided["outcome"] == "hit").to_numpy(dtype=float)
    return expected | {
        "hit_rate": hits / n,
        "base_hit_rate": float((r > 0).mean()),
        "hit_rate_p_value": binomtest(hits, n, float((r > 0).mean()), alternative="greater").pvalue,
        "matched_base_hit_rate": float(np.mean(probabilities)),
        "matched_hit_rate_p_value": float(poisson_binom(probabilities).sf(hits - 1)),
        "brier_score": float(np.mean((decided["confidence"].to_numpy() - hit) ** 2)),
    }


def expected_alpha_interval(r: np.ndarray, b: np.ndarray, v: dict) -> tuple[float, float]:
    def alpha(strategy: np.ndarray, buy_hold: np.ndarray) -> float:
        years = v["trading_days_per_year"] / len(strategy)
        return np.prod(1 + strategy) ** years - np.prod(1 + buy_hold) ** years

    bootstrap = StationaryBootstrap(v["scorecard_bootstrap_block_size"], r, b, seed=v["scorecard_seed"])
    bounds = bootstrap.conf_int(
        alpha, reps=v["scorecard_bootstrap_reps"], method="percentile", size=v["scorecard_alpha_ci_level"]
    )
    return float(bounds[0, 0]), float(bounds[1, 0])


def expected_return_columns(days: pd.DataFrame, summary_row: pd.Series | None, v: dict) -> dict:
    if summary_row is None:
        return {"trading_days": None}
    r, b = days["strategy_return"].to_numpy(), days["buy_hold_return"].to_numpy()
    x = r - v["risk_free_rate"] / v["trading_days_per_year"]
    expected = {
        "trading_days": int(summary_row["trading_days"]),
        "sharpe_ratio": summary_row["sharpe_ratio"],
        "alpha": summary_row["alpha_vs_buy_hold"],
    }
    if np.ptp(x) > 0:
        expected["daily_sharpe_ratio"] = x.mean() / x.std(ddof=1)
        expected["probabilistic_sharpe"] = hand_psr(x)
        assert expected["daily_sharpe_ratio"] * math.sqrt(v["trading_days_per_year"]) == pytest.approx(
            summary_row["sharpe_ratio"], rel=1e-9
        )
    if len(days) >= v["min_trading_days"]:
        expected["alpha_ci_low"], expected["alpha_ci_high"] = expected_alpha_interval(r, b, v)
        block, reps, seed = v["scorecard_bootstrap_block_size"], v["scorecard_bootstrap_reps"], v["scorecard_seed"]
        expected["spa_p_value"] = arch_spa(r, b, block, reps, seed) if np.ptp(r - b) > 0 else None
    return expected


def expected_family_p_value(daily: pd.DataFrame, v: dict) -> tuple[float | None, int | None]:
    lengths = daily.groupby("strategy").size()
    members = daily[daily["strategy"].isin(lengths[lengths >= v["min_trading_days"]].index)]
    diffs = members.assign(d=members["strategy_return"] - members["buy_hold_return"])
    wide = diffs.pivot(index="date", columns="strategy", values="d").sort_index().sort_index(axis=1).dropna()
    wide = wide.loc[:, [np.ptp(wide[c].to_numpy()) > 0 for c in wide.columns]] if len(wide) else wide
    if len(wide) < v["min_trading_days"] or wide.shape[1] == 0:
        return None, None
    block, reps, seed = v["scorecard_bootstrap_block_size"], v["scorecard_bootstrap_reps"], v["scorecard_seed"]
    studentised = wide / wide.std(ddof=1)  # arch's SPA does not studentise: the scorecard does it first
    test = SPA(np.zeros(len(wide)), -studentised.to_numpy(), block_size=block, reps=reps, seed=seed)
    test.compute()
    return float(test.pvalues["consistent"]), len(wide)


def llm_twins(llm: pd.DataFrame) -> dict[str, tuple[str, bool]]:
    """Strategy name -> (model, blind) of every twin the LLM stage asked."""
    pairs = llm.assign(blind=llm["blind_mode"].fillna(False).astype(bool))[["model", "blind"]].drop_duplicates()
    return {f"llm:{m}" + (":blind" if b else ""): (m, b) for m, b in pairs.itertuples(index=False)}


def expected_health(llm: pd.DataFrame, twin: tuple[str, bool] | None) -> dict:
    blind = llm["blind_mode"].fillna(False).astype(bool)
    rows = llm[(llm["model"] == twin[0]) & (blind == twin[1])] if twin is not None else llm.iloc[0:0]
    if rows.empty:
        return {"decisions": None}
    sent = rows.loc[rows["attempts"] > 0, "latency_ms"].dropna().to_numpy(dtype=float)
    answered = rows[rows["status"].isin(["ok", "invalid_output"])]
    seconds = answered["latency_ms"].sum() / 1000
    expected = {"decisions": len(rows)} | {
        f"{status}_count": int((rows["status"] == status).sum())
        for status in ["ok", "invalid_output", "timeout", "llm_unavailable"]
    }
    expected["latency_p50_ms"], expected["latency_p95_ms"] = (
        np.percentile(sent, [50, 95]) if len(sent) else (None, None)
    )
    expected["completion_tokens_per_second"] = answered["completion_tokens"].sum() / seconds if seconds > 0 else None
    return expected


def too_little(row: dict, v: dict) -> bool:
    """The documented minimums of a verdict (insufficient_data when one is not met)."""
    if row.get("trading_days") is None:
        return True
    minimums = {
        "signals": v["scorecard_min_signals"],
        "trading_days": v["min_trading_days"],
        "trades": v["scorecard_min_trades"],
        "invested_days": v["scorecard_min_invested_days"],
    }
    if any(row[column] < minimum for column, minimum in minimums.items()):
        return True
    return not row.get("timed_signals") or row.get("portfolio_timing_p_value") is None


def expected_verdict(row: dict, v: dict) -> str:
    if too_little(row, v):
        return "insufficient_data"
    edge = (
        row["signal_timing_adjusted_p_value"] < v["scorecard_significance"]
        and row["portfolio_timing_p_value"] < v["scorecard_max_portfolio_p_value"]
    )
    return "edge" if edge else "no_edge"


def add_random_timing(tables: dict[str, pd.DataFrame], expected: dict[str, dict], v: dict) -> None:
    """The random-timing columns of every row (reference_random_timing), then the family's."""
    tracking, prices = tables["tracking"], tables["prices"].sort_values(["ticker", "date"])
    day_of = {(t, d): n for t, rows in prices.groupby("ticker") for n, d in enumerate(rows["date"])}
    outcomes = timing.outcome_table(prices, v["validation_horizon_days"], v["hold_hit_band"])
    decided = tracking[tracking["outcome"].isin(["hit", "miss"])]
    signal_draws, portfolio_draws = {}, {}
    for strategy, row in expected.items():
        mine = decided[decided["strategy"] == row["signals_from"]]
        if len(mine):
            observed, draws, timed = timing.signal_draws(mine, day_of, outcomes, v)
            row["timed_signals"] = timed
            if timed:
                signal_draws[strategy] = (observed, draws)
                row["random_timing_hit_rate"] = draws.mean()
                row["signal_timing_p_value"] = timing.p_upper(observed, draws)
        days = tables["daily"][tables["daily"]["strategy"] == strategy]
        if len(days):
            mean = days["strategy_return"].mean()
            draws, tested = timing.portfolio_draws(
                tables["positions"][tables["positions"]["strategy"] == strategy],
                tables["caps"][tables["caps"]["strategy"] == strategy],
                mean,
                v,
            )
            row["portfolio_mean_return"] = mean * v["trading_days_per_year"]
            if tested:
                portfolio_draws[strategy] = (mean, draws)
                row["random_timing_mean_return"] = float(np.median(draws)) * v["trading_days_per_year"]
                row["portfolio_timing_p_value"] = timing.p_upper(mean, draws)
    judged = [s for s, row in expected.items() if not too_little(row, v)]
    signal_family = {s: signal_draws[s] for s in judged}
    adjusted = timing.stepdown(
        {s: o for s, (o, _) in signal_family.items()}, {s: d for s, (_, d) in signal_family.items()}
    )
    portfolio_adjusted = timing.stepdown(
        {s: portfolio_draws[s][0] for s in judged}, {s: portfolio_draws[s][1] for s in judged}
    )
    effects = timing.detectable({s: d for s, (_, d) in signal_family.items()}, v)
    for strategy in judged:
        expected[strategy]["signal_timing_adjusted_p_value"] = adjusted[strategy]
        expected[strategy]["portfolio_timing_adjusted_p_value"] = portfolio_adjusted[strategy]
        expected[strategy]["minimum_detectable_effect"] = effects.get(strategy)
    for row in expected.values():
        row["random_timing_family_size"] = len(judged) or None


def expected_scorecard(tables: dict[str, pd.DataFrame], v: dict) -> dict[str, dict]:
    tracking, daily, summary = tables["tracking"], tables["daily"], tables["summary"]
    with_signals = set(tracking["strategy"])
    twins = llm_twins(tables["llm"])
    strategies = sorted(with_signals | set(summary["strategy"]) | set(twins))
    expected = {}
    for strategy in strategies:
        source = source_of(strategy, with_signals)
        models = tracking.loc[tracking["strategy"] == source, "model"].dropna().unique()
        twin = twins.get(source_of(strategy, set(twins)) or "")
        model = models[0] if len(models) == 1 and models[0] != source else twin[0] if twin else None
        summary_rows = summary[summary["strategy"] == strategy]
        row = {"strategy": strategy, "signals_from": source, "model": model}
        row |= expected_signal_columns(tracking, source, project_vars()["hold_hit_band"])
        row |= expected_return_columns(
            daily[daily["strategy"] == strategy], summary_rows.iloc[0] if len(summary_rows) else None, v
        )
        row |= expected_health(tables["llm"], twin)
        if summary_rows.empty:
            row["trades"] = None
            row["invested_days"] = 0
        else:
            days = daily[daily["strategy"] == strategy]
            row["trades"] = int(summary_rows.iloc[0]["trades"])
            row["invested_days"] = int((days["exposure"] > 0).sum())
        expected[strategy] = row
    sharpes = [r["daily_sharpe_ratio"] for r in expected.values() if r.get("daily_sharpe_ratio") is not None]
    trials = sum(r["trading_days"] is not None for r in expected.values())
    sr0 = hand_sr0(sharpes, trials) if len(sharpes) >= 2 and trials >= 2 else None
    family, family_days = expected_family_p_value(daily, v)
    add_random_timing(tables, expected, v)
    for strategy, row in expected.items():
        days = daily[daily["strategy"] == strategy]
        x = days["strategy_return"].to_numpy() - v["risk_free_rate"] / v["trading_days_per_year"]
        row["deflated_sharpe_benchmark"] = sr0
        row["deflated_sharpe"] = hand_psr(x, sr0) if sr0 is not None and "daily_sharpe_ratio" in row else None
        row["spa_family_p_value"], row["spa_family_days"] = family, family_days
        row["verdict"] = expected_verdict(row, v)
    return expected


def assert_scorecard_matches(tables: dict[str, pd.DataFrame], v: dict) -> None:
    """Every column of every row equals the independent computation; a missing key means null."""
    expected = expected_scorecard(tables, v)
    actual = tables["scorecard"].set_index("strategy")
    assert list(actual.index) == list(expected), "one row per strategy of the signals and the backtest"
    for strategy, row in expected.items():
        for column in actual.columns:
            if column == "verdict_reason":
                continue
            want, got = row.get(column), actual.loc[strategy, column]
            where = f"{strategy}.{column}"
            if want is None or (isinstance(want, float) and math.isnan(want)):
                assert pd.isna(got), f"{where}: expected null, got {got}"
            elif isinstance(want, str):
                assert got == want, where
            else:
                assert not pd.isna(got), f"{where}: expected {want}, got null"
                assert float(got) == pytest.approx(float(want), **TOLERANCE), where
