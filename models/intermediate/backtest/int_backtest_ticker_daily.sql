-- One row per (strategy, backtest ticker, trading day) in the strategy's window for that ticker:
-- int_backtest_period_returns expanded to its days, with the day's return, equity and drawdown.
-- Equity needs no running product over days: inside a period it is the period's starting equity
-- times its first day's growth times the price ratio since that day (long) or the risk-free growth
-- (flat); only short days (allow_short) compound their returns with a running product. The one
-- running window over days is the maximum equity, for the drawdown.
-- Stored narrow, only what is computed here: the (strategy, ticker) pair is backtest_id (names in
-- int_backtest_period_returns), the price columns stay in int_prices_clean (readers join it on
-- ticker and date), and what follows from stored columns (cost, exposure change, buy-and-hold
-- equity) is computed by fct_backtest_daily, the public view over this table and the portfolio.
{%- set capital = var('initial_capital') %}
with

period_returns as (
    select * from {{ ref('int_backtest_period_returns') }}
),

long_or_flat_days as (
    -- each period joined to its days by range: the join builds on the ~30 000 periods and streams
    -- the prices past them (expanding the periods first builds a table of ~2.5 M rows instead).
    -- int_prices_clean is joined directly in both branches (a shared CTE would be materialised: slower)
    select
        periods.backtest_id,
        prices.date,
        periods.position,
        case when prices.trading_day_number = periods.first_day_number
             then periods.previous_position else periods.position end         as previous_position,
        case when prices.trading_day_number = periods.first_day_number
             then periods.first_day_strategy_return
             else periods.position * coalesce(prices.daily_return, 0e0)
                  + (1 - periods.position) * {{ daily_risk_free_rate() }} end as strategy_return,
        periods.equity_before * periods.first_day_growth * case
            when periods.position > 0 then prices.adj_close / periods.first_adj_close
            else power(1 + {{ daily_risk_free_rate() }}, prices.trading_day_number - periods.first_day_number)
        end                                                                   as equity
    from period_returns as periods
    inner join {{ ref('int_prices_clean') }} as prices
        on periods.ticker = prices.ticker
       and prices.trading_day_number between periods.first_day_number and periods.last_day_number
    where periods.position >= 0
),

short_day_returns as (
    select
        periods.backtest_id,
        periods.first_day_number,
        periods.equity_before,
        prices.date,
        periods.position,
        case when prices.trading_day_number = periods.first_day_number
             then periods.previous_position else periods.position end     as previous_position,
        -- an account cannot lose more than everything (a short whose stock more than doubles in a day)
        case when prices.trading_day_number = periods.first_day_number
             then periods.first_day_strategy_return
             else greatest(-coalesce(prices.daily_return, 0e0), -1e0) end as strategy_return
    from period_returns as periods
    inner join {{ ref('int_prices_clean') }} as prices
        on periods.ticker = prices.ticker
       and prices.trading_day_number between periods.first_day_number and periods.last_day_number
    where periods.position < 0
),

short_days as (
    select
        backtest_id,
        date,
        position,
        previous_position,
        strategy_return,
        equity_before * {{ running_product(
            '1 + strategy_return',
            '(partition by backtest_id, first_day_number order by date rows between unbounded preceding and current row)'
        ) }} as equity
    from short_day_returns
),

all_days as (
    select * from long_or_flat_days
    union all
    select * from short_days
)

select
    backtest_id,
    date,
    position,
    previous_position,
    strategy_return,
    equity,
    -- the running maximum includes initial_capital, as empyrical's max drawdown does
    equity / greatest(max(equity) over (
        partition by backtest_id order by date rows between unbounded preceding and current row
    ), {{ capital }}) - 1 as drawdown
from all_days
