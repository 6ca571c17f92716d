-- One row per staged price with a flag for every quality rule; passes_quality = no flag set.
-- Rules that look at history use only earlier rows of the same ticker. Duplicate raw rows are
-- not a rule here: stg_prices already kept one copy per (ticker, date) (source_row_count says
-- how many there were). A price outside [quality_min_price, quality_max_price] (0, inf, NaN,
-- 1e308) is flagged and never enters a return, so one bad tick cannot overflow the trailing
-- statistics of its ticker, nor stop the build of any other.
with

staged_prices as (
    select * from {{ ref('stg_prices') }}
),

with_usable_price as (
    select
        *,
        coalesce(
            adj_close between {{ var('quality_min_price') }} and {{ var('quality_max_price') }},
            false
        ) as has_usable_adj_close
    from staged_prices
),

with_previous as (
    select
        *,
        lag(date) over by_ticker                 as previous_date,
        lag(adj_close) over by_ticker            as previous_adj_close,
        lag(has_usable_adj_close) over by_ticker as previous_has_usable_adj_close
    from with_usable_price
    window by_ticker as (partition by ticker order by date)
),

with_return as (
    select
        *,
        case
            when has_usable_adj_close and previous_has_usable_adj_close
                then adj_close / previous_adj_close - 1
        end as unfiltered_daily_return
    from with_previous
),

with_history as (
    select
        *,
        stddev_samp(unfiltered_daily_return) over trailing_returns as trailing_return_stddev,
        count(unfiltered_daily_return) over trailing_returns       as trailing_return_count,
        max(raw_close) over stale_window                           as stale_window_max_close,
        min(raw_close) over stale_window                           as stale_window_min_close,
        count(raw_close) over stale_window                         as stale_window_count
    from with_return
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
        -- NaN sorts above every number (DuckDB and Spark), so the upper bound catches it with inf
        coalesce(
            least(raw_open, raw_high, raw_low, raw_close, adj_close) < {{ var('quality_min_price') }}
            or greatest(raw_open, raw_high, raw_low, raw_close, adj_close) > {{ var('quality_max_price') }},
            false
        )                                                            as is_implausible_price,
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
    and not is_implausible_price
    and not is_high_below_low
    and not is_open_outside_range
    and not is_close_outside_range
    and not is_zero_volume
    and not is_return_outlier
    and not is_gap
    and not is_stale as passes_quality
from flagged
