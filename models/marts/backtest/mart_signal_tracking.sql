-- Every signal with what happened next (int_signal_outcomes: forward returns and the outcome at
-- validation_horizon_days) and whether it is ready for paper trading: a hit, confident, its
-- (strategy, ticker) backtest valid, its strategy's scorecard verdict 'edge', and, when the
-- memorisation check ran, its edge not explained by memory (memorization_check_passed).
with

outcomes as (
    select * from {{ ref('int_signal_outcomes') }}
),

summary as (
    select strategy, ticker, is_valid from {{ ref('mart_backtest_summary') }}
),

scorecard as (
    select strategy, verdict, memorization_check_passed from {{ python_model('mart_strategy_scorecard') }}
)

select
    outcomes.signal_id,
    outcomes.strategy,
    outcomes.model,
    outcomes.ticker,
    outcomes.signal_date,
    outcomes.action,
    outcomes.confidence,
    outcomes.forward_return_1d,
    outcomes.forward_return_5d,
    outcomes.forward_return_20d,
    outcomes.outcome,
    outcomes.outcome = 'hit'            as is_hit,
    outcomes.outcome = 'hit'
        and outcomes.confidence >= {{ var('confidence_threshold') }}
        and coalesce(summary.is_valid, false)
        and coalesce(scorecard.verdict = 'edge', false)
        -- null: no blind twin ran, nothing to fail
        and coalesce(scorecard.memorization_check_passed, true)
                                         as ready_for_paper_trading,
    outcomes.base_date,
    outcomes.validation_horizon_days,
    outcomes.forward_return_horizon,
    case outcomes.action
        when 'BUY' then outcomes.forward_return_horizon
        when 'SELL' then -outcomes.forward_return_horizon
    end                                 as signal_return,
    coalesce(summary.is_valid, false)   as strategy_is_valid,
    scorecard.verdict                   as strategy_verdict,
    scorecard.memorization_check_passed as strategy_memorization_check_passed,
    outcomes.advisory_only
from outcomes
left join summary
    on outcomes.strategy = summary.strategy
   and outcomes.ticker = summary.ticker
left join scorecard
    on outcomes.strategy = scorecard.strategy
