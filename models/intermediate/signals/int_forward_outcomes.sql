-- What came next after every clean (ticker, trading day), and what each action made at that day's
-- close would have scored: the one home of the outcome rule. Forward returns of adj_close at 1, 5,
-- 20 and validation_horizon_days clean trading days; at the horizon, a BUY hits when the return
-- is > 0, a SELL when it is < 0, a HOLD when |return| <= hold_hit_band. Null until the day at the
-- horizon exists. int_signal_outcomes reads it for each signal's base day; the scorecard's
-- random-timing test reads it for every day, to score the same signals at other times.
{%- set horizon = var('validation_horizon_days') %}
with

forward_returns as (
    select
        ticker,
        date,
        trading_day_number,
        lead(adj_close, 1) over by_ticker / adj_close - 1             as forward_return_1d,
        lead(adj_close, 5) over by_ticker / adj_close - 1             as forward_return_5d,
        lead(adj_close, 20) over by_ticker / adj_close - 1            as forward_return_20d,
        lead(adj_close, {{ horizon }}) over by_ticker / adj_close - 1 as forward_return_horizon
    from {{ ref('int_prices_clean') }}
    window by_ticker as (partition by ticker order by date)
)

select
    ticker,
    date,
    trading_day_number,
    forward_return_1d,
    forward_return_5d,
    forward_return_20d,
    forward_return_horizon,
    forward_return_horizon > 0                                as buy_hits,
    forward_return_horizon < 0                                as sell_hits,
    abs(forward_return_horizon) <= {{ var('hold_hit_band') }} as hold_hits
from forward_returns
