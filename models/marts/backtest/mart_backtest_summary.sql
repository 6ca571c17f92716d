-- Backtest metrics and validation flags: one row per (strategy, ticker) and one per strategy with
-- ticker = 'PORTFOLIO'. Fractions, daily simple returns; conventions in _backtest_marts.yml.
{%- set capital = var('initial_capital') %}
{%- set periods = var('trading_days_per_year') %}
{%- set daily_risk_free = var('risk_free_rate') / var('trading_days_per_year') %}
with

daily as (
    select
        *,
        strategy_return - {{ daily_risk_free }} as excess_return
    from {{ ref('fct_backtest_daily') }}
),

benchmark_returns as (
    select date, daily_return - {{ daily_risk_free }} as excess_benchmark_return
    from {{ ref('int_prices_clean') }}
    where is_benchmark and daily_return is not null
),

trades as (
    select * from {{ ref('int_backtest_trades') }}
),

window_stats as (
    select
        strategy,
        ticker,
        min(date)                                               as start_date,
        max(date)                                               as end_date,
        count(*)                                                as trading_days,
        arg_max(equity, date)                                   as final_equity,
        arg_max(buy_hold_equity, date)                          as buy_hold_final_equity,
        stddev_samp(strategy_return)                            as return_std,
        avg(excess_return)                                      as mean_excess_return,
        stddev_samp(excess_return)                              as excess_return_std,
        sqrt(avg(power(least(excess_return, 0), 2)))            as downside_deviation,
        min(drawdown)                                           as max_drawdown,
        avg(case when position <> 0 then 1.0 else 0.0 end)      as exposure,
        sum(position_change)                                    as total_position_change
    from daily
    group by strategy, ticker
),

capm_inputs as (
    select daily.strategy, daily.ticker, daily.excess_return, benchmark_returns.excess_benchmark_return
    from daily
    inner join benchmark_returns on benchmark_returns.date = daily.date
),

capm_beta as (
    select
        strategy,
        ticker,
        covar_pop(excess_return, excess_benchmark_return)
            / nullif(var_pop(excess_benchmark_return), 0)      as beta
    from capm_inputs
    group by strategy, ticker
),

capm as (
    select
        capm_inputs.strategy,
        capm_inputs.ticker,
        any_value(capm_beta.beta)                               as beta,
        power(1 + avg(capm_inputs.excess_return - capm_beta.beta * capm_inputs.excess_benchmark_return), {{ periods }}) - 1
                                                                as capm_alpha
    from capm_inputs
    inner join capm_beta
        on capm_beta.strategy = capm_inputs.strategy
       and capm_beta.ticker = capm_inputs.ticker
    group by capm_inputs.strategy, capm_inputs.ticker
),

ticker_trade_stats as (
    select
        strategy,
        ticker,
        count(*)                                                as trades,
        avg(case when trade_return > 0 then 1.0 else 0.0 end)   as win_rate
    from trades
    group by strategy, ticker
),

portfolio_trade_stats as (
    select
        strategy,
        'PORTFOLIO'                                             as ticker,
        count(*)                                                as trades,
        avg(case when trade_return > 0 then 1.0 else 0.0 end)   as win_rate
    from trades
    group by strategy
),

trade_stats as (
    select * from ticker_trade_stats
    union all
    select * from portfolio_trade_stats
),

metrics as (
    select
        window_stats.strategy,
        window_stats.ticker,
        window_stats.start_date,
        window_stats.end_date,
        window_stats.trading_days,
        cast({{ capital }} as double)                                               as initial_capital,
        window_stats.final_equity,
        window_stats.final_equity / {{ capital }} - 1                               as total_return,
        power(window_stats.final_equity / {{ capital }}, {{ periods }} / window_stats.trading_days) - 1
                                                                                    as annual_return,
        window_stats.return_std * sqrt({{ periods }})                               as annual_volatility,
        window_stats.mean_excess_return / nullif(window_stats.excess_return_std, 0) * sqrt({{ periods }})
                                                                                    as sharpe_ratio,
        window_stats.mean_excess_return / nullif(window_stats.downside_deviation, 0) * sqrt({{ periods }})
                                                                                    as sortino_ratio,
        window_stats.max_drawdown,
        window_stats.buy_hold_final_equity / {{ capital }} - 1                      as buy_hold_return,
        power(window_stats.buy_hold_final_equity / {{ capital }}, {{ periods }} / window_stats.trading_days) - 1
                                                                                    as buy_hold_annual_return,
        capm.beta,
        capm.capm_alpha,
        trade_stats.win_rate,
        coalesce(trade_stats.trades, 0)                                             as trades,
        window_stats.exposure,
        window_stats.total_position_change * {{ periods }} / window_stats.trading_days
                                                                                    as turnover
    from window_stats
    left join capm
        on capm.strategy = window_stats.strategy and capm.ticker = window_stats.ticker
    left join trade_stats
        on trade_stats.strategy = window_stats.strategy and trade_stats.ticker = window_stats.ticker
),

flagged as (
    select
        *,
        annual_return / nullif(abs(max_drawdown), 0)                                as calmar_ratio,
        annual_return - buy_hold_annual_return                                      as alpha,
        coalesce(annual_return > {{ var('min_annual_return') }}, false)            as passes_min_return,
        coalesce(annual_return > buy_hold_annual_return, false)                     as beats_buy_hold,
        trading_days >= {{ var('min_trading_days') }}                               as passes_min_days,
        coalesce(sharpe_ratio > {{ var('min_sharpe_ratio') }}, false)              as passes_sharpe,
        initial_capital >= {{ var('min_capital') }}                                 as passes_capital
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
    alpha,
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
        and passes_capital                                                          as is_valid
from flagged
