-- Is a signal's confidence worth anything? Decided signals (outcome hit or miss) grouped into
-- `var('analysis_confidence_buckets')` equal-width confidence buckets per strategy: a calibrated
-- strategy's hit rate is close to its mean confidence in every bucket (calibration_gap near 0)
-- and rises with the bucket. Baselines always say 1.0, so they land in the top bucket. A bucket
-- with fewer than `var('analysis_min_bucket_signals')` decided signals is too few to read.
with

decided as (
    select *
    from {{ ref('mart_signal_tracking') }}
    where outcome in ('hit', 'miss')
),

bucketed as (
    select
        *,
        -- confidence 1.0 belongs to the top bucket, not to an extra one
        cast(least(floor(confidence * {{ var('analysis_confidence_buckets') }}), {{ var('analysis_confidence_buckets') }} - 1) as integer)
            as confidence_bucket
    from decided
)

select
    strategy,
    confidence_bucket,
    confidence_bucket / {{ var('analysis_confidence_buckets') }}           as bucket_lower_bound,
    (confidence_bucket + 1) / {{ var('analysis_confidence_buckets') }}     as bucket_upper_bound,
    count(*)                                                               as decided_signals,
    count(*) >= {{ var('analysis_min_bucket_signals') }}                   as has_enough_signals,
    avg(confidence)                                                        as mean_confidence,
    avg(case when outcome = 'hit' then 1e0 else 0e0 end)                   as hit_rate,
    avg(case when outcome = 'hit' then 1e0 else 0e0 end) - avg(confidence) as calibration_gap,
    avg(signal_return)                                                     as mean_signal_return
from bucketed
group by strategy, confidence_bucket
order by strategy, confidence_bucket
