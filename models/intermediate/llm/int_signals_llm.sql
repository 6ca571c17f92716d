-- LLM signals in the shape every int_signals source yields: only rows the model answered
-- validly (status 'ok'); failed, timed-out or unavailable rows never become a HOLD.
-- Each Ollama model is judged as two strategies with the same signals: 'llm:<model>', whose
-- portfolio the risk stage sizes (int_backtest_risk_caps), and 'llm:<model>:no_risk', which ignores
-- the risk stage, so the backtest shows whether the risk stage helped. Tracking therefore counts
-- every LLM signal once under each name.
-- The blind twin's signals (blind_mode: asked with nothing that identifies the asset or the period,
-- var llm_memorization_check or llm_blind) are the strategy 'llm:<model>:blind', sized by the blind
-- twin's own risk assessments; it has no :no_risk twin (the memorisation comparison is named vs
-- blind, both risk-sized).
with

ok_signals as (
    select
        model,
        coalesce(blind_mode, false) as blind_mode,  -- a row written without it is the named twin's
        ticker,
        decision_date               as signal_date,
        action,
        confidence
    from {{ python_model('llm_signal_generation') }}
    where status = 'ok'
)

select {{ llm_strategy('model', 'blind_mode') }} as strategy, model, ticker, signal_date, action, confidence
from ok_signals
union all
select {{ llm_unsized_strategy('model') }} as strategy, model, ticker, signal_date, action, confidence
from ok_signals
where not ok_signals.blind_mode
