-- Per strategy: what its signals said and how often they were right, for mart_strategy_scorecard.
-- Decided signals are those whose outcome is hit or miss (pending excluded); the up / down / flat
-- move counts say how often each kind of action would have hit on those same tickers and dates,
-- which gives the no-skill base rates the scorecard tests the hit rate against.
with

outcomes as (
    select * from {{ ref('int_signal_outcomes') }}
),

decided as (
    select
        *,
        case when outcome = 'hit' then 1e0 else 0e0 end as hit_indicator
    from outcomes
    where outcome in ('hit', 'miss')
),

decided_stats as (
    select
        strategy,
        count(*)                                                                          as signals,
        count(*) filter (where outcome = 'hit')                                           as hits,
        count(*) filter (where forward_return_horizon > 0)                                as up_moves,
        count(*) filter (where forward_return_horizon < 0)                                as down_moves,
        count(*) filter (where abs(forward_return_horizon) <= {{ var('hold_hit_band') }}) as flat_moves,
        count(*) filter (where action = 'BUY')                                            as decided_buys,
        count(*) filter (where action = 'SELL')                                           as decided_sells,
        count(*) filter (where action = 'HOLD')                                           as decided_holds,
        avg(power(confidence - hit_indicator, 2))                                         as brier_score
    from decided
    group by strategy
),

all_signal_stats as (
    select
        strategy,
        case when min(model) = max(model) and min(model) <> strategy then min(model) end as model,
        count(*)                                                                         as all_signals,
        count(*) filter (where outcome = 'pending')                                      as pending_signals,
        avg(case when action = 'BUY' then 1e0 else 0e0 end)                              as buy_share,
        avg(case when action = 'SELL' then 1e0 else 0e0 end)                             as sell_share,
        avg(case when action = 'HOLD' then 1e0 else 0e0 end)                             as hold_share,
        avg(confidence)                                                                  as mean_confidence
    from outcomes
    group by strategy
)

select
    all_signal_stats.strategy,
    all_signal_stats.model,
    all_signal_stats.all_signals,
    all_signal_stats.pending_signals,
    coalesce(decided_stats.signals, 0)                   as signals,
    coalesce(decided_stats.hits, 0)                      as hits,
    decided_stats.hits * 1e0 / decided_stats.signals     as hit_rate,
    decided_stats.up_moves * 1e0 / decided_stats.signals as base_hit_rate,
    (decided_stats.decided_buys * decided_stats.up_moves
     + decided_stats.decided_sells * decided_stats.down_moves
     + decided_stats.decided_holds * decided_stats.flat_moves) * 1e0
    / (decided_stats.signals * decided_stats.signals)    as matched_base_hit_rate,
    coalesce(decided_stats.up_moves, 0)                  as up_moves,
    coalesce(decided_stats.down_moves, 0)                as down_moves,
    coalesce(decided_stats.flat_moves, 0)                as flat_moves,
    coalesce(decided_stats.decided_buys, 0)              as decided_buys,
    coalesce(decided_stats.decided_sells, 0)             as decided_sells,
    coalesce(decided_stats.decided_holds, 0)             as decided_holds,
    decided_stats.brier_score,
    all_signal_stats.buy_share,
    all_signal_stats.sell_share,
    all_signal_stats.hold_share,
    all_signal_stats.mean_confidence
from all_signal_stats
left join decided_stats
    on all_signal_stats.strategy = decided_stats.strategy
