-- How the LLM stages went: per stage and model, rows by status, latency percentiles and token
-- use, so a slow, failing or truncating model shows up before anyone reads its signals.
with

stages as (
    select 'market_analysis' as stage, model, status, latency_ms, prompt_tokens, completion_tokens, attempts
    from {{ python_model('llm_market_analysis') }}
    union all
    select 'signal_generation' as stage, model, status, latency_ms, prompt_tokens, completion_tokens, attempts
    from {{ python_model('llm_signal_generation') }}
    union all
    select 'risk_assessment' as stage, model, status, latency_ms, prompt_tokens, completion_tokens, attempts
    from {{ python_model('llm_risk_assessment') }}
)

select
    stage,
    model,
    count(*)                                                 as calls,
    count(*) filter (where status = 'ok')                    as ok,
    count(*) filter (where status = 'invalid_output')        as invalid_output,
    count(*) filter (where status = 'timeout')               as timeout,
    count(*) filter (where status = 'llm_unavailable')       as llm_unavailable,
    avg(attempts)                                            as mean_attempts,
    percentile_cont(0.5) within group (order by latency_ms)  as latency_ms_p50,
    percentile_cont(0.95) within group (order by latency_ms) as latency_ms_p95,
    sum(prompt_tokens)                                       as prompt_tokens,
    sum(completion_tokens)                                   as completion_tokens
from stages
group by stage, model
order by stage, model
