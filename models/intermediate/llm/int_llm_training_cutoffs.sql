-- Per LLM model asked by this build: its training-data cutoff, from var llm_training_cutoffs
-- ({model: "YYYY-MM-DD"}, the user's own figure) when given there, else from seeds/llm_models.csv
-- (null when its makers state none). A decision dated before the cutoff may have its outcome in
-- what the model read (docs/memorization.md).
{%- set given = var('llm_training_cutoffs') or {} %}
{%- if given is not mapping %}
  {{ exceptions.raise_compiler_error("var llm_training_cutoffs must map model names to dates, e.g. {\"qwen:14b-chat-q4_K_M\": \"2023-08-31\"}; got " ~ given) }}
{%- endif %}
{%- for model, cutoff in given.items() %}
  {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', cutoff | string) %}
    {{ exceptions.raise_compiler_error("var llm_training_cutoffs: the cutoff of " ~ model ~ " must be a date YYYY-MM-DD, got " ~ cutoff) }}
  {%- endif %}
{%- endfor %}
with

asked_models as (
    select distinct model
    from {{ python_model('llm_signal_generation') }}
),

seeded_cutoffs as (
    select model, training_cutoff, training_cutoff_source
    from {{ ref('llm_models') }}
),

given_cutoffs as (
    {%- for model, cutoff in given.items() %}
    {%- set name = model if ':' in model.split('/')[-1] else model ~ ':latest' %}
    select
        {{ sql_string_literal(name) }} as model,
        cast({{ sql_string_literal(cutoff) }} as date) as training_cutoff
    {{ "union all" if not loop.last }}
    {%- else %}
    select
        cast(null as string) as model,
        cast(null as date)   as training_cutoff
    where 1 = 0
    {%- endfor %}
)

select
    asked_models.model,
    coalesce(given_cutoffs.training_cutoff, seeded_cutoffs.training_cutoff) as training_cutoff,
    case
        when given_cutoffs.model is not null then 'var llm_training_cutoffs'
        when seeded_cutoffs.model is not null then 'seeds/llm_models.csv: ' || seeded_cutoffs.training_cutoff_source
    end                                                                     as training_cutoff_source
from asked_models
left join given_cutoffs
    on asked_models.model = given_cutoffs.model
left join seeded_cutoffs
    on asked_models.model = seeded_cutoffs.model
