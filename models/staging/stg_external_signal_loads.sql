-- One row per load of a signals file (raw.signal_loads, written by python -m python_ingest.signals),
-- typed: which file (path and SHA-256), how many rows, when, and whether it replaced the signals.
select
    cast(load_id as string)      as load_id,
    cast(name as string)         as name,
    cast(file_name as string)    as file_name,
    cast(file_sha256 as string)  as file_sha256,
    cast(file_format as string)  as file_format,
    cast(row_count as integer)   as row_count,
    cast(status as string)       as status,
    cast(loaded_at as timestamp) as loaded_at
from {{ source('raw', 'signal_loads') }}
