-- SMA crossover baseline (backtesting.py's SmaCross): BUY on the day the fast SMA closes above
-- the slow SMA, SELL on the day it closes below. Both SMAs are trailing windows over clean
-- trading days ending on the signal day (the close of the signal day is known when the signal is
-- made). A day is a crossing only when both SMAs exist on it and on the previous trading day, so
-- the stream starts flat and the first signal is the first real crossing.
with

universe_prices as (
    select ticker, date, adj_close
    from {{ ref('int_prices_clean') }}
    where not is_benchmark
),

moving_averages as (
    select
        ticker,
        date,
        case when count(*) over fast_window = {{ var('sma_fast_window') }}
             then avg(adj_close) over fast_window end       as sma_fast,
        case when count(*) over slow_window = {{ var('sma_slow_window') }}
             then avg(adj_close) over slow_window end       as sma_slow
    from universe_prices
    window
        fast_window as (partition by ticker order by date rows between {{ var('sma_fast_window') - 1 }} preceding and current row),
        slow_window as (partition by ticker order by date rows between {{ var('sma_slow_window') - 1 }} preceding and current row)
),

spread_signs as (
    -- +1 fast above slow, -1 below, 0 equal; differences within 1e-12 relative are float noise
    select
        ticker,
        date,
        case
            when sma_fast is null or sma_slow is null then null
            when abs(sma_fast - sma_slow) <= 1e-12 * abs(sma_slow) then 0
            else sign(sma_fast - sma_slow)
        end as spread_sign
    from moving_averages
),

crossings as (
    select
        ticker,
        date,
        spread_sign,
        lag(spread_sign) over (partition by ticker order by date) as previous_spread_sign
    from spread_signs
)

select
    'sma_crossover'                                      as strategy,
    'sma_crossover'                                      as model,
    ticker,
    date                                                 as signal_date,
    case when spread_sign > 0 then 'BUY' else 'SELL' end as action,
    1.0                                                  as confidence
from crossings
where (spread_sign > 0 and previous_spread_sign <= 0)
   or (spread_sign < 0 and previous_spread_sign >= 0)
