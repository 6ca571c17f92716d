-- The LLM risk stage's position caps, point in time: one row per (LLM strategy, assessment) with
-- the days it governs. An assessment made at the close of decision_date (data up to then) acts
-- from the next trading day, exactly like a signal, until the next valid assessment of the same
-- model takes over. Only valid answers (status 'ok') count: an invalid, timed-out or unavailable
-- assessment changes nothing, so the previous valid cap (or, before the first, the
-- max_position_size var alone) stays in force. The cap is min(max_position_size var, the model's
-- recommendation). Only 'llm:<model>' is sized; 'llm:<model>:no_risk' and the baselines never are.
-- The blind twin (blind_mode) is sized by its own assessments: strategy 'llm:<model>:blind'.
with

valid_assessments as (
    select
        model,
        coalesce(blind_mode, false) as blind_mode,  -- a row written without it is the named twin's
        decision_date,
        max_position_size
    from {{ python_model('llm_risk_assessment') }}
    where status = 'ok'
      and max_position_size is not null
)

select
    {{ llm_strategy('model', 'blind_mode') }}                as strategy,
    model,
    blind_mode,
    decision_date,
    -- the cap governs the days after decision_date up to and including this one (null: no end)
    lead(decision_date) over (
        partition by model, blind_mode order by decision_date
    )                                                        as next_decision_date,
    max_position_size                                        as recommended_max_position_size,
    least(max_position_size, {{ var('max_position_size') }}) as position_cap
from valid_assessments
