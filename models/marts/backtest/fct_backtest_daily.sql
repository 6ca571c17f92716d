{{ config(materialized='view') }}
-- Daily equity and drawdown of every backtest: one row per (strategy, ticker, trading day) plus
-- the strategy's portfolio under ticker = 'PORTFOLIO'. Feeds the equity / drawdown charts and
-- mart_backtest_summary. Equity starts from initial_capital at the close before the first row.
-- exposure and buy_hold_return mean the same on both kinds of rows: what is invested, and what
-- the yardstick (the ticker itself, or the capped equal-weight basket) returned that day.
-- A view over the two tables that hold the days (int_backtest_ticker_daily, stored narrow, and
-- int_backtest_portfolio_daily): the ~2.5 M rows of 500 tickers x 10 years are written once, and
-- what follows from them row by row (names, cost, exposure change, buy-and-hold equity) is
-- computed here as they are read; the ticker's price columns are its int_prices_clean row.
{%- set capital = var('initial_capital') %}
with

backtests as (
    select distinct backtest_id, strategy, ticker, buy_hold_base_price
    from {{ ref('int_backtest_period_returns') }}
),

ticker_days as (
    select
        backtests.strategy,
        backtests.ticker,
        ticker_days.date,
        cast(ticker_days.position as double)                                          as exposure,
        coalesce(prices.daily_return, 0e0)                                            as buy_hold_return,
        ticker_days.strategy_return,
        ticker_days.equity,
        ticker_days.drawdown,
        {{ capital }} * prices.adj_close / backtests.buy_hold_base_price              as buy_hold_equity,
        {{ cost_rate() }} * abs(ticker_days.position - ticker_days.previous_position) as cost,
        cast(abs(ticker_days.position - ticker_days.previous_position) as double)     as exposure_change,
        prices.adj_close
    from {{ ref('int_backtest_ticker_daily') }} as ticker_days
    inner join backtests
        on ticker_days.backtest_id = backtests.backtest_id
    inner join {{ ref('int_prices_clean') }} as prices
        on backtests.ticker = prices.ticker
       and ticker_days.date = prices.date
),

portfolio_days as (
    select
        strategy,
        {{ portfolio_ticker() }} as ticker,
        date,
        gross_exposure           as exposure,
        buy_hold_return,
        strategy_return,
        equity,
        drawdown,
        buy_hold_equity,
        cost,
        weight_change            as exposure_change,
        cast(null as double)     as adj_close
    from {{ ref('int_backtest_portfolio_daily') }}
)

select * from ticker_days
union all
select * from portfolio_days
