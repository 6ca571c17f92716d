-- LLM strategies against the two baselines, ticker by ticker (and the portfolio): one row per
-- (ticker, strategy) with its metrics and the gap to buy-and-hold and to the SMA crossover on the
-- same ticker. Rank 1 = best annual return on that ticker.
-- Compile: dbt compile -s llm_vs_baselines_by_ticker; run the SQL in target/compiled/ read-only.
with

summary as (
    select * from {{ ref('mart_backtest_summary') }}
),

baselines as (
    select
        ticker,
        max(case when strategy = 'buy_and_hold' then annual_return end)  as buy_and_hold_annual_return,
        max(case when strategy = 'sma_crossover' then annual_return end) as sma_crossover_annual_return,
        max(case when strategy = 'sma_crossover' then sharpe_ratio end)  as sma_crossover_sharpe_ratio
    from summary
    group by ticker
)

select
    summary.ticker,
    summary.strategy,
    case
        when summary.strategy like 'llm:%' then 'llm'
        when summary.strategy like 'external:%' then 'external'
        else 'baseline'
    end                                                                           as strategy_family,
    summary.start_date,
    summary.end_date,
    summary.trading_days,
    summary.annual_return,
    summary.sharpe_ratio,
    summary.max_drawdown,
    summary.win_rate,
    summary.trades,
    summary.annual_return - baselines.buy_and_hold_annual_return                  as excess_vs_buy_and_hold,
    summary.annual_return - baselines.sma_crossover_annual_return                 as excess_vs_sma_crossover,
    summary.sharpe_ratio - baselines.sma_crossover_sharpe_ratio                   as sharpe_gap_vs_sma_crossover,
    summary.is_valid,
    rank() over (partition by summary.ticker order by summary.annual_return desc) as annual_return_rank
from summary
inner join baselines
    on summary.ticker = baselines.ticker
order by summary.ticker = {{ portfolio_ticker() }}, summary.ticker, annual_return_rank
