-- Buy-and-hold baseline: exactly one BUY per backtest ticker, dated on its first clean trading
-- day in the window. The backtest holds it from the next trading day to the end of the data.
select
    'buy_and_hold' as strategy,
    'buy_and_hold' as model,
    ticker,
    first_date     as signal_date,
    'BUY'          as action,
    1e0            as confidence
from {{ ref('int_universe') }}
