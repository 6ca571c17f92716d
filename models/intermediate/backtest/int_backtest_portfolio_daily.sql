-- Portfolio backtest per (strategy, trading day): equal weight across the tickers the strategy is
-- in the market with that day, each capped at position_cap, the rest in cash earning the daily
-- risk-free rate. position_cap is the max_position_size var, or for an 'llm:<model>' strategy the
-- smaller cap its risk stage set in a valid assessment made before the day (int_backtest_risk_caps:
-- an assessment at the close of t acts from t+1, like a signal). Weights are rebalanced to target every day; the transaction cost is
-- charged on |change of target weight| per ticker (drift back to target is assumed free).
-- Positions come from int_backtest_ticker_daily, so they are known at the close of the previous day;
-- each ticker's return and previous trading day from its int_prices_clean row.
-- buy_hold_return is the benchmark the portfolio is judged against: every ticker in the
-- strategy's window held at the same capped equal weight, no costs. Equity and drawdown compound
-- the portfolio's returns over its few thousand days.
{%- set cap = var('max_position_size') %}
{%- set capital = var('initial_capital') %}
with

backtests as (
    select distinct backtest_id, strategy, ticker
    from {{ ref('int_backtest_period_returns') }}
),

positions as (
    select
        backtests.strategy,
        ticker_days.date,
        prices.previous_date,
        ticker_days.position,
        ticker_days.previous_position,
        coalesce(prices.daily_return, 0e0) as daily_return
    from {{ ref('int_backtest_ticker_daily') }} as ticker_days
    inner join backtests
        on ticker_days.backtest_id = backtests.backtest_id
    inner join {{ ref('int_prices_clean') }} as prices
        on backtests.ticker = prices.ticker
       and ticker_days.date = prices.date
),

risk_caps as (
    select strategy, decision_date, next_decision_date, position_cap
    from {{ ref('int_backtest_risk_caps') }}
),

counted_days as (
    select
        strategy,
        date,
        count(*) filter (where position <> 0) as tickers_in_market,
        count(*)                              as tickers_in_window
    from positions
    group by strategy, date
),

strategy_days as (
    -- the cap in force over the day: the latest valid assessment dated before it, else the var
    select
        counted_days.*,
        coalesce(risk_caps.position_cap, {{ cap }}) as position_cap
    from counted_days
    left join risk_caps
        on counted_days.strategy = risk_caps.strategy
       and counted_days.date > risk_caps.decision_date
       and (risk_caps.next_decision_date is null or counted_days.date <= risk_caps.next_decision_date)
),

weighted as (
    -- a ticker's previous weight is its previous day's position over that day's count in the
    -- market, under that day's cap. The yardstick (buy_hold_weight) is never risk-sized.
    select
        positions.strategy,
        positions.date,
        positions.daily_return,
        strategy_days.tickers_in_market,
        strategy_days.position_cap,
        case when positions.position <> 0
             then sign(positions.position) * least(1e0 / strategy_days.tickers_in_market, strategy_days.position_cap)
             else 0e0 end                                       as weight,
        case when positions.previous_position <> 0
             then sign(positions.previous_position)
                  * least(1e0 / previous_days.tickers_in_market, previous_days.position_cap)
             else 0e0 end                                       as previous_weight,
        least(1e0 / strategy_days.tickers_in_window, {{ cap }}) as buy_hold_weight
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
        max(position_cap)                   as position_cap,
        sum(abs(weight))                    as gross_exposure,
        sum(abs(weight - previous_weight))  as weight_change,
        sum(weight * daily_return)          as invested_return,
        sum(buy_hold_weight)                as buy_hold_invested,
        sum(buy_hold_weight * daily_return) as buy_hold_invested_return
    from weighted
    group by strategy, date
),

daily_returns as (
    select
        strategy,
        date,
        tickers_in_window,
        tickers_in_market,
        position_cap,
        gross_exposure,
        weight_change,
        {{ cost_rate() }} * weight_change                                                 as cost,
        invested_return + (1 - gross_exposure) * {{ daily_risk_free_rate() }}             as gross_return,
        invested_return + (1 - gross_exposure) * {{ daily_risk_free_rate() }}
            - {{ cost_rate() }} * weight_change                                           as strategy_return,
        buy_hold_invested_return + (1 - buy_hold_invested) * {{ daily_risk_free_rate() }} as buy_hold_return
    from daily_totals
),

compounded as (
    select
        *,
        {{ capital }} * {{ running_product('1 + strategy_return', 'running') }} as equity,
        {{ capital }} * {{ running_product('1 + buy_hold_return', 'running') }} as buy_hold_equity
    from daily_returns
    window running as (partition by strategy order by date rows between unbounded preceding and current row)
)

select
    *,
    -- the running maximum includes initial_capital, as empyrical's max drawdown does
    equity / greatest(max(equity) over (
        partition by strategy order by date rows between unbounded preceding and current row
    ), {{ capital }}) - 1 as drawdown
from compounded
