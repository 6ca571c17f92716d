-- Portfolio backtest per (strategy, trading day): equal weight across the tickers the strategy is
-- in the market with that day, each capped at max_position_size, the rest in cash earning the
-- daily risk-free rate. Weights are rebalanced to target every day; the transaction cost is
-- charged on |change of target weight| per ticker (drift back to target is assumed free).
-- Positions come from int_backtest_positions, so they are known at the close of the previous day.
-- buy_hold_return is the benchmark the portfolio is judged against: every ticker in the
-- strategy's window held at the same capped equal weight, no costs.
{%- set cost_rate = var('transaction_cost_bps') / 10000.0 %}
{%- set daily_risk_free = var('risk_free_rate') / var('trading_days_per_year') %}
{%- set cap = var('max_position_size') %}
with

positions as (
    select strategy, ticker, date, position, daily_return
    from {{ ref('int_backtest_positions') }}
),

counted as (
    select
        *,
        count(*) filter (where position <> 0) over by_strategy_day   as tickers_in_market,
        count(*) over by_strategy_day                                as tickers_in_window
    from positions
    window by_strategy_day as (partition by strategy, date)
),

weighted as (
    select
        *,
        case when position <> 0
             then sign(position) * least(1.0 / tickers_in_market, {{ cap }})
             else 0.0 end                                            as weight,
        least(1.0 / tickers_in_window, {{ cap }})                    as buy_hold_weight
    from counted
),

weight_changes as (
    select
        *,
        coalesce(lag(weight) over (partition by strategy, ticker order by date), 0.0) as previous_weight
    from weighted
)

select
    strategy,
    date,
    count(*)                                                                      as tickers_in_window,
    max(tickers_in_market)                                                        as tickers_in_market,
    sum(abs(weight))                                                              as gross_exposure,
    sum(abs(weight - previous_weight))                                            as weight_change,
    {{ cost_rate }} * sum(abs(weight - previous_weight))                          as cost,
    sum(weight * daily_return) + (1 - sum(abs(weight))) * {{ daily_risk_free }}   as gross_return,
    sum(weight * daily_return) + (1 - sum(abs(weight))) * {{ daily_risk_free }}
        - {{ cost_rate }} * sum(abs(weight - previous_weight))                    as strategy_return,
    sum(buy_hold_weight * daily_return)
        + (1 - sum(buy_hold_weight)) * {{ daily_risk_free }}                      as buy_hold_return
from weight_changes
group by strategy, date
