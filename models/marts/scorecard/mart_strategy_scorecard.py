"""One row per strategy with the statistics that say whether its signals show an edge (signal_stats)."""


def model(dbt, session):
    dbt.config(materialized="table")
    from signal_stats.scorecard import build_scorecard
    from signal_stats.settings import ScorecardSettings
    from warehouse_core import UserError

    settings = ScorecardSettings.from_config(dbt.config.get("scorecard_settings"))
    portfolio = f"ticker = '{settings.portfolio_ticker}'"
    backtest = dbt.ref("fct_backtest_daily")
    daily = backtest.filter(portfolio).project("strategy, date, strategy_return, buy_hold_return").df()
    if daily.empty and backtest.aggregate("count(*)").fetchone()[0] > 0:
        raise UserError(
            f"fct_backtest_daily has no rows with {portfolio}: make portfolio_ticker in "
            "models/marts/scorecard/_scorecard.yml equal the portfolio_ticker() macro"
        )
    return build_scorecard(
        signal_stats=dbt.ref("int_strategy_signal_stats").df(),
        health=dbt.ref("int_llm_output_health").df(),
        summary=dbt.ref("mart_backtest_summary").filter(portfolio).df(),
        daily=daily,
        settings=settings,
    )
