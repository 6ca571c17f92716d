-- The account of every holding period (one row per int_backtest_periods row), computed without
-- touching its days one by one. Inside a period the position is constant, so:
--   long:  equity grows with the price, adj_close(last) / adj_close(first) after the first day;
--   flat:  cash grows at the daily risk-free rate, (1 + rf)^(days after the first);
--   short: the product of (1 - daily return) over its days after the first (no price ratio gives
--          it, so only short periods are expanded to days here; none exist unless allow_short).
-- The first day of a period carries its costs: cost rate x |position| to open it and cost rate x
-- |previous position| to close the one before. equity_before compounds every earlier period of the
-- (strategy, ticker) backtest from initial_capital: a running product over ~30 000 periods instead
-- of ~2.5 M days. int_backtest_ticker_daily turns this into daily equity; int_backtest_trades
-- compounds it into trades.
{%- set capital = var('initial_capital') %}
with

periods as (
    select * from {{ ref('int_backtest_periods') }}
),

short_days as (
    select
        backtest_id,
        ticker,
        first_day_number,
        {{ integer_range('first_day_number + 1', 'last_day_number') }} as trading_day_number
    from periods
    where position < 0
),

short_growth as (
    -- an account cannot lose more than everything: a day the shorted stock more than doubles ends at 0
    select
        short_days.backtest_id,
        short_days.first_day_number,
        {{ product_of('greatest(1 - coalesce(prices.daily_return, 0e0), 0e0)') }} as growth_after_first_day
    from short_days
    inner join {{ ref('int_prices_clean') }} as prices
        on short_days.ticker = prices.ticker
       and short_days.trading_day_number = prices.trading_day_number
    group by short_days.backtest_id, short_days.first_day_number
),

priced_periods as (
    -- int_prices_clean is joined directly each time (a shared CTE would be materialised: slower)
    select
        periods.*,
        first_day.date                                                            as first_date,
        first_day.adj_close                                                       as first_adj_close,
        coalesce(first_day.daily_return, 0e0)                                     as first_day_return,
        last_day.date                                                             as last_date,
        last_day.adj_close                                                        as last_adj_close,
        periods.position * coalesce(first_day.daily_return, 0e0)
            + (1 - abs(periods.position)) * {{ daily_risk_free_rate() }}          as first_day_gross_return,
        case when periods.position <> periods.previous_position
             then {{ cost_rate() }} * abs(periods.position) else 0e0 end          as opening_cost,
        case when periods.position <> periods.previous_position
             then {{ cost_rate() }} * abs(periods.previous_position) else 0e0 end as closing_cost
    from periods
    inner join {{ ref('int_prices_clean') }} as first_day
        on periods.ticker = first_day.ticker
       and periods.first_day_number = first_day.trading_day_number
    inner join {{ ref('int_prices_clean') }} as last_day
        on periods.ticker = last_day.ticker
       and periods.last_day_number = last_day.trading_day_number
),

grown as (
    select
        priced_periods.*,
        -- an account cannot lose more than everything
        greatest(priced_periods.first_day_gross_return - priced_periods.opening_cost - priced_periods.closing_cost, -1e0)
                                                                                      as first_day_strategy_return,
        case
            when priced_periods.position > 0
                then priced_periods.last_adj_close / priced_periods.first_adj_close
            when priced_periods.position = 0
                then power(1 + {{ daily_risk_free_rate() }}, priced_periods.last_day_number - priced_periods.first_day_number)
            -- a one-day short period has no day after its first
            else coalesce(short_growth.growth_after_first_day, 1e0)
        end as growth_after_first_day
    from priced_periods
    left join short_growth
        on priced_periods.backtest_id = short_growth.backtest_id
       and priced_periods.first_day_number = short_growth.first_day_number
)

select
    strategy,
    ticker,
    backtest_id,
    first_day_number,
    last_day_number,
    first_date,
    last_date,
    position_signal_id,
    position,
    previous_position,
    trade_number,
    closed_trade_number,
    first_adj_close,
    last_adj_close,
    first_day_gross_return,
    opening_cost,
    closing_cost,
    first_day_strategy_return,
    1 + first_day_strategy_return                            as first_day_growth,
    growth_after_first_day,
    (1 + first_day_strategy_return) * growth_after_first_day as period_growth,
    {{ capital }} * coalesce({{ running_product(
        '(1 + first_day_strategy_return) * growth_after_first_day',
        '(partition by backtest_id order by first_day_number rows between unbounded preceding and 1 preceding)'
    ) }}, 1e0)                                               as equity_before,
    -- buy-and-hold over the backtest's window: initial_capital x adj_close / this price (the close
    -- before the window's first day, i.e. the first day's price over 1 + its return)
    first_value(first_adj_close / (1 + first_day_return)) over (
        partition by backtest_id order by first_day_number
    )                                                        as buy_hold_base_price
from grown
