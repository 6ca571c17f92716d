{{ config(materialized='view') }}
-- One row per (strategy, backtest ticker, trading day) in the strategy's window for that ticker:
-- the position held over the day (from int_backtest_periods, so decided at an earlier close), the
-- day's return and costs. A view: expanding the periods to ~2.5 M days for 500 tickers x 10 years
-- is cheaper each time it is read than storing them (fct_backtest_daily stores the result).
-- Cost: cost_rate x |position change|, on the first day the new position is held, split into
-- closing the old position and opening the new one. Cash (1 - |position|) earns the daily
-- risk-free rate.
with

period_days as (
    select
        *,
        unnest(range(first_day_number, last_day_number + 1)) as trading_day_number
    from {{ ref('int_backtest_periods') }}
),

priced_days as (
    select
        period_days.strategy,
        period_days.ticker,
        period_days.backtest_id,
        prices.date,
        prices.previous_date,
        prices.adj_close,
        coalesce(prices.daily_return, 0.0)                                    as daily_return,
        period_days.position_signal_id,
        period_days.position,
        case when period_days.trading_day_number = period_days.first_day_number
             then period_days.previous_position else period_days.position end as previous_position,
        period_days.trade_number,
        case when period_days.trading_day_number = period_days.first_day_number
             then period_days.closed_trade_number end                         as closed_trade_number
    from period_days
    inner join {{ ref('int_prices_clean') }} as prices
        on period_days.ticker = prices.ticker
       and period_days.trading_day_number = prices.trading_day_number
),

costed_days as (
    select
        *,
        abs(position - previous_position)                                            as position_change,
        case when position <> previous_position
             then {{ cost_rate() }} * abs(position) else 0.0 end                     as opening_cost,
        case when position <> previous_position
             then {{ cost_rate() }} * abs(previous_position) else 0.0 end            as closing_cost,
        position * daily_return + (1 - abs(position)) * {{ daily_risk_free_rate() }} as gross_return
    from priced_days
)

select
    strategy,
    ticker,
    backtest_id,
    date,
    previous_date,
    adj_close,
    daily_return,
    position_signal_id,
    previous_position,
    position,
    position_change,
    opening_cost,
    closing_cost,
    opening_cost + closing_cost                                as cost,
    gross_return,
    -- an account cannot lose more than everything (only reachable by a short whose stock more than doubles in a day)
    greatest(gross_return - opening_cost - closing_cost, -1.0) as strategy_return,
    trade_number,
    closed_trade_number
from costed_days
