-- LLM signals in the shape every int_signals source yields: only rows the model answered
-- validly (status 'ok'); failed, timed-out or unavailable rows never become a HOLD.
-- Each Ollama model is judged as two strategies with the same signals: 'llm:<model>', whose
-- portfolio the risk stage sizes (int_backtest_risk_caps), and 'llm:<model>:no_risk', which ignores
-- the risk stage, so the backtest shows whether the risk stage helped. Tracking therefore counts
-- every LLM signal once under each name.
with

ok_signals as (
    select
        model,
        ticker,
        decision_date as signal_date,
        action,
        confidence
    from {{ python_model('llm_signal_generation') }}
    where status = 'ok'
)

select {{ llm_strategy('model') }} as strategy, model, ticker, signal_date, action, confidence
from ok_signals
union all
select {{ llm_unsized_strategy('model') }} as strategy, model, ticker, signal_date, action, confidence
from ok_signals
