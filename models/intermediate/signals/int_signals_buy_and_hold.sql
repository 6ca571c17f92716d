-- Buy-and-hold baseline: exactly one BUY per backtest ticker, dated on its first clean trading
-- day in the window. The backtest holds it from the next trading day to the end of the data.
with

universe_prices as (
    select ticker, date
    from {{ ref('int_prices_clean') }}
    where not is_benchmark
),

first_trading_days as (
    select ticker, min(date) as signal_date
    from universe_prices
    group by ticker
)

select
    'buy_and_hold'   as strategy,
    'buy_and_hold'   as model,
    ticker,
    signal_date,
    'BUY'            as action,
    1.0              as confidence
from first_trading_days
