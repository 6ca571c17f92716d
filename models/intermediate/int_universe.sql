-- The backtest universe: one row per ticker the strategies trade, i.e. every ticker of
-- var('tickers') with clean prices, never the benchmark. The one place that rule is written;
-- signal sources, the backtest, the LLM context and the dataset splits all start from here.
select
    ticker,
    min(date) as first_date,
    max(date) as last_date,
    count(*)  as trading_days
from {{ ref('int_prices_clean') }}
where not is_benchmark
group by ticker
