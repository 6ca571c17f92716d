-- External signals (files loaded with python -m python_ingest.signals --name <name>) in the shape
-- every int_signals source yields, strategy 'external:<name>', dated on their own date (the
-- backtest acts from the next trading day after it). The model is the file's model column, or the
-- name when the file has none. Only tickers of var('tickers') are kept: the others stay in
-- stg_external_signals, counted in dim_tickers, until a build includes them. The file, its hash and
-- the row's place in it are kept for lineage.
with

signals as (
    select * from {{ ref('stg_external_signals') }}
    where ticker in {{ tickers_in_scope(include_benchmark=false) }}
),

loads as (
    select load_id, file_name, file_sha256, loaded_at from {{ ref('stg_external_signal_loads') }}
)

select
    {{ external_strategy('signals.name') }} as strategy,
    coalesce(signals.model, signals.name)   as model,
    signals.ticker,
    signals.signal_date,
    signals.action,
    signals.confidence,
    signals.rationale,
    signals.name                            as external_name,
    signals.load_id,
    loads.file_name,
    loads.file_sha256,
    loads.loaded_at,
    signals.source_row,
    signals.source_location
from signals
left join loads
    on signals.load_id = loads.load_id
