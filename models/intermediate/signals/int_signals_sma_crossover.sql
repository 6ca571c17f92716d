-- SMA crossover baseline (backtesting.py's SmaCross): BUY on the day the fast SMA closes above
-- the slow SMA, SELL on the day it closes below. The SMAs are int_features' sma_short (fast,
-- var sma_short_window) and sma_medium (slow, var sma_medium_window): trailing windows over clean
-- trading days ending on the signal day (its close is known when the signal is made). A day is a
-- crossing only when both SMAs exist on it and on the previous trading day, so the stream starts
-- flat and the first signal is the first real crossing.
{%- for retired in ['sma_fast_window', 'sma_slow_window'] if var(retired, none) is not none %}
    {{- exceptions.raise_compiler_error("var " ~ retired ~ " is gone: the crossover uses int_features' SMAs, so set sma_short_window (fast) and sma_medium_window (slow) instead") }}
{%- endfor %}
with

universe_features as (
    select
        features.ticker,
        features.date,
        features.sma_short  as sma_fast,
        features.sma_medium as sma_slow
    from {{ ref('int_features') }} as features
    inner join {{ ref('int_universe') }} as universe
        on features.ticker = universe.ticker
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
    from universe_features
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
    1e0                                                  as confidence
from crossings
where (spread_sign > 0 and previous_spread_sign <= 0)
   or (spread_sign < 0 and previous_spread_sign >= 0)
