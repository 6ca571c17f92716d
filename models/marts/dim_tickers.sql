-- One row per ticker the run is about (var('tickers') and the benchmark) that the ingest has tried
-- or that has prices, plus every ticker a loaded signals file names (in scope or not): where its
-- prices came from, what quality kept, how its last ingest went, and its external signals.
{%- set benchmark = sql_string_literal(var("benchmark_ticker")) %}
with

clean_prices as (
    select
        ticker,
        min(date)            as first_clean_date,
        max(date)            as last_clean_date,
        count(*)             as clean_rows,
        max_by(source, date) as source
    from {{ ref('int_prices_clean') }}
    group by ticker
),

staged_prices as (
    select
        ticker,
        count(*)                                   as staged_rows,
        count(*) filter (where not passes_quality) as quality_dropped_rows
    from {{ ref('int_price_quality') }}
    group by ticker
),

loaded_signals as (
    -- every loaded signal, in scope or not (int_signals_external keeps var('tickers') only)
    select
        ticker,
        {{ external_strategy('name') }} as strategy
    from {{ ref('stg_external_signals') }}
),

external_signals as (
    select
        ticker,
        count(*)                                     as external_signals,
        {{ distinct_string_list('strategy', ', ') }} as external_strategies
    from loaded_signals
    group by ticker
),

last_ingest as (
    -- the most recent attempt for the ticker, whatever its status
    select *
    from {{ ref('stg_ingest_runs') }}
    where ticker in {{ tickers_in_scope() }}
       or ticker in (select external_signals.ticker from external_signals)
    qualify row_number() over (partition by ticker order by finished_at desc, run_id desc) = 1
),

known_tickers as (
    select ticker from last_ingest
    union
    select ticker from staged_prices
    union
    select ticker from external_signals
)

select
    known_tickers.ticker,
    known_tickers.ticker = {{ benchmark }}           as is_benchmark,
    known_tickers.ticker in {{ tickers_in_scope() }} as is_in_scope,
    clean_prices.source,
    clean_prices.first_clean_date,
    clean_prices.last_clean_date,
    coalesce(clean_prices.clean_rows, 0)             as clean_rows,
    coalesce(staged_prices.staged_rows, 0)           as staged_rows,
    coalesce(staged_prices.quality_dropped_rows, 0)  as quality_dropped_rows,
    last_ingest.run_id                               as last_ingest_run_id,
    last_ingest.status                               as last_ingest_status,
    last_ingest.source                               as last_ingest_source,
    last_ingest.rows_added                           as last_ingest_rows_added,
    last_ingest.error                                as last_ingest_error,
    last_ingest.finished_at                          as last_ingested_at,
    coalesce(external_signals.external_signals, 0)   as external_signals,
    external_signals.external_strategies
from known_tickers
left join clean_prices
    on known_tickers.ticker = clean_prices.ticker
left join staged_prices
    on known_tickers.ticker = staged_prices.ticker
left join last_ingest
    on known_tickers.ticker = last_ingest.ticker
left join external_signals
    on known_tickers.ticker = external_signals.ticker
