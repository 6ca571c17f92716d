-- Every signal of int_signals with what happened next: forward returns of adj_close at 1, 5 and
-- 20 trading days from the close of its base day (the last trading day on or before
-- signal_date), and the outcome at validation_horizon_days. One home for the outcome rule, read by
-- mart_signal_tracking (per signal) and int_strategy_signal_stats (per strategy, for the scorecard).
{%- set horizon = var('validation_horizon_days') %}
with

signals as (
    select * from {{ ref('int_signals') }}
),

forward_prices as (
    select
        ticker,
        date,
        lead(adj_close, 1) over by_ticker / adj_close - 1             as forward_return_1d,
        lead(adj_close, 5) over by_ticker / adj_close - 1             as forward_return_5d,
        lead(adj_close, 20) over by_ticker / adj_close - 1            as forward_return_20d,
        lead(adj_close, {{ horizon }}) over by_ticker / adj_close - 1 as forward_return_horizon
    from {{ ref('int_prices_clean') }}
    window by_ticker as (partition by ticker order by date)
)

select
    signals.signal_id,
    signals.strategy,
    signals.model,
    signals.ticker,
    signals.signal_date,
    signals.action,
    signals.confidence,
    signals.advisory_only,
    signals.base_date,
    forward_prices.forward_return_1d,
    forward_prices.forward_return_5d,
    forward_prices.forward_return_20d,
    {{ horizon }} as validation_horizon_days,
    forward_prices.forward_return_horizon,
    case
        when forward_prices.forward_return_horizon is null then 'pending'
        when signals.action = 'BUY' and forward_prices.forward_return_horizon > 0 then 'hit'
        when signals.action = 'SELL' and forward_prices.forward_return_horizon < 0 then 'hit'
        when signals.action = 'HOLD'
             and abs(forward_prices.forward_return_horizon) <= {{ var('hold_hit_band') }} then 'hit'
        else 'miss'
    end           as outcome
from signals
left join forward_prices
    on signals.ticker = forward_prices.ticker
   and signals.base_date = forward_prices.date
