-- The one signal interface: every signal source, rule baselines and LLMs alike, judged by the
-- same backtest and tracking code. Each source model yields
-- (strategy, model, ticker, signal_date, action, confidence); ids, the advisory flag and the
-- signal's base trading day (the last clean day on or before signal_date, whose close the signal
-- could see) are set here, once for the backtest and the tracking.
{# To add a source, append two lines to signal_sources, e.g.
    union all
    select strategy, model, ticker, signal_date, action, confidence from {{ ref('int_signals_<source>') }}
#}
with

signal_sources as (
    select strategy, model, ticker, signal_date, action, confidence from {{ ref('int_signals_buy_and_hold') }}
    union all
    select strategy, model, ticker, signal_date, action, confidence from {{ ref('int_signals_sma_crossover') }}
    union all
    select strategy, model, ticker, signal_date, action, confidence from {{ ref('int_signals_llm') }}
    union all
    select strategy, model, ticker, signal_date, action, confidence from {{ ref('int_signals_external') }}
),

typed_signals as (
    select
        cast(strategy as string)      as strategy,
        cast(model as string)         as model,
        cast(ticker as string)        as ticker,
        cast(signal_date as date)     as signal_date,
        upper(cast(action as string)) as action,
        cast(confidence as double)    as confidence
    from signal_sources
),

trading_days as (
    select ticker, date, trading_day_number
    from {{ ref('int_prices_clean') }}
)

select
    typed_signals.ticker || '_' || cast(typed_signals.signal_date as string) || '_'
    || typed_signals.action || '@' || typed_signals.strategy as signal_id,
    typed_signals.strategy,
    typed_signals.model,
    typed_signals.ticker,
    typed_signals.signal_date,
    typed_signals.action,
    typed_signals.confidence,
    true                                                     as advisory_only,
    trading_days.date                                        as base_date,
    trading_days.trading_day_number                          as base_day_number
from typed_signals
{{ last_row_on_or_before_join('typed_signals', 'trading_days', 'ticker', 'signal_date', 'date') }}
