-- Every signal of int_signals with what happened next: forward returns of adj_close at 1, 5 and
-- 20 trading days from the close of its base day (the last trading day on or before
-- signal_date), and the outcome at validation_horizon_days by int_forward_outcomes' rule. Read by
-- mart_signal_tracking (per signal) and int_strategy_signal_stats (per strategy, for the scorecard).
{%- set horizon = var('validation_horizon_days') %}
with

signals as (
    select * from {{ ref('int_signals') }}
),

forward_outcomes as (
    select * from {{ ref('int_forward_outcomes') }}
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
    signals.base_day_number,
    forward_outcomes.forward_return_1d,
    forward_outcomes.forward_return_5d,
    forward_outcomes.forward_return_20d,
    {{ horizon }} as validation_horizon_days,
    forward_outcomes.forward_return_horizon,
    case
        when forward_outcomes.forward_return_horizon is null then 'pending'
        when signals.action = 'BUY' and forward_outcomes.buy_hits then 'hit'
        when signals.action = 'SELL' and forward_outcomes.sell_hits then 'hit'
        when signals.action = 'HOLD' and forward_outcomes.hold_hits then 'hit'
        else 'miss'
    end           as outcome
from signals
left join forward_outcomes
    on signals.ticker = forward_outcomes.ticker
   and signals.base_date = forward_outcomes.date
