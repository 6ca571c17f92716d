-- Backtest metrics and validation flags: one row per (strategy, ticker) and one per strategy with
-- ticker = 'PORTFOLIO'. Fractions, daily simple returns; conventions in _backtest_marts.yml.
{%- set capital = var('initial_capital') %}
{%- set periods = var('trading_days_per_year') %}
with

benchmark_returns as (
    select date, daily_return as benchmark_return
    from {{ ref('int_prices_clean') }}
    where is_benchmark and daily_return is not null
),

backtests as (
    select distinct backtest_id, strategy, ticker
    from {{ ref('int_backtest_period_returns') }}
),

days as (
    -- the rows of fct_backtest_daily, read from the two tables that store them: the view's price
    -- columns (adj_close, buy_hold_return) are not needed here, and joining them costs a pass
    select
        backtests.strategy,
        backtests.ticker,
        ticker_days.date,
        cast(ticker_days.position as double)                                      as exposure,
        ticker_days.strategy_return,
        ticker_days.equity,
        ticker_days.drawdown,
        cast(abs(ticker_days.position - ticker_days.previous_position) as double) as exposure_change
    from {{ ref('int_backtest_ticker_daily') }} as ticker_days
    inner join backtests
        on ticker_days.backtest_id = backtests.backtest_id
    union all
    select
        strategy,
        {{ portfolio_ticker() }} as ticker,
        date,
        gross_exposure           as exposure,
        strategy_return,
        equity,
        drawdown,
        weight_change            as exposure_change
    from {{ ref('int_backtest_portfolio_daily') }}
),

buy_hold_final_equities as (
    -- the yardstick at the window's last close: a ticker held long (initial_capital x the last
    -- period's last price / the close before the window), or the portfolio's capped basket
    select
        strategy,
        ticker,
        {{ capital }} * max_by(last_adj_close, first_day_number) / any_value(buy_hold_base_price) as buy_hold_final_equity
    from {{ ref('int_backtest_period_returns') }}
    group by strategy, ticker
    union all
    select
        strategy,
        {{ portfolio_ticker() }}      as ticker,
        max_by(buy_hold_equity, date) as buy_hold_final_equity
    from {{ ref('int_backtest_portfolio_daily') }}
    group by strategy
),

daily as (
    select
        days.*,
        days.strategy_return - {{ daily_risk_free_rate() }}               as excess_return,
        benchmark_returns.benchmark_return - {{ daily_risk_free_rate() }} as excess_benchmark_return
    from days
    left join benchmark_returns
        on days.date = benchmark_returns.date
),

window_stats as (
    -- one pass over the days; the CAPM inputs use only the days the benchmark has a return
    select
        strategy,
        ticker,
        min(date)                                                             as start_date,
        max(date)                                                             as end_date,
        count(*)                                                              as trading_days,
        max_by(equity, date)                                                  as final_equity,
        stddev_samp(strategy_return)                                          as return_std,
        avg(excess_return)                                                    as mean_excess_return,
        stddev_samp(excess_return)                                            as excess_return_std,
        sqrt(avg(power(least(excess_return, 0), 2)))                          as downside_deviation,
        min(drawdown)                                                         as max_drawdown,
        avg(case when exposure <> 0 then 1e0 else 0e0 end)                    as exposure,
        sum(exposure_change)                                                  as total_exposure_change,
        covar_pop(excess_return, excess_benchmark_return)
            / nullif(var_pop(excess_benchmark_return), 0)                     as beta,
        avg(excess_return) filter (where excess_benchmark_return is not null) as capm_mean_excess_return,
        avg(excess_benchmark_return)                                          as capm_mean_excess_benchmark_return
    from daily
    group by strategy, ticker
),

ticker_trade_stats as (
    select
        strategy,
        ticker,
        count(*)                                 as trades,
        count(*) filter (where trade_return > 0) as winning_trades
    from {{ ref('int_backtest_trades') }}
    group by strategy, ticker
),

trade_stats as (
    -- the portfolio row counts every trade of the strategy's tickers
    select strategy, ticker, trades, winning_trades
    from ticker_trade_stats
    union all
    select strategy, {{ portfolio_ticker() }} as ticker, sum(trades) as trades, sum(winning_trades) as winning_trades
    from ticker_trade_stats
    group by strategy
),

metrics as (
    select
        window_stats.strategy,
        window_stats.ticker,
        window_stats.start_date,
        window_stats.end_date,
        window_stats.trading_days,
        cast({{ capital }} as double)                                     as initial_capital,
        window_stats.final_equity,
        window_stats.final_equity / {{ capital }} - 1                     as total_return,
        power(window_stats.final_equity / {{ capital }}, {{ periods }} / window_stats.trading_days) - 1
                                                                                    as annual_return,
        window_stats.return_std * sqrt({{ periods }})                     as annual_volatility,
        window_stats.mean_excess_return / nullif(window_stats.excess_return_std, 0) * sqrt({{ periods }})
                                                                                    as sharpe_ratio,
        window_stats.mean_excess_return / nullif(window_stats.downside_deviation, 0) * sqrt({{ periods }})
                                                                                    as sortino_ratio,
        window_stats.max_drawdown,
        buy_hold_final_equities.buy_hold_final_equity / {{ capital }} - 1 as buy_hold_return,
        power(buy_hold_final_equities.buy_hold_final_equity / {{ capital }}, {{ periods }} / window_stats.trading_days) - 1
                                                                                    as buy_hold_annual_return,
        window_stats.beta,
        -- Jensen's alpha, annualised as empyrical does: mean(excess - beta x excess benchmark)
        power(
            1 + window_stats.capm_mean_excess_return
            - window_stats.beta * window_stats.capm_mean_excess_benchmark_return,
            {{ periods }}
        ) - 1                                                             as capm_alpha,
        trade_stats.winning_trades / trade_stats.trades                   as win_rate,
        cast(coalesce(trade_stats.trades, 0) as bigint)                   as trades,
        window_stats.exposure,
        window_stats.total_exposure_change * {{ periods }} / window_stats.trading_days
                                                                                    as turnover
    from window_stats
    inner join buy_hold_final_equities
        on window_stats.strategy = buy_hold_final_equities.strategy
       and window_stats.ticker = buy_hold_final_equities.ticker
    left join trade_stats
        on window_stats.strategy = trade_stats.strategy
       and window_stats.ticker = trade_stats.ticker
),

flagged as (
    select
        *,
        annual_return / nullif(abs(max_drawdown), 0)                    as calmar_ratio,
        annual_return - buy_hold_annual_return                          as alpha_vs_buy_hold,
        coalesce(annual_return > {{ var('min_annual_return') }}, false) as passes_min_return,
        coalesce(annual_return > buy_hold_annual_return, false)         as beats_buy_hold,
        trading_days >= {{ var('min_trading_days') }}                   as passes_min_days,
        coalesce(sharpe_ratio > {{ var('min_sharpe_ratio') }}, false)   as passes_sharpe,
        initial_capital >= {{ var('min_capital') }}                     as passes_capital
    from metrics
)

select
    strategy,
    ticker,
    start_date,
    end_date,
    trading_days,
    initial_capital,
    final_equity,
    total_return,
    annual_return,
    annual_volatility,
    sharpe_ratio,
    sortino_ratio,
    max_drawdown,
    calmar_ratio,
    buy_hold_return,
    buy_hold_annual_return,
    alpha_vs_buy_hold,
    beta,
    capm_alpha,
    win_rate,
    trades,
    exposure,
    turnover,
    passes_min_return,
    beats_buy_hold,
    passes_min_days,
    passes_sharpe,
    passes_capital,
    passes_min_return
        and ({{ 'beats_buy_hold' if var('must_beat_buy_hold') else 'true' }})
        and passes_min_days
        and passes_sharpe
        and passes_capital as is_valid
from flagged
