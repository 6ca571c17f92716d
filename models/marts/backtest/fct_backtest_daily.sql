-- Daily equity and drawdown of every backtest: one row per (strategy, ticker, trading day) plus
-- the strategy's portfolio under ticker = 'PORTFOLIO'. Feeds the equity / drawdown charts and
-- mart_backtest_summary. Equity starts from initial_capital at the close before the first row.
-- exposure and buy_hold_return mean the same on both kinds of rows: what is invested, and what
-- the yardstick (the ticker itself, or the capped equal-weight basket) returned that day.
-- The running windows partition by backtest_id (int_backtest_periods' number of the (strategy,
-- ticker) backtest, minus the strategy's rank for its portfolio): the same series as
-- (strategy, ticker), much cheaper to sort.
{%- set capital = var('initial_capital') %}
with

ticker_days as (
    select
        strategy,
        ticker,
        backtest_id,
        date,
        cast(position as double)        as exposure,
        daily_return                    as buy_hold_return,
        strategy_return,
        cost,
        cast(position_change as double) as exposure_change,
        adj_close
    from {{ ref('int_backtest_positions') }}
),

portfolio_days as (
    select
        strategy,
        {{ portfolio_ticker() }}               as ticker,
        -dense_rank() over (order by strategy) as backtest_id,
        date,
        gross_exposure                         as exposure,
        buy_hold_return,
        strategy_return,
        cost,
        weight_change                          as exposure_change,
        cast(null as double)                   as adj_close
    from {{ ref('int_backtest_portfolio_daily') }}
),

all_days as (
    select * from ticker_days
    union all
    select * from portfolio_days
),

compounded as (
    select
        *,
        {{ capital }} * product(1 + strategy_return) over running as equity,
        {{ capital }} * product(1 + buy_hold_return) over running as buy_hold_equity
    from all_days
    window running as (partition by backtest_id order by date rows between unbounded preceding and current row)
)

select
    strategy,
    ticker,
    date,
    exposure,
    buy_hold_return,
    strategy_return,
    equity,
    equity / greatest(max(equity) over running, {{ capital }}) - 1                   as drawdown,
    buy_hold_equity,
    buy_hold_equity / greatest(max(buy_hold_equity) over running, {{ capital }}) - 1 as buy_hold_drawdown,
    cost,
    exposure_change,
    adj_close
from compounded
window running as (partition by backtest_id order by date rows between unbounded preceding and current row)
