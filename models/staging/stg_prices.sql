-- Typed, de-duplicated daily prices for the tickers and window in vars, with OHLC
-- adjusted for splits and dividends by the source's adj_close / close factor.
with

source_prices as (
    select * from {{ source('raw', 'prices') }}
),

in_scope as (
    select
        *,
        count(*) over (partition by ticker, date) as source_row_count
    from source_prices
    where ticker in {{ tickers_in_scope() }}
      and date between cast({{ sql_string_literal(var("start")) }} as date)
      and cast({{ sql_string_literal(var("end")) }} as date)
),

deduplicated as (
    -- The one place duplicates are handled. raw.prices should hold one row per (ticker, date)
    -- (the ingest refuses duplicates), but another tool may write a second copy: keep the most
    -- recently ingested one (ties: the first source by name) and say how many there were.
    select *
    from in_scope
    qualify row_number() over (partition by ticker, date order by ingested_at desc, source asc) = 1
),

adjusted as (
    select
        cast(ticker as string)                                     as ticker,
        cast(date as date)                                         as date,
        case when close > 0 then adj_close / close end             as adjustment_factor,
        cast(open as double)                                       as raw_open,
        cast(high as double)                                       as raw_high,
        cast(low as double)                                        as raw_low,
        cast(close as double)                                      as raw_close,
        cast(adj_close as double)                                  as adj_close,
        cast(volume as bigint)                                     as volume,
        ticker = {{ sql_string_literal(var("benchmark_ticker")) }} as is_benchmark,
        source,
        ingested_at,
        source_row_count
    from deduplicated
)

select
    ticker,
    date,
    raw_open * adjustment_factor as open,
    raw_high * adjustment_factor as high,
    raw_low * adjustment_factor  as low,
    adj_close                    as close,
    adj_close,
    volume,
    adjustment_factor,
    raw_open,
    raw_high,
    raw_low,
    raw_close,
    is_benchmark,
    source,
    ingested_at,
    source_row_count
from adjusted
