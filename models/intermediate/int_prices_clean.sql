-- Prices that passed every quality rule, with returns recomputed between consecutive clean rows
-- (a dropped row's move is carried by the next clean day, so no return is lost). Every daily
-- return downstream is this one.
with

passing_prices as (
    select * from {{ ref('int_price_quality') }}
    where passes_quality
)

select
    ticker,
    date,
    open,
    high,
    low,
    close,
    adj_close,
    volume,
    raw_close,
    adjustment_factor,
    is_benchmark,
    source,
    adj_close / lag(adj_close) over by_ticker - 1 as daily_return,
    ln(adj_close / lag(adj_close) over by_ticker) as log_return,
    row_number() over by_ticker                   as trading_day_number,
    lag(date) over by_ticker                      as previous_date
from passing_prices
window by_ticker as (partition by ticker order by date)
