-- Portfolio backtest per (strategy, trading day): equal weight across the tickers the strategy is
-- in the market with that day, each capped at max_position_size, the rest in cash earning the
-- daily risk-free rate. Weights are rebalanced to target every day; the transaction cost is
-- charged on |change of target weight| per ticker (drift back to target is assumed free).
-- Positions come from int_backtest_positions, so they are known at the close of the previous day.
-- buy_hold_return is the benchmark the portfolio is judged against: every ticker in the
-- strategy's window held at the same capped equal weight, no costs.
{%- set cap = var('max_position_size') %}
with

positions as (
    select strategy, ticker, date, previous_date, position, previous_position, daily_return
    from {{ ref('int_backtest_positions') }}
),

strategy_days as (
    select
        strategy,
        date,
        count(*) filter (where position <> 0) as tickers_in_market,
        count(*)                              as tickers_in_window
    from positions
    group by strategy, date
),

weighted as (
    -- a ticker's previous weight is its previous day's position over that day's count in the market
    select
        positions.strategy,
        positions.date,
        positions.daily_return,
        strategy_days.tickers_in_market,
        case when positions.position <> 0
             then sign(positions.position) * least(1.0 / strategy_days.tickers_in_market, {{ cap }})
             else 0.0 end                                       as weight,
        case when positions.previous_position <> 0
             then sign(positions.previous_position) * least(1.0 / previous_days.tickers_in_market, {{ cap }})
             else 0.0 end                                       as previous_weight,
        least(1.0 / strategy_days.tickers_in_window, {{ cap }}) as buy_hold_weight
    from positions
    inner join strategy_days
        on positions.strategy = strategy_days.strategy
       and positions.date = strategy_days.date
    left join strategy_days as previous_days
        on positions.strategy = previous_days.strategy
       and positions.previous_date = previous_days.date
),

daily_totals as (
    select
        strategy,
        date,
        count(*)                            as tickers_in_window,
        max(tickers_in_market)              as tickers_in_market,
        sum(abs(weight))                    as gross_exposure,
        sum(abs(weight - previous_weight))  as weight_change,
        sum(weight * daily_return)          as invested_return,
        sum(buy_hold_weight)                as buy_hold_invested,
        sum(buy_hold_weight * daily_return) as buy_hold_invested_return
    from weighted
    group by strategy, date
)

select
    strategy,
    date,
    tickers_in_window,
    tickers_in_market,
    gross_exposure,
    weight_change,
    {{ cost_rate() }} * weight_change                                                 as cost,
    invested_return + (1 - gross_exposure) * {{ daily_risk_free_rate() }}             as gross_return,
    invested_return + (1 - gross_exposure) * {{ daily_risk_free_rate() }}
        - {{ cost_rate() }} * weight_change                                           as strategy_return,
    buy_hold_invested_return + (1 - buy_hold_invested) * {{ daily_risk_free_rate() }} as buy_hold_return
from daily_totals
