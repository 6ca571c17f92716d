-- One row per trade (round trip) of a (strategy, ticker) backtest, as backtesting.py lists them.
-- A trade opens on the first day a non-zero position is held and closes on the first day the
-- position differs (flat or flipped); it spans one or more holding periods (a repeated BUY starts a
-- new period of the same trade). Its return compounds the periods it is held, the entry cost
-- included, times (1 - exit cost) booked on the closing day. A trade still open at the end of the
-- data is valued at the last close with no exit cost (is_open = true), like backtesting.py closing
-- open trades on the last bar for its statistics. Built from int_backtest_period_returns: no day is
-- read.
with

period_returns as (
    select * from {{ ref('int_backtest_period_returns') }}
),

held_periods as (
    select
        strategy,
        ticker,
        trade_number,
        min(first_date)                                                                          as entry_date,
        max(last_date)                                                                           as last_held_date,
        sum(last_day_number - first_day_number + 1)                                              as holding_days,
        any_value(position)                                                                      as direction,
        -- the closing cost of the trade before (on a flip's first day) is not this trade's
        {{ product_of('(1 + first_day_gross_return - opening_cost) * growth_after_first_day') }} as held_growth
    from period_returns
    where trade_number is not null
    group by strategy, ticker, trade_number
),

exits as (
    select
        strategy,
        ticker,
        closed_trade_number as trade_number,
        first_date          as exit_date,
        closing_cost
    from period_returns
    where closed_trade_number is not null
)

select
    held_periods.strategy,
    held_periods.ticker,
    held_periods.trade_number,
    case when held_periods.direction > 0 then 'long' else 'short' end      as direction,
    held_periods.entry_date,
    exits.exit_date,
    held_periods.last_held_date,
    held_periods.holding_days,
    exits.exit_date is null                                                as is_open,
    held_periods.held_growth * (1 - coalesce(exits.closing_cost, 0e0)) - 1 as trade_return
from held_periods
left join exits
    on held_periods.strategy = exits.strategy
   and held_periods.ticker = exits.ticker
   and held_periods.trade_number = exits.trade_number
