-- One row per ticker per ingest run (raw.ingest_runs, written by python -m python_ingest), typed:
-- which source served the ticker, how it went, how many rows it added and when.
select
    cast(run_id as string)         as run_id,
    cast(ticker as string)         as ticker,
    cast(source as string)         as source,
    cast(status as string)         as status,
    cast(rows as integer)          as rows_added,
    cast(error as string)          as error,
    cast(started_at as timestamp)  as started_at,
    cast(finished_at as timestamp) as finished_at,
    cast(requested_start as date)  as requested_start,
    cast(requested_end as date)    as requested_end
from {{ source('raw', 'ingest_runs') }}
