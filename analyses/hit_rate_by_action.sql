-- Hit rate of every strategy's BUY, SELL and HOLD signals at `var('validation_horizon_days')`
-- trading days, with the mean forward return, the mean return of following the signal, and how
-- many signals are still pending or ready for paper trading.
select
    strategy,
    action,
    count(*)                                                            as signals,
    count(*) filter (where outcome = 'hit')                             as hits,
    count(*) filter (where outcome = 'miss')                            as misses,
    count(*) filter (where outcome = 'pending')                         as pending,
    count(*) filter (where outcome = 'hit')
        / nullif(count(*) filter (where outcome in ('hit', 'miss')), 0) as hit_rate,
    avg(forward_return_horizon)                                         as mean_forward_return,
    avg(signal_return)                                                  as mean_signal_return,
    avg(confidence)                                                     as mean_confidence,
    count(*) filter (where ready_for_paper_trading)                     as ready_for_paper_trading
from {{ ref('mart_signal_tracking') }}
group by strategy, action
order by strategy, action
