{{ config(post_hook=["{{ export_parquet('training', ['ticker', 'split']) }}"]) }}
-- Chronological train / validation / test split (fractions from vars) on ONE calendar shared by
-- every ticker: the boundaries are dates, so no ticker's training rows overlap another ticker's
-- validation or test period (a model trained on the pooled tickers sees nothing from later).
-- With use_cv, the train+validation part becomes expanding-window walk-forward folds:
-- fold f trains on the first f blocks and validates on block f+1; test rows keep fold = null.
with

features as (
    select int_features.*
    from {{ ref('int_features') }} as int_features
    inner join {{ ref('int_universe') }} as universe
        on int_features.ticker = universe.ticker
),

shared_calendar as (
    -- every trading date of the universe, numbered in time order
    select date, row_number() over (order by date) as calendar_index, count(*) over () as calendar_days
    from (select distinct date from features) as feature_dates
),

positioned as (
    select
        features.*,
        row_number() over (partition by features.ticker order by features.date) as day_index,
        shared_calendar.calendar_index,
        shared_calendar.calendar_days
    from features
    inner join shared_calendar
        on features.date = shared_calendar.date
),

with_boundaries as (
    select
        *,
        floor(calendar_days * {{ var('train_fraction') }})                                      as train_end_index,
        floor(calendar_days * ({{ var('train_fraction') }} + {{ var('validation_fraction') }})) as validation_end_index
    from positioned
),

{% if var('use_cv') %}
folds as (
    select fold
    from (values {% for fold in range(1, var('cv_folds') + 1) %}({{ fold }}){{ ', ' if not loop.last }}{% endfor %}) as fold_numbers (fold)
),

development_folds as (
    -- each fold's block size: the development rows split into cv_folds + 1 equal blocks
    select
        p.*,
        f.fold,
        floor(p.validation_end_index / ({{ var('cv_folds') }} + 1)) as block_size
    from with_boundaries as p
    cross join folds as f
    where p.calendar_index <= p.validation_end_index
),

assigned as (
    select
        *,
        case
            when calendar_index <= fold * block_size then 'train'
            when fold = {{ var('cv_folds') }} or calendar_index <= (fold + 1) * block_size then 'validation'
        end as split
    from development_folds
    where calendar_index <= fold * block_size
       or fold = {{ var('cv_folds') }}
       or calendar_index <= (fold + 1) * block_size
    union all
    select *, null as fold, null as block_size, 'test' as split
    from with_boundaries
    where calendar_index > validation_end_index
)
{% else %}
assigned as (
    select
        *,
        cast(null as integer) as fold,
        case
            when calendar_index <= train_end_index then 'train'
            when calendar_index <= validation_end_index then 'validation'
            else 'test'
        end                   as split
    from with_boundaries
)
{% endif %}

select
    ticker,
    date,
    split,
    cast(fold as integer) as fold,
    day_index,
    calendar_index,
    calendar_days,
    adj_close,
    volume,
    daily_return,
    log_return,
    volatility,
    volatility_annualized,
    sma_short,
    sma_medium,
    sma_long,
    rsi,
    adj_close_zscore,
    daily_return_zscore,
    volume_zscore
from assigned
