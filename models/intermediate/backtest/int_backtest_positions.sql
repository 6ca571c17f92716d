-- One row per (strategy, backtest ticker, trading day) in the strategy's window for that ticker:
-- the position held over the day and the day's return, with no look-ahead.
-- A signal dated t (made with data up to the close of t) sets the position from the first
-- trading day after t: position(d) comes from the latest actionable signal with signal_date < d.
-- Actionable = BUY or SELL with confidence >= confidence_threshold; HOLD and low-confidence
-- signals are ignored, so they keep the previous position. BUY = long (+1); SELL = flat (0), or
-- short (-1) when allow_short. The window starts the trading day after the strategy's first
-- signal (any action) for the ticker and runs to the last clean price.
{%- set cost_rate = var('transaction_cost_bps') / 10000.0 %}
{%- set daily_risk_free = var('risk_free_rate') / var('trading_days_per_year') %}
{%- set sell_position = -1 if var('allow_short') else 0 %}
with

signals as (
    select * from {{ ref('int_signals') }}
),

universe_prices as (
    select ticker, date, adj_close, daily_return
    from {{ ref('int_prices_clean') }}
    where not is_benchmark
),

strategy_windows as (
    select strategy, ticker, min(signal_date) as first_signal_date
    from signals
    group by strategy, ticker
),

window_days as (
    select
        strategy_windows.strategy,
        universe_prices.ticker,
        universe_prices.date,
        universe_prices.adj_close,
        coalesce(universe_prices.daily_return, 0.0) as daily_return
    from strategy_windows
    inner join universe_prices
        on universe_prices.ticker = strategy_windows.ticker
       and universe_prices.date > strategy_windows.first_signal_date
),

actionable_signals as (
    -- one decision per (strategy, ticker, day): highest confidence wins, SELL wins a tie
    select strategy, ticker, signal_date, action, signal_id
    from signals
    where action in ('BUY', 'SELL')
      and confidence >= {{ var('confidence_threshold') }}
    qualify row_number() over (
        partition by strategy, ticker, signal_date
        order by confidence desc, case action when 'SELL' then 0 else 1 end
    ) = 1
),

positioned_days as (
    select
        window_days.*,
        actionable_signals.signal_id as position_signal_id,
        case actionable_signals.action
            when 'BUY' then 1
            when 'SELL' then {{ sell_position }}
            else 0
        end as position
    from window_days
    asof left join actionable_signals
        on actionable_signals.strategy = window_days.strategy
       and actionable_signals.ticker = window_days.ticker
       and window_days.date > actionable_signals.signal_date
),

position_changes as (
    select
        *,
        coalesce(lag(position) over by_strategy_ticker, 0) as previous_position
    from positioned_days
    window by_strategy_ticker as (partition by strategy, ticker order by date)
),

costed_days as (
    select
        *,
        position <> 0 and position <> previous_position                           as is_entry,
        previous_position <> 0 and position <> previous_position                  as is_exit,
        abs(position - previous_position)                                          as position_change,
        case when position <> previous_position
             then {{ cost_rate }} * abs(position) else 0.0 end                     as opening_cost,
        case when position <> previous_position
             then {{ cost_rate }} * abs(previous_position) else 0.0 end            as closing_cost,
        position * daily_return + (1 - abs(position)) * {{ daily_risk_free }}      as gross_return
    from position_changes
),

numbered_trades as (
    select
        *,
        sum(case when is_entry then 1 else 0 end) over (
            partition by strategy, ticker order by date rows between unbounded preceding and current row
        ) as entries_so_far
    from costed_days
)

select
    strategy,
    ticker,
    date,
    adj_close,
    daily_return,
    position_signal_id,
    previous_position,
    position,
    position_change,
    opening_cost,
    closing_cost,
    opening_cost + closing_cost                                   as cost,
    gross_return,
    -- an account cannot lose more than everything (only reachable by a short whose stock more than doubles in a day)
    greatest(gross_return - opening_cost - closing_cost, -1.0)    as strategy_return,
    case when position <> 0 then cast(entries_so_far as integer) end
                                                                  as trade_number,
    case when is_exit then cast(entries_so_far - (case when is_entry then 1 else 0 end) as integer) end
                                                                  as closed_trade_number
from numbered_trades
