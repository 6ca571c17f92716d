-- Point-in-time prompt context per (ticker, decision date): everything the LLM stages may see
-- about a ticker on a decision date, computed only from rows up to and including that date's
-- close (trailing windows and lags, never leads or whole-series aggregates of prices).
-- Decision dates: the last trading day of each week or month (var llm_decision_frequency)
-- inside the window (vars llm_start / llm_end, both inclusive; null means the last
-- llm_lookback_months calendar months of data), the most recent var('llm_max_decisions') decisions overall.
-- Price levels are shown on the decision date's own price scale (adjusted close times that
-- day's raw close / adjusted close), so a later split or dividend adjustment cannot leak in.
{%- set frequency = var('llm_decision_frequency') -%}
{%- if frequency not in ['weekly', 'monthly'] -%}
  {{ exceptions.raise_compiler_error("var llm_decision_frequency must be 'weekly' or 'monthly', got " ~ frequency) }}
{%- endif %}
with

clean_prices as (
    select clean.*
    from {{ ref('int_prices_clean') }} as clean
    inner join {{ ref('int_universe') }} as universe
        on clean.ticker = universe.ticker
),

features as (
    select * from {{ ref('int_features') }}
),

trailing_stats as (
    select
        clean_prices.ticker,
        clean_prices.date,
        clean_prices.raw_close,
        clean_prices.adj_close,
        clean_prices.raw_close / clean_prices.adj_close                               as price_scale,
        count(*) over by_ticker_all                                                   as history_days,
        array_agg(clean_prices.adj_close) over recent_window                          as recent_adj_closes,
        clean_prices.daily_return                                                     as return_1d,
        clean_prices.adj_close / lag(clean_prices.adj_close, 5) over by_ticker - 1    as return_5d,
        clean_prices.adj_close / lag(clean_prices.adj_close, 20) over by_ticker - 1   as return_20d,
        clean_prices.adj_close / lag(clean_prices.adj_close, 60) over by_ticker - 1   as return_60d,
        max(clean_prices.high) over range_window                                      as adj_high_range,
        min(clean_prices.low) over range_window                                       as adj_low_range,
        clean_prices.adj_close / max(clean_prices.adj_close) over drawdown_window - 1 as drawdown,
        features.volatility_annualized,
        features.sma_short,
        features.sma_medium,
        features.sma_long,
        features.rsi
    from clean_prices
    inner join features
        on clean_prices.ticker = features.ticker
       and clean_prices.date = features.date
    window
        by_ticker as (partition by clean_prices.ticker order by clean_prices.date),
        by_ticker_all as (partition by clean_prices.ticker order by clean_prices.date
                          rows between unbounded preceding and current row),
        recent_window as (partition by clean_prices.ticker order by clean_prices.date
                          rows between {{ var('llm_context_days') - 1 }} preceding and current row),
        range_window as (partition by clean_prices.ticker order by clean_prices.date
                         rows between {{ var('llm_range_days') - 1 }} preceding and current row),
        drawdown_window as (partition by clean_prices.ticker order by clean_prices.date
                            rows between {{ var('llm_drawdown_days') - 1 }} preceding and current row)
),

decision_window as (
    -- the end defaults to the last date with data; the start to the first day of the calendar
    -- month llm_lookback_months - 1 months before the end's month (12 months: the end's month and the 11 before)
    select
        {% if var('llm_end') %} cast({{ sql_string_literal(var("llm_end")) }} as date) {% else %} last_date {% endif %} as window_end,
        {% if var('llm_start') %} cast({{ sql_string_literal(var("llm_start")) }} as date)
        {% else %} cast(date_trunc('month', {% if var('llm_end') %} cast({{ sql_string_literal(var("llm_end")) }} as date) {% else %} last_date {% endif %})
                        - interval {{ var('llm_lookback_months') - 1 }} month as date) {% endif %} as window_start
    from (select max(date) as last_date from clean_prices) as data_range
),

period_ends as (
    -- the last trading day of each period (week or month) per ticker, inside the window
    select
        clean_prices.ticker,
        max(clean_prices.date) as decision_date
    from clean_prices
    cross join decision_window
    where clean_prices.date >= decision_window.window_start
      and clean_prices.date <= decision_window.window_end
    group by clean_prices.ticker, date_trunc('{{ "week" if frequency == "weekly" else "month" }}', clean_prices.date)
),

capped_decisions as (
    select *
    from period_ends
    qualify row_number() over (order by decision_date desc, ticker asc) <= {{ var('llm_max_decisions') }}
),

labelled_decisions as (
    select
        capped_decisions.*,
        'ASSET_' || dense_rank() over (order by capped_decisions.ticker) as asset_label,
        {{ business_day_number('capped_decisions.decision_date') }}
            - {{ business_day_number('decision_window.window_start') }}  as decision_day
    from capped_decisions
    cross join decision_window
)

select
    labelled_decisions.ticker,
    labelled_decisions.decision_date,
    labelled_decisions.asset_label,
    labelled_decisions.decision_day,
    trailing_stats.history_days,
    round(trailing_stats.raw_close, 4)                         as close,
    -- c is the element of the list (list_map: DuckDB's lambda, Spark's transform), not a column
    {{ list_map('trailing_stats.recent_adj_closes', 'c', 'round(c * trailing_stats.price_scale, 2)') }}
                                                               as recent_closes,
    trailing_stats.return_1d,
    trailing_stats.return_5d,
    trailing_stats.return_20d,
    trailing_stats.return_60d,
    trailing_stats.volatility_annualized,
    trailing_stats.sma_short * trailing_stats.price_scale      as sma_short,
    trailing_stats.sma_medium * trailing_stats.price_scale     as sma_medium,
    trailing_stats.sma_long * trailing_stats.price_scale       as sma_long,
    trailing_stats.rsi,
    trailing_stats.drawdown,
    trailing_stats.adj_high_range * trailing_stats.price_scale as range_high,
    trailing_stats.adj_low_range * trailing_stats.price_scale  as range_low
from labelled_decisions
inner join trailing_stats
    on labelled_decisions.ticker = trailing_stats.ticker
   and labelled_decisions.decision_date = trailing_stats.date
