-- Every signal with what happened next: forward returns of adj_close at 1, 5 and 20 trading days
-- from the close of its base day (int_signals: the last trading day on or before signal_date), the outcome
-- at validation_horizon_days, and whether the signal is ready for paper trading.
{%- set horizon = var('validation_horizon_days') %}
with

signals as (
    select * from {{ ref('int_signals') }}
),

summary as (
    select strategy, ticker, is_valid from {{ ref('mart_backtest_summary') }}
),

forward_prices as (
    select
        ticker,
        date,
        adj_close,
        lead(adj_close, 1) over by_ticker / adj_close - 1             as forward_return_1d,
        lead(adj_close, 5) over by_ticker / adj_close - 1             as forward_return_5d,
        lead(adj_close, 20) over by_ticker / adj_close - 1            as forward_return_20d,
        lead(adj_close, {{ horizon }}) over by_ticker / adj_close - 1 as forward_return_horizon
    from {{ ref('int_prices_clean') }}
    window by_ticker as (partition by ticker order by date)
),

signal_outcomes as (
    select
        signals.*,
        forward_prices.forward_return_1d,
        forward_prices.forward_return_5d,
        forward_prices.forward_return_20d,
        forward_prices.forward_return_horizon,
        case
            when forward_prices.forward_return_horizon is null then 'pending'
            when signals.action = 'BUY' and forward_prices.forward_return_horizon > 0 then 'hit'
            when signals.action = 'SELL' and forward_prices.forward_return_horizon < 0 then 'hit'
            when signals.action = 'HOLD'
                 and abs(forward_prices.forward_return_horizon) <= {{ var('hold_hit_band') }} then 'hit'
            else 'miss'
        end as outcome
    from signals
    left join forward_prices
        on signals.ticker = forward_prices.ticker
       and signals.base_date = forward_prices.date
)

select
    signal_outcomes.signal_id,
    signal_outcomes.strategy,
    signal_outcomes.model,
    signal_outcomes.ticker,
    signal_outcomes.signal_date,
    signal_outcomes.action,
    signal_outcomes.confidence,
    signal_outcomes.forward_return_1d,
    signal_outcomes.forward_return_5d,
    signal_outcomes.forward_return_20d,
    signal_outcomes.outcome,
    signal_outcomes.outcome = 'hit'           as is_hit,
    signal_outcomes.outcome = 'hit'
        and signal_outcomes.confidence >= {{ var('confidence_threshold') }}
        and coalesce(summary.is_valid, false) as ready_for_paper_trading,
    signal_outcomes.base_date,
    {{ horizon }}                             as validation_horizon_days,
    signal_outcomes.forward_return_horizon,
    case signal_outcomes.action
        when 'BUY' then signal_outcomes.forward_return_horizon
        when 'SELL' then -signal_outcomes.forward_return_horizon
    end                                       as signal_return,
    coalesce(summary.is_valid, false)         as strategy_is_valid,
    signal_outcomes.advisory_only
from signal_outcomes
left join summary
    on signal_outcomes.strategy = summary.strategy
   and signal_outcomes.ticker = summary.ticker
