-- The one signal interface: every signal source, rule baselines and LLMs alike, judged by the
-- same backtest and tracking code. Each source model yields
-- (strategy, model, ticker, signal_date, action, confidence); ids and the advisory flag are set here.
{# To add a source, append one line to signal_sources, e.g.
    union all select strategy, model, ticker, signal_date, action, confidence from {{ ref('int_signals_llm') }}
#}
with

signal_sources as (
    select strategy, model, ticker, signal_date, action, confidence from {{ ref('int_signals_buy_and_hold') }}
    union all select strategy, model, ticker, signal_date, action, confidence from {{ ref('int_signals_sma_crossover') }}
    union all select strategy, model, ticker, signal_date, action, confidence from {{ ref('int_signals_llm') }}
),

typed_signals as (
    select
        cast(strategy as varchar)       as strategy,
        cast(model as varchar)          as model,
        cast(ticker as varchar)         as ticker,
        cast(signal_date as date)       as signal_date,
        upper(cast(action as varchar))  as action,
        cast(confidence as double)      as confidence
    from signal_sources
)

select
    ticker || '_' || strftime(signal_date, '%Y-%m-%d') || '_' || action || '@' || strategy  as signal_id,
    strategy,
    model,
    ticker,
    signal_date,
    action,
    confidence,
    true                                                                                    as advisory_only
from typed_signals
