-- Daily equity and drawdown of every backtest: one row per (strategy, ticker, trading day) plus
-- the strategy's portfolio under ticker = 'PORTFOLIO'. Feeds the equity / drawdown charts and
-- mart_backtest_summary. Equity starts from initial_capital at the close before the first row.
{%- set capital = var('initial_capital') %}
with

ticker_days as (
    select
        strategy,
        ticker,
        date,
        cast(position as double)    as position,
        daily_return,
        strategy_return,
        cost,
        cast(position_change as double) as position_change,
        adj_close
    from {{ ref('int_backtest_positions') }}
),

portfolio_days as (
    select
        strategy,
        'PORTFOLIO'         as ticker,
        date,
        gross_exposure      as position,
        buy_hold_return     as daily_return,
        strategy_return,
        cost,
        weight_change       as position_change,
        cast(null as double) as adj_close
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
        {{ capital }} * product(1 + strategy_return) over running    as equity,
        {{ capital }} * product(1 + daily_return) over running       as buy_hold_equity
    from all_days
    window running as (partition by strategy, ticker order by date rows between unbounded preceding and current row)
)

select
    strategy,
    ticker,
    date,
    position,
    daily_return,
    strategy_return,
    equity,
    equity / greatest(
        max(equity) over (partition by strategy, ticker order by date rows between unbounded preceding and current row),
        {{ capital }}
    ) - 1                                                             as drawdown,
    buy_hold_equity,
    buy_hold_equity / greatest(
        max(buy_hold_equity) over (partition by strategy, ticker order by date rows between unbounded preceding and current row),
        {{ capital }}
    ) - 1                                                             as buy_hold_drawdown,
    cost,
    position_change,
    adj_close
from compounded
