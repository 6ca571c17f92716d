-- The current signals of every external strategy (raw.signals, written by
-- python -m python_ingest.signals), typed. Every ticker is kept, also those outside var('tickers')
-- or without prices: the backtest leaves them out (int_universe), dim_tickers and the loader's
-- warning say so.
select
    cast(load_id as string)         as load_id,
    cast(name as string)            as name,
    cast(source_row as integer)     as source_row,
    cast(source_location as string) as source_location,
    cast(ticker as string)          as ticker,
    cast(signal_date as date)       as signal_date,
    cast(date_as_written as string) as date_as_written,
    cast(action as string)          as action,
    cast(confidence as double)      as confidence,
    cast(model as string)           as model,
    cast(rationale as string)       as rationale
from {{ source('raw', 'signals') }}
