-- One row per staged price with a flag for every quality rule; passes_quality = no flag set.
-- Rules that look at history use only earlier rows of the same ticker. Duplicate raw rows are
-- not a rule here: stg_prices already kept one copy per (ticker, date) (source_row_count says
-- how many there were).
with

staged_prices as (
    select * from {{ ref('stg_prices') }}
),

with_previous as (
    select
        *,
        lag(date) over by_ticker                      as previous_date,
        adj_close / lag(adj_close) over by_ticker - 1 as unfiltered_daily_return
    from staged_prices
    window by_ticker as (partition by ticker order by date)
),

with_history as (
    select
        *,
        stddev_samp(unfiltered_daily_return) over trailing_returns as trailing_return_stddev,
        count(unfiltered_daily_return) over trailing_returns       as trailing_return_count,
        max(raw_close) over stale_window                           as stale_window_max_close,
        min(raw_close) over stale_window                           as stale_window_min_close,
        count(raw_close) over stale_window                         as stale_window_count
    from with_previous
    window
        trailing_returns as (
            partition by ticker order by date
            rows between {{ var('quality_return_window') }} preceding and 1 preceding
        ),
        stale_window as (
            partition by ticker order by date
            rows between {{ var('quality_stale_days') - 1 }} preceding and current row
        )
),

flagged as (
    select
        ticker,
        date,
        open,
        high,
        low,
        close,
        adj_close,
        volume,
        raw_open,
        raw_high,
        raw_low,
        raw_close,
        adjustment_factor,
        is_benchmark,
        source,
        source_row_count,
        unfiltered_daily_return,
        coalesce(
            raw_open is null or raw_high is null or raw_low is null or raw_close is null or adj_close is null,
            true
        )                                                            as is_missing_price,
        coalesce(least(raw_open, raw_high, raw_low, raw_close, adj_close) <= 0, false)
                                                                                 as is_non_positive_price,
        coalesce(raw_high < raw_low, false)                          as is_high_below_low,
        coalesce(raw_open < raw_low or raw_open > raw_high, false)   as is_open_outside_range,
        coalesce(raw_close < raw_low or raw_close > raw_high, false) as is_close_outside_range,
        coalesce(volume = 0, false)                                  as is_zero_volume,
        coalesce(
            trailing_return_count >= {{ var('quality_return_min_history') }}
            and abs(unfiltered_daily_return) > {{ var('quality_return_sigma') }} * trailing_return_stddev,
            false
        )                                                            as is_return_outlier,
        coalesce(
            {{ business_day_number('date') }} - {{ business_day_number('previous_date') }} - 1
                > {{ var('quality_max_gap_trading_days') }},
            false
        )                                                            as is_gap,
        coalesce(
            stale_window_count = {{ var('quality_stale_days') }}
            and stale_window_max_close = stale_window_min_close,
            false
        )                                                            as is_stale
    from with_history
)

select
    *,
    not is_missing_price
    and not is_non_positive_price
    and not is_high_below_low
    and not is_open_outside_range
    and not is_close_outside_range
    and not is_zero_volume
    and not is_return_outlier
    and not is_gap
    and not is_stale as passes_quality
from flagged
