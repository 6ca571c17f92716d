"""A deliberately plain, loop-by-loop Python re-implementation of the backtest conventions.

It shares no code with the SQL models: the tests build the marts with dbt on tiny hand-made price
series and compare every metric to what these loops compute, and the loops themselves are pinned
by a few values worked out by hand (flat market, one crash, alternating days).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import date

PERIODS = 252


@dataclass(frozen=True)
class Settings:
    """The vars the conventions depend on (same names as dbt_project.yml)."""

    initial_capital: float = 100000.0
    transaction_cost_bps: float = 5.0
    risk_free_rate: float = 0.0
    confidence_threshold: float = 0.5
    max_position_size: float = 0.25
    allow_short: bool = False
    sma_short_window: int = 20  # the crossover's fast SMA
    sma_medium_window: int = 50  # the crossover's slow SMA
    min_annual_return: float = 0.10
    min_trading_days: int = 30
    min_sharpe_ratio: float = 0.0
    min_capital: float = 10000.0

    @property
    def cost_rate(self) -> float:
        return self.transaction_cost_bps / 10000.0

    @property
    def daily_rf(self) -> float:
        return self.risk_free_rate / PERIODS


@dataclass
class Series:
    """One backtest's daily rows (the window: day after the first signal to the end)."""

    dates: list[date] = field(default_factory=list)
    positions: list[float] = field(default_factory=list)
    asset_returns: list[float] = field(default_factory=list)  # the yardstick's daily return
    strategy_returns: list[float] = field(default_factory=list)
    position_changes: list[float] = field(default_factory=list)
    trade_returns: list[float] = field(default_factory=list)


def simple_returns(prices: list[float]) -> list[float]:
    return [prices[i] / prices[i - 1] - 1 for i in range(1, len(prices))]


def buy_and_hold_signals(dates: list[date]) -> list[tuple[date, str, float]]:
    return [(dates[0], "BUY", 1.0)]


def sma_crossover_signals(
    dates: list[date], prices: list[float], fast: int, slow: int
) -> list[tuple[date, str, float]]:
    def sma(window: int, i: int) -> float | None:
        return sum(prices[i - window + 1 : i + 1]) / window if i >= window - 1 else None

    signs: list[int | None] = []
    for i in range(len(prices)):
        f, s = sma(fast, i), sma(slow, i)
        if f is None or s is None:
            signs.append(None)
        elif abs(f - s) <= 1e-12 * abs(s):
            signs.append(0)
        else:
            signs.append(1 if f > s else -1)
    signals = []
    for i in range(1, len(prices)):
        if signs[i] is None or signs[i - 1] is None:
            continue
        if signs[i] > 0 and signs[i - 1] <= 0:
            signals.append((dates[i], "BUY", 1.0))
        elif signs[i] < 0 and signs[i - 1] >= 0:
            signals.append((dates[i], "SELL", 1.0))
    return signals


def decisions(signals: list[tuple[date, str, float]], cfg: Settings) -> list[tuple[date, float]]:
    """The position each signal date asks for. BUY -> long, SELL -> flat (short with allow_short).
    HOLD and signals below the confidence threshold ask for nothing: the position is kept.
    Several actionable signals on one date: the highest confidence wins, SELL wins a tie."""
    target = {"BUY": 1.0, "SELL": -1.0 if cfg.allow_short else 0.0}
    best: dict[date, tuple[tuple[float, bool], float]] = {}
    for day, action, confidence in signals:
        if action not in target or confidence < cfg.confidence_threshold:
            continue
        rank = (confidence, action == "SELL")
        if day not in best or rank > best[day][0]:
            best[day] = (rank, target[action])
    return sorted((day, position) for day, (_, position) in best.items())


def run_ticker(dates: list[date], prices: list[float], signals: list[tuple[date, str, float]], cfg: Settings) -> Series:
    """Positions from signals strictly before each day; costs on the first day a position is held.
    The window starts the day after the first signal of any action (a HOLD too)."""
    out = Series()
    if not signals:
        return out
    first_signal = min(d for d, _, _ in signals)
    decided = decisions(signals, cfg)
    position = previous = 0.0
    growth, closing = 1.0, 0.0
    open_trade = False
    for i in range(1, len(dates)):
        if dates[i] <= first_signal:
            continue
        past = [p for d, p in decided if d < dates[i]]
        if past:
            position = past[-1]
        r = prices[i] / prices[i - 1] - 1
        opening = cfg.cost_rate * abs(position) if position != previous else 0.0
        closing = cfg.cost_rate * abs(previous) if position != previous else 0.0
        gross = position * r + (1 - abs(position)) * cfg.daily_rf
        if position != previous and open_trade:  # the old trade closes today
            out.trade_returns.append(growth * (1 - closing) - 1)
            open_trade = False
        if position != 0 and position != previous:
            growth, open_trade = 1.0, True
        if position != 0:
            growth *= 1 + gross - opening
        out.dates.append(dates[i])
        out.positions.append(position)
        out.asset_returns.append(r)
        out.strategy_returns.append(gross - opening - closing)
        out.position_changes.append(abs(position - previous))
        previous = position
    if open_trade:
        out.trade_returns.append(growth - 1)
    return out


def run_portfolio(per_ticker: dict[str, Series], cfg: Settings) -> Series:
    """Capped equal weight across tickers in the market each day, rebalanced to target, rest in cash."""
    out = Series()
    all_dates = sorted({d for s in per_ticker.values() for d in s.dates})
    previous_weight = dict.fromkeys(per_ticker, 0.0)
    for d in all_dates:
        present = {t: s.dates.index(d) for t, s in per_ticker.items() if d in s.dates}
        in_market = [t for t, i in present.items() if per_ticker[t].positions[i] != 0]
        gross = cost = change = bh = 0.0
        exposure = 0.0
        for t, i in present.items():
            pos = per_ticker[t].positions[i]
            r = per_ticker[t].asset_returns[i]
            w = math.copysign(min(1.0 / len(in_market), cfg.max_position_size), pos) if pos != 0 else 0.0
            gross += w * r
            exposure += abs(w)
            change += abs(w - previous_weight[t])
            previous_weight[t] = w
            bh_w = min(1.0 / len(present), cfg.max_position_size)
            bh += bh_w * r
        bh += (1 - min(1.0 / len(present), cfg.max_position_size) * len(present)) * cfg.daily_rf
        gross += (1 - exposure) * cfg.daily_rf
        cost = cfg.cost_rate * change
        out.dates.append(d)
        out.positions.append(exposure)
        out.asset_returns.append(bh)
        out.strategy_returns.append(gross - cost)
        out.position_changes.append(change)
    for s in per_ticker.values():
        out.trade_returns.extend(s.trade_returns)
    return out


def metrics(s: Series, cfg: Settings, benchmark: dict[date, float]) -> dict[str, float | int | bool | None]:
    """Every mart_backtest_summary metric, straight from its definition."""
    n = len(s.strategy_returns)
    equity, peak, max_dd = 1.0, 1.0, 0.0
    for r in s.strategy_returns:
        equity *= 1 + r
        peak = max(peak, equity)
        max_dd = min(max_dd, equity / peak - 1)
    buy_hold = 1.0
    for r in s.asset_returns:
        buy_hold *= 1 + r
    total = equity - 1
    annual = (1 + total) ** (PERIODS / n) - 1
    bh_annual = buy_hold ** (PERIODS / n) - 1
    excess = [r - cfg.daily_rf for r in s.strategy_returns]
    std = statistics.stdev(excess) if n > 1 else 0.0
    downside = math.sqrt(sum(min(x, 0.0) ** 2 for x in excess) / n)
    pairs = [(x, benchmark[d] - cfg.daily_rf) for d, x in zip(s.dates, excess, strict=False) if d in benchmark]
    xs, bs = [p[0] for p in pairs], [p[1] for p in pairs]
    mean_x, mean_b = sum(xs) / len(xs), sum(bs) / len(bs)
    var_b = sum((b - mean_b) ** 2 for b in bs) / len(bs)
    beta = sum((x - mean_x) * (b - mean_b) for x, b in pairs) / len(pairs) / var_b
    capm_alpha = (1 + sum(x - beta * b for x, b in pairs) / len(pairs)) ** PERIODS - 1
    sharpe = statistics.mean(excess) / std * math.sqrt(PERIODS) if std > 0 else None
    trades = len(s.trade_returns)
    return {
        "trading_days": n,
        "final_equity": cfg.initial_capital * equity,
        "total_return": total,
        "annual_return": annual,
        "annual_volatility": statistics.stdev(s.strategy_returns) * math.sqrt(PERIODS),
        "sharpe_ratio": sharpe,
        "sortino_ratio": statistics.mean(excess) / downside * math.sqrt(PERIODS) if downside > 0 else None,
        "max_drawdown": max_dd,
        "calmar_ratio": annual / abs(max_dd) if max_dd < 0 else None,
        "buy_hold_return": buy_hold - 1,
        "buy_hold_annual_return": bh_annual,
        "alpha_vs_buy_hold": annual - bh_annual,
        "beta": beta,
        "capm_alpha": capm_alpha,
        "win_rate": sum(1 for t in s.trade_returns if t > 0) / trades if trades else None,
        "trades": trades,
        "exposure": sum(1 for p in s.positions if p != 0) / n,
        "turnover": sum(s.position_changes) * PERIODS / n,
        "passes_min_return": annual > cfg.min_annual_return,
        "beats_buy_hold": annual > bh_annual,
        "passes_min_days": n >= cfg.min_trading_days,
        "passes_sharpe": sharpe is not None and sharpe > cfg.min_sharpe_ratio,
        "passes_capital": cfg.initial_capital >= cfg.min_capital,
    }
