-- Per LLM model and twin (named, or blind with the memorisation check): how its signal stage
-- (llm_signal_generation, whose 'ok' rows become the strategy llm:<model> or llm:<model>:blind)
-- behaved. One row per strategy the model's answers form, read by mart_strategy_scorecard for that
-- strategy and every twin trading its signals, even when the model never answered validly.
with

signal_rows as (
    -- a row written without blind_mode is the named twin's
    select model, coalesce(blind_mode, false) as blind_mode, status, attempts, latency_ms, completion_tokens
    from {{ python_model('llm_signal_generation') }}
),

answered as (
    -- rows the model replied to: their latency measures a complete answer
    select model, blind_mode, latency_ms, completion_tokens
    from signal_rows
    where status in ('ok', 'invalid_output')
),

throughput as (
    select
        model,
        blind_mode,
        sum(completion_tokens) / nullif(sum(latency_ms) / 1000e0, 0) as completion_tokens_per_second
    from answered
    group by model, blind_mode
),

status_counts as (
    select
        model,
        blind_mode,
        count(*)                                           as decisions,
        count(*) filter (where status = 'ok')              as ok_count,
        count(*) filter (where status = 'invalid_output')  as invalid_output_count,
        count(*) filter (where status = 'timeout')         as timeout_count,
        count(*) filter (where status = 'llm_unavailable') as llm_unavailable_count,
        percentile_cont(0.5) within group (order by latency_ms) filter (where attempts > 0)
                                                                               as latency_p50_ms,
        percentile_cont(0.95) within group (order by latency_ms) filter (where attempts > 0)
                                                                               as latency_p95_ms
    from signal_rows
    group by model, blind_mode
)

select
    status_counts.model,
    status_counts.blind_mode,
    {{ llm_strategy('status_counts.model', 'status_counts.blind_mode') }} as strategy,
    status_counts.decisions,
    status_counts.ok_count,
    status_counts.invalid_output_count,
    status_counts.timeout_count,
    status_counts.llm_unavailable_count,
    status_counts.latency_p50_ms,
    status_counts.latency_p95_ms,
    throughput.completion_tokens_per_second
from status_counts
left join throughput
    on status_counts.model = throughput.model
   and status_counts.blind_mode = throughput.blind_mode
