-- One row per trade (round trip) of a (strategy, ticker) backtest, as backtesting.py lists them.
-- A trade opens on the first day a non-zero position is held and closes on the first day the
-- position differs (flat or flipped). Its return compounds the days it is held, including the
-- entry cost, times (1 - exit cost) booked on the closing day. A trade still open at the end of
-- the data is valued at the last close with no exit cost (is_open = true), like backtesting.py
-- closing open trades on the last bar for its statistics.
with

trade_days as (
    -- the days a trade is held or closed: read once, used twice
    select strategy, ticker, date, position, trade_number, closed_trade_number, gross_return, opening_cost, closing_cost
    from {{ ref('int_backtest_positions') }}
    where trade_number is not null or closed_trade_number is not null
),

held_days as (
    select
        strategy,
        ticker,
        trade_number,
        min(date)                                as entry_date,
        max(date)                                as last_held_date,
        count(*)                                 as holding_days,
        any_value(position)                      as direction,
        product(1 + gross_return - opening_cost) as held_growth
    from trade_days
    where trade_number is not null
    group by strategy, ticker, trade_number
),

exits as (
    select
        strategy,
        ticker,
        closed_trade_number as trade_number,
        date                as exit_date,
        closing_cost
    from trade_days
    where closed_trade_number is not null
)

select
    held_days.strategy,
    held_days.ticker,
    held_days.trade_number,
    case when held_days.direction > 0 then 'long' else 'short' end      as direction,
    held_days.entry_date,
    exits.exit_date,
    held_days.last_held_date,
    held_days.holding_days,
    exits.exit_date is null                                             as is_open,
    held_days.held_growth * (1 - coalesce(exits.closing_cost, 0.0)) - 1 as trade_return
from held_days
left join exits
    on held_days.strategy = exits.strategy
   and held_days.ticker = exits.ticker
   and held_days.trade_number = exits.trade_number
