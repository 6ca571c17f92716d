-- Holding periods: one row per (strategy, backtest ticker, run of trading days over which one
-- decision's position is held). The position changes only when an actionable signal takes
-- effect, so the backtest's signal logic works on these few rows; int_backtest_period_returns
-- values them and int_backtest_ticker_daily expands them to days.
-- No look-ahead: a signal dated t (made with data up to the close of t) takes effect on the
-- ticker's first trading day after t. Actionable = BUY or SELL with confidence >=
-- confidence_threshold; HOLD and low-confidence signals are ignored, so they keep the position.
-- BUY = long (+1); SELL = flat (0), or short (-1) when allow_short. Several actionable signals
-- taking effect on the same day: the latest signal_date wins, then the highest confidence, then
-- SELL. The window starts the trading day after the strategy's first signal (any action) for the
-- ticker, flat until its first actionable signal, and runs to the ticker's last clean price.
{%- set sell_position = -1 if var('allow_short') else 0 %}
with

universe as (
    select ticker, trading_days
    from {{ ref('int_universe') }}
),

signals_in_effect as (
    -- each signal with the trading day it takes effect: the day after its base day (day 1 for a
    -- signal dated before the ticker's first clean price)
    select
        signals.strategy,
        signals.ticker,
        signals.signal_id,
        signals.signal_date,
        signals.action,
        signals.confidence,
        coalesce(signals.base_day_number, 0) + 1 as effective_day_number
    from {{ ref('int_signals') }} as signals
    inner join universe
        on signals.ticker = universe.ticker
),

decisions as (
    select
        strategy,
        ticker,
        effective_day_number,
        signal_id,
        case action when 'BUY' then 1 else {{ sell_position }} end as position
    from signals_in_effect
    where action in ('BUY', 'SELL')
      and confidence >= {{ var('confidence_threshold') }}
    qualify row_number() over (
        partition by strategy, ticker, effective_day_number
        order by signal_date desc, confidence desc, case action when 'SELL' then 0 else 1 end
    ) = 1
),

window_starts as (
    -- flat from the day after the first signal of any action until a decision says otherwise
    select
        strategy,
        ticker,
        min(effective_day_number) as effective_day_number,
        cast(null as string)      as signal_id,
        0                         as position,
        false                     as is_decision
    from signals_in_effect
    group by strategy, ticker
),

candidate_starts as (
    select strategy, ticker, effective_day_number, signal_id, position, true as is_decision from decisions
    union all
    select strategy, ticker, effective_day_number, signal_id, position, is_decision from window_starts
),

period_starts as (
    -- a decision taking effect on the window's first day replaces the flat start
    select * from candidate_starts
    qualify row_number() over (
        partition by strategy, ticker, effective_day_number order by is_decision desc
    ) = 1
),

sequenced as (
    select
        period_starts.strategy,
        period_starts.ticker,
        period_starts.signal_id,
        period_starts.position,
        period_starts.effective_day_number                      as first_day_number,
        coalesce(lead(period_starts.effective_day_number) over by_series - 1, universe.trading_days)
                                                                              as last_day_number,
        coalesce(lag(period_starts.position) over by_series, 0) as previous_position
    from period_starts
    inner join universe
        on period_starts.ticker = universe.ticker
    window by_series as (partition by period_starts.strategy, period_starts.ticker order by period_starts.effective_day_number)
),

numbered as (
    -- a trade opens when a non-zero position differs from the one before (a flip opens a new one)
    select
        *,
        position <> 0 and position <> previous_position          as opens_trade,
        previous_position <> 0 and position <> previous_position as closes_trade,
        count(*) filter (where position <> 0 and position <> previous_position) over (
            partition by strategy, ticker order by first_day_number
            rows between unbounded preceding and current row
        )                                                        as trades_opened
    from sequenced
    -- a signal on the ticker's last day takes effect after the data ends
    where first_day_number <= last_day_number
)

select
    strategy,
    ticker,
    -- a number per (strategy, ticker) backtest: window functions downstream partition by it,
    -- which sorts ~2.5 M days far faster than the two strings
    dense_rank() over (order by strategy, ticker)                   as backtest_id,
    first_day_number,
    last_day_number,
    signal_id                                                       as position_signal_id,
    position,
    previous_position,
    case when position <> 0 then cast(trades_opened as integer) end as trade_number,
    case when closes_trade
         then cast(trades_opened - (case when opens_trade then 1 else 0 end) as integer) end
                                                                                as closed_trade_number
from numbered
