-- LLM signals in the shape every int_signals source yields: only rows the model answered
-- validly (status 'ok'); failed, timed-out or unavailable rows never become a HOLD.
-- Strategy 'llm:<model>', so each Ollama model is judged as its own strategy.
select
    'llm:' || model as strategy,
    model,
    ticker,
    decision_date   as signal_date,
    action,
    confidence
from {{ llm_stage('llm_signal_generation') }}
where status = 'ok'
