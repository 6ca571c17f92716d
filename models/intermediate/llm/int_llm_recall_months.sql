-- The recall probe's questions and their answers: one row per (ticker, calendar month) in which the
-- ticker has an LLM decision (int_llm_context, so the probe covers exactly the decision window),
-- with the ticker's actual total return over that month: the last adjusted close of the month over
-- the last adjusted close of the month before, minus 1. Only complete months whose previous month
-- has data too: a month counts when the ticker has a clean price in a later month (so the partial
-- month at the end of the data is left out) and in the month right before it.
with

decision_months as (
    select distinct
        ticker,
        cast(date_trunc('month', decision_date) as date) as month
    from {{ ref('int_llm_context') }}
),

month_last_days as (
    select
        ticker,
        cast(date_trunc('month', date) as date)                 as month,
        extract(year from date) * 12 + extract(month from date) as month_number,
        max(date)                                               as last_date
    from {{ ref('int_prices_clean') }}
    group by ticker, cast(date_trunc('month', date) as date), extract(year from date) * 12 + extract(month from date)
),

month_closes as (
    select
        month_last_days.ticker,
        month_last_days.month,
        month_last_days.month_number,
        prices.adj_close,
        lag(month_last_days.month_number) over by_ticker  as previous_month_number,
        lag(prices.adj_close) over by_ticker              as previous_adj_close,
        lead(month_last_days.month_number) over by_ticker as next_month_number
    from month_last_days
    inner join {{ ref('int_prices_clean') }} as prices
        on month_last_days.ticker = prices.ticker
       and month_last_days.last_date = prices.date
    window by_ticker as (partition by month_last_days.ticker order by month_last_days.month)
)

select
    month_closes.ticker,
    month_closes.month,
    month_closes.adj_close / month_closes.previous_adj_close - 1 as actual_return
from month_closes
inner join decision_months
    on month_closes.ticker = decision_months.ticker
   and month_closes.month = decision_months.month
where month_closes.previous_month_number = month_closes.month_number - 1
  and month_closes.next_month_number is not null
