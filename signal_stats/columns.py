"""The scorecard's column list, written once: every column of mart_strategy_scorecard in order, with
its pandas dtype (nullable: a missing figure is NULL, never NaN). The verdict and the figures behind
it first, then the descriptive statistics, then LLM health, then the memorisation checks
(signal_stats.model_checks).

Everything else derives from it: signal_stats.scorecard builds the frame with these columns, the
report's ScorecardRow (report/data.py) types them, the GX suite strategy_scorecard checks them (its
``$PARAMETER`` scorecard_columns, expectations/settings.py), the report tests' hand-made scorecard
(tests/report/scorecard_fixture.py) creates them, and a test keeps the model's yml, which describes
each one, in the same order. No imports beyond the standard library, so the report can read it
without loading the statistics.
"""

from __future__ import annotations

COLUMNS: dict[str, str] = {
    "strategy": "string",
    "model": "string",
    "verdict": "string",
    "verdict_reason": "string",
    "signals_from": "string",
    "signals": "Int64",
    "hits": "Int64",
    "hit_rate": "Float64",
    "random_timing_hit_rate": "Float64",
    "signal_timing_p_value": "Float64",
    "signal_timing_adjusted_p_value": "Float64",
    "minimum_detectable_effect": "Float64",
    "timed_signals": "Int64",
    "trading_days": "Int64",
    "trades": "Int64",
    "invested_days": "Int64",
    "portfolio_mean_return": "Float64",
    "random_timing_mean_return": "Float64",
    "portfolio_timing_p_value": "Float64",
    "portfolio_timing_adjusted_p_value": "Float64",
    "random_timing_family_size": "Int64",
    "base_hit_rate": "Float64",
    "hit_rate_p_value": "Float64",
    "matched_base_hit_rate": "Float64",
    "matched_hit_rate_p_value": "Float64",
    "brier_score": "Float64",
    "pending_signals": "Int64",
    "buy_share": "Float64",
    "sell_share": "Float64",
    "hold_share": "Float64",
    "mean_confidence": "Float64",
    "sharpe_ratio": "Float64",
    "daily_sharpe_ratio": "Float64",
    "probabilistic_sharpe": "Float64",
    "deflated_sharpe": "Float64",
    "deflated_sharpe_benchmark": "Float64",
    "alpha": "Float64",
    "alpha_ci_low": "Float64",
    "alpha_ci_high": "Float64",
    "spa_p_value": "Float64",
    "spa_family_p_value": "Float64",
    "spa_family_days": "Int64",
    "decisions": "Int64",
    "ok_count": "Int64",
    "invalid_output_count": "Int64",
    "timeout_count": "Int64",
    "llm_unavailable_count": "Int64",
    "latency_p50_ms": "Float64",
    "latency_p95_ms": "Float64",
    "completion_tokens_per_second": "Float64",
    "memorization_check_passed": "boolean",
    "memorization_pairs": "Int64",
    "memorization_gap": "Float64",
    "memorization_p_value": "Float64",
    "recalls": "boolean",
    "recall_p_value": "Float64",
    "recall_spearman_correlation": "Float64",
    "recall_probes": "Int64",
    "training_cutoff": "date",
    "signals_before_cutoff": "Int64",
    "signals_after_cutoff": "Int64",
    "excess_hit_rate_before_cutoff": "Float64",
    "excess_hit_rate_after_cutoff": "Float64",
}

SQL_TYPES = {"string": "varchar", "Int64": "bigint", "Float64": "double", "boolean": "boolean", "date": "date"}
"""DuckDB type of each dtype (what the dbt Python model writes)."""
