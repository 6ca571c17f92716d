"""A hand-made mart_strategy_scorecard for report tests: a test of the rendering, not of the statistics.

One row per strategy of the warehouse's mart_backtest_summary (so it works for any number of
strategies), the three verdicts dealt out in turn, and figures chosen so each one can be found in
the output (a p-value below 0.001, an LLM strategy's output health).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from report.data import REQUIRED_SCORECARD_COLUMNS
from signal_stats.columns import COLUMNS, SQL_TYPES

# the columns come from the scorecard's one column list; the figures below are this fixture's own
REQUIRED_COLUMNS = {name: SQL_TYPES[COLUMNS[name]] for name in REQUIRED_SCORECARD_COLUMNS}
ALL_COLUMNS = {name: SQL_TYPES[dtype] for name, dtype in COLUMNS.items()}
VERDICTS = ("no_edge", "insufficient_data", "edge")


def scorecard_rows(strategies: list[str]) -> list[dict[str, object]]:
    rows = []
    for i, strategy in enumerate(strategies):
        llm = strategy.startswith("llm:")
        signals, hits = 48 + i, 25 + i
        rows.append(
            {
                "strategy": strategy,
                "model": strategy.split(":")[1] if llm else None,
                "signals": signals,
                "hits": hits,
                "hit_rate": hits / signals,
                "base_hit_rate": 0.55,
                "hit_rate_p_value": 0.0004 if i == 2 else 0.71 - 0.05 * i,
                "brier_score": 0.2512,
                "sharpe_ratio": 0.48 + i,
                "probabilistic_sharpe": 0.41 + 0.01 * i,
                "deflated_sharpe": 0.12,
                "alpha": -0.031,
                "alpha_ci_low": -0.08,
                "alpha_ci_high": 0.02,
                "spa_p_value": 0.64 - 0.1 * i,
                "verdict": VERDICTS[i % 3],
                "verdict_reason": f"reason for {strategy}",
                "spa_family_p_value": 0.37,
                "decisions": 48 if llm else None,
                "ok_count": 46 if llm else None,
                "invalid_output_count": 1 if llm else None,
                "timeout_count": 0 if llm else None,
                "llm_unavailable_count": 1 if llm else None,
                "latency_p50_ms": 1234.0 if llm else None,
                "latency_p95_ms": 4321.0 if llm else None,
                "completion_tokens_per_second": 55.5 if llm else None,
                "buy_share": 0.9 if llm else 1.0,
                "sell_share": 0.1 if llm else 0.0,
                "hold_share": 0.0,
                "mean_confidence": 0.77 if llm else 1.0,
                "matched_base_hit_rate": 0.5,
                "matched_hit_rate_p_value": 0.42,
                "random_timing_hit_rate": 0.497 + 0.001 * i,
                "signal_timing_p_value": 0.0005 if i == 2 else 0.41 - 0.03 * i,
                "signal_timing_adjusted_p_value": 0.0012 if i == 2 else 0.62 - 0.03 * i,
                "minimum_detectable_effect": 0.071 + 0.001 * i,
                "portfolio_timing_p_value": 0.21 + 0.01 * i,
                "random_timing_family_size": len(strategies),
                "spa_family_days": 200,
            }
        )
    return rows


def add_scorecard(warehouse_file: Path, extras: bool = True) -> list[dict[str, object]]:
    """Create mart_strategy_scorecard in ``warehouse_file`` (replacing one that is there); returns its rows.
    ``extras=False`` writes only the issue's required columns, as an early scorecard might."""
    columns = ALL_COLUMNS if extras else REQUIRED_COLUMNS
    con = duckdb.connect(str(warehouse_file))
    try:
        strategies = [
            r[0] for r in con.execute("select distinct strategy from mart_backtest_summary order by 1").fetchall()
        ]
        rows = [{c: row.get(c) for c in columns} for row in scorecard_rows(strategies)]
        con.execute("drop table if exists mart_strategy_scorecard")
        con.execute(f"create table mart_strategy_scorecard ({', '.join(f'{c} {t}' for c, t in columns.items())})")
        con.executemany(
            f"insert into mart_strategy_scorecard values ({', '.join('?' for _ in columns)})",
            [[row[c] for c in columns] for row in rows],
        )
    finally:
        con.close()
    return rows
