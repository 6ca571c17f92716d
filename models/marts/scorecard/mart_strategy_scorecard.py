"""One row per strategy with the statistics that say whether its signals show an edge (signal_stats)."""


def model(dbt, session):
    dbt.config(materialized="table")
    from signal_stats.scorecard import build_scorecard, read_inputs
    from signal_stats.settings import ScorecardSettings

    settings = ScorecardSettings.from_config(dbt.config.get("scorecard_settings"))
    # literal refs, so dbt sees every input in the DAG (signal_stats.scorecard.TABLES names them)
    relations = {
        "int_strategy_signal_stats": dbt.ref("int_strategy_signal_stats"),
        "int_llm_output_health": dbt.ref("int_llm_output_health"),
        "mart_backtest_summary": dbt.ref("mart_backtest_summary"),
        "fct_backtest_daily": dbt.ref("fct_backtest_daily"),
        "int_backtest_portfolio_daily": dbt.ref("int_backtest_portfolio_daily"),
        "int_signal_outcomes": dbt.ref("int_signal_outcomes"),
        "int_forward_outcomes": dbt.ref("int_forward_outcomes"),
        "mart_model_recall": dbt.ref("mart_model_recall"),
        "int_llm_training_cutoffs": dbt.ref("int_llm_training_cutoffs"),
    }

    def read(relation, condition, columns):
        rows = relations[relation]
        if condition is not None:
            rows = rows.filter(condition)
        if columns is not None:
            rows = rows.project(", ".join(columns))
        return rows.df()

    return build_scorecard(read_inputs(read, settings), settings)
