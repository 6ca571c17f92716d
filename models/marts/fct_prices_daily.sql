-- Daily clean, split-adjusted prices and returns per ticker (benchmark included, flagged).
select
    ticker,
    date,
    open,
    high,
    low,
    close,
    adj_close,
    volume,
    daily_return,
    log_return,
    is_benchmark,
    source
from {{ ref('int_prices_clean') }}
