-- Model features per (ticker, date), each computed only from rows up to and including that
-- date (trailing windows; never centred or forward-looking). A window that is not yet full
-- gives null, not a shorter average.
with

clean_prices as (
    select
        *,
        adj_close - lag(adj_close) over (partition by ticker order by date) as price_change
    from {{ ref('int_prices_clean') }}
),

rolling as (
    select
        ticker,
        date,
        adj_close,
        volume,
        daily_return,
        log_return,
        case when count(daily_return) over volatility_window = {{ var('volatility_window') }}
             then stddev_samp(daily_return) over volatility_window end as volatility,
        case when count(*) over sma_short_window = {{ var('sma_short_window') }}
             then avg(adj_close) over sma_short_window end             as sma_short,
        case when count(*) over sma_medium_window = {{ var('sma_medium_window') }}
             then avg(adj_close) over sma_medium_window end            as sma_medium,
        case when count(*) over sma_long_window = {{ var('sma_long_window') }}
             then avg(adj_close) over sma_long_window end              as sma_long,
        case when count(price_change) over rsi_window = {{ var('rsi_window') }}
             then avg(greatest(price_change, 0)) over rsi_window end   as rsi_average_gain,
        case when count(price_change) over rsi_window = {{ var('rsi_window') }}
             then avg(greatest(-price_change, 0)) over rsi_window end  as rsi_average_loss,
        count(*) over zscore_window                                    as zscore_rows,
        avg(adj_close) over zscore_window                              as zscore_mean_price,
        stddev_samp(adj_close) over zscore_window                      as zscore_std_price,
        avg(daily_return) over zscore_window                           as zscore_mean_return,
        stddev_samp(daily_return) over zscore_window                   as zscore_std_return,
        avg(volume) over zscore_window                                 as zscore_mean_volume,
        stddev_samp(volume) over zscore_window                         as zscore_std_volume
    from clean_prices
    window
        volatility_window as (partition by ticker order by date rows between {{ var('volatility_window') - 1 }} preceding and current row),
        sma_short_window as (partition by ticker order by date rows between {{ var('sma_short_window') - 1 }} preceding and current row),
        sma_medium_window as (partition by ticker order by date rows between {{ var('sma_medium_window') - 1 }} preceding and current row),
        sma_long_window as (partition by ticker order by date rows between {{ var('sma_long_window') - 1 }} preceding and current row),
        rsi_window as (partition by ticker order by date rows between {{ var('rsi_window') - 1 }} preceding and current row),
        zscore_window as (partition by ticker order by date rows between {{ var('zscore_window') - 1 }} preceding and current row)
)

select
    ticker,
    date,
    adj_close,
    volume,
    daily_return,
    log_return,
    volatility,
    volatility * sqrt({{ var("trading_days_per_year") }})                 as volatility_annualized,
    sma_short,
    sma_medium,
    sma_long,
    case
        when rsi_average_gain is null then null
        when rsi_average_loss = 0 and rsi_average_gain = 0 then 50e0
        when rsi_average_loss = 0 then 100e0
        else 100e0 - 100e0 / (1e0 + rsi_average_gain / rsi_average_loss)
    end                                                                   as rsi,
    case when zscore_rows >= {{ var('zscore_min_periods') }} and zscore_std_price > 0
         then (adj_close - zscore_mean_price) / zscore_std_price end      as adj_close_zscore,
    case when zscore_rows >= {{ var('zscore_min_periods') }} and zscore_std_return > 0
         then (daily_return - zscore_mean_return) / zscore_std_return end as daily_return_zscore,
    case when zscore_rows >= {{ var('zscore_min_periods') }} and zscore_std_volume > 0
         then (volume - zscore_mean_volume) / zscore_std_volume end       as volume_zscore
from rolling
