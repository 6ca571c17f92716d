"""signal_stats on hand-made inputs: each figure against scipy, arch or the papers' formulas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from arch.bootstrap import StationaryBootstrap
from reference_stats import arch_spa, hand_psr, hand_sr0
from scipy.stats import binomtest, poisson_binom

from signal_stats.bootstrap import alpha_interval, annualised_difference
from signal_stats.hit_rate import binomial_p_value, matched_p_value
from signal_stats.scorecard import COLUMNS, HEALTH_COLUMNS, ScorecardInputs, build_scorecard, signals_source
from signal_stats.settings import ScorecardSettings
from signal_stats.sharpe import deflated_sharpe_benchmark, probabilistic_sharpe, sharpe_moments
from signal_stats.spa import family_differentials, family_p_value, spa_p_value
from warehouse_core import UserError
from warehouse_core.project import project_vars

SETTINGS = ScorecardSettings.from_vars(project_vars())


def skewed_returns(n: int = 500, seed: int = 7) -> np.ndarray:
    """Daily returns with a positive mean, negative skew and fat tails, like a real strategy."""
    rng = np.random.default_rng(seed)
    return 0.0008 + 0.01 * rng.standard_t(4, n) - 0.02 * (rng.random(n) < 0.02)


# --- hit rate -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("hits", "signals", "base"), [(19, 40, 0.475), (130, 254, 0.559), (0, 10, 0.3), (10, 10, 0.5)])
def test_binomial_p_value_is_scipys_binomtest(hits: int, signals: int, base: float) -> None:
    expected = binomtest(hits, signals, base, alternative="greater").pvalue
    assert binomial_p_value(hits, signals, base) == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_a_strategy_that_is_always_right_gets_a_tiny_p_value() -> None:
    assert binomial_p_value(44, 44, 0.5) == pytest.approx(0.5**44)
    assert binomial_p_value(44, 44, 0.5) < 1e-12


def test_always_buy_in_a_rising_market_is_no_better_than_its_base_rate() -> None:
    """Always BUY: every hit is an up move, so hit_rate = base_hit_rate, and the p-value is at least 0.5."""
    for signals, up_moves in [(88, 87), (40, 30), (254, 142)]:
        assert binomial_p_value(up_moves, signals, up_moves / signals) >= 0.5


def test_matched_p_value_is_scipys_poisson_binomial() -> None:
    counts, rates = [12, 9, 5], [0.58, 0.42, 0.3]
    probabilities = [rate for count, rate in zip(counts, rates, strict=True) for _ in range(count)]
    for hits in [0, 10, 14, 20, 26]:
        expected = poisson_binom(probabilities).sf(hits - 1)
        assert matched_p_value(hits, counts, rates) == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_matched_p_value_catches_always_sell_in_a_falling_market() -> None:
    """Always SELL with 70 % down moves: it beats always-BUY's 30 % without skill; the matched base sees it."""
    signals, down_moves = 100, 70
    assert binomial_p_value(down_moves, signals, 0.30) < 1e-10
    assert matched_p_value(down_moves, [0, signals, 0], [0.30, 0.70, 0.1]) >= 0.5


def test_matched_p_value_equals_binomial_for_a_buy_only_strategy() -> None:
    assert matched_p_value(23, [40, 0, 0], [0.55, 0.45, 0.2]) == pytest.approx(binomial_p_value(23, 40, 0.55))


def test_psr_is_the_papers_formula() -> None:
    returns = skewed_returns()
    moments = sharpe_moments(returns)
    assert moments is not None
    assert moments.sharpe == pytest.approx(returns.mean() / returns.std(ddof=1), rel=1e-12)
    assert probabilistic_sharpe(moments) == pytest.approx(hand_psr(returns), rel=1e-10)
    assert probabilistic_sharpe(moments, 0.02) == pytest.approx(hand_psr(returns, 0.02), rel=1e-10)


def test_psr_uses_kurtosis_not_excess_kurtosis() -> None:
    """The papers' kurtosis is 3 for a normal distribution; excess kurtosis (0) would make the PSR of
    fat-tailed returns too confident."""
    normal = np.random.default_rng(0).normal(0.0005, 0.01, 200_000)
    assert sharpe_moments(normal).kurtosis == pytest.approx(3.0, abs=0.05)
    assert sharpe_moments(normal).skewness == pytest.approx(0.0, abs=0.02)


def test_dsr_benchmark_is_the_papers_formula() -> None:
    sharpes = [0.041, 0.072, 0.030, 0.055, None]
    assert deflated_sharpe_benchmark(sharpes, trials=5) == pytest.approx(hand_sr0([0.041, 0.072, 0.030, 0.055], 5))


def test_dsr_is_undefined_with_fewer_than_two_trials() -> None:
    assert deflated_sharpe_benchmark([0.05], trials=1) is None
    assert deflated_sharpe_benchmark([0.05, None], trials=2) is None


def test_a_constant_return_strategy_has_no_sharpe_and_no_crash() -> None:
    for constant in [np.zeros(300), np.full(300, 0.02 / 252)]:
        assert sharpe_moments(constant) is None
        assert probabilistic_sharpe(sharpe_moments(constant)) is None
    assert sharpe_moments(np.array([0.01])) is None


# --- bootstrap interval and SPA -------------------------------------------------------------------


def test_alpha_interval_is_the_percentile_interval_of_the_bootstrapped_alpha() -> None:
    strategy, buy_hold = skewed_returns(400, 1), skewed_returns(400, 2)
    low, high = alpha_interval(strategy, buy_hold, periods=252, block_size=10, reps=1000, level=0.9, seed=42)
    resampled = StationaryBootstrap(10, strategy, buy_hold, seed=42)
    alphas = [annualised_difference(s, b, 252) for (s, b), _ in resampled.bootstrap(1000)]
    assert (low, high) == pytest.approx(tuple(np.percentile(alphas, [5, 95])), rel=1e-12)
    assert low < annualised_difference(strategy, buy_hold, 252) < high


def test_alpha_interval_is_reproducible_and_depends_on_the_seed() -> None:
    strategy, buy_hold = skewed_returns(400, 1), skewed_returns(400, 2)
    settings = {"periods": 252, "block_size": 10, "reps": 1000, "level": 0.9}
    first = alpha_interval(strategy, buy_hold, seed=42, **settings)
    assert alpha_interval(strategy, buy_hold, seed=42, **settings) == first
    assert alpha_interval(strategy, buy_hold, seed=43, **settings) != first


def test_annualised_difference_is_the_difference_of_cagrs() -> None:
    strategy, buy_hold = np.full(252, 0.001), np.full(252, 0.0005)
    assert annualised_difference(strategy, buy_hold, 252) == pytest.approx(1.001**252 - 1.0005**252)


def test_spa_p_value_is_archs_spa_on_the_same_returns() -> None:
    strategy, buy_hold = skewed_returns(600, 3), skewed_returns(600, 4)
    expected = arch_spa(strategy, buy_hold, 10, 1000, 42)
    assert spa_p_value(strategy - buy_hold, block_size=10, reps=1000, seed=42) == pytest.approx(expected, abs=1e-12)


def test_spa_sees_a_strategy_that_beats_buy_and_hold_every_day() -> None:
    buy_hold = skewed_returns(300, 5)
    better = buy_hold + 0.002 + 0.0005 * skewed_returns(300, 6)
    assert spa_p_value(better - buy_hold, block_size=10, reps=1000, seed=42) < 0.01
    assert spa_p_value(-(better - buy_hold), block_size=10, reps=1000, seed=42) > 0.5


def test_spa_is_undefined_for_a_constant_differential() -> None:
    assert spa_p_value(np.full(100, -0.0001), block_size=10, reps=1000, seed=42) is None


def test_family_keeps_common_dates_and_drops_members_equal_to_their_yardstick() -> None:
    dates = pd.date_range("2020-01-01", periods=50)
    bh = skewed_returns(50, 8)
    daily = pd.concat(
        [
            pd.DataFrame(
                {
                    "strategy": "a",
                    "date": dates,
                    "strategy_return": bh + 0.001 * skewed_returns(50, 9),
                    "buy_hold_return": bh,
                }
            ),
            pd.DataFrame(
                {
                    "strategy": "b",
                    "date": dates[10:],
                    "strategy_return": skewed_returns(40, 10),
                    "buy_hold_return": bh[10:],
                }
            ),
            pd.DataFrame({"strategy": "yardstick", "date": dates, "strategy_return": bh, "buy_hold_return": bh}),
            pd.DataFrame(
                {"strategy": "short", "date": dates[:5], "strategy_return": bh[:5], "buy_hold_return": bh[:5]}
            ),
        ]
    )
    family = family_differentials(daily, min_days=30)
    assert list(family.columns) == ["a", "b"]
    assert list(family.index) == list(dates[10:])


# --- settings, verdict, the whole scorecard ------------------------------------------------------


def test_settings_refuse_fewer_than_1000_bootstrap_reps_with_the_var_name() -> None:
    config = SETTINGS.model_dump() | {"bootstrap_reps": "500"}
    with pytest.raises(UserError, match=r"^var scorecard_bootstrap_reps = '500': .*1000"):
        ScorecardSettings.from_config(config)
    config = SETTINGS.model_dump()
    del config["seed"]
    with pytest.raises(UserError, match="var scorecard_seed is not passed"):
        ScorecardSettings.from_config(config)


def test_settings_refuse_fewer_than_2000_random_timing_draws_and_a_retired_var() -> None:
    with pytest.raises(UserError, match=r"^var scorecard_random_timing_draws = '500': .*2000"):
        ScorecardSettings.from_config(SETTINGS.model_dump() | {"random_timing_draws": "500"})
    retired = {"retired_vars": {"scorecard_min_probabilistic_sharpe": "0.95"}}
    with pytest.raises(UserError, match=r"^var scorecard_min_probabilistic_sharpe is gone: the verdict no longer"):
        ScorecardSettings.from_config(SETTINGS.model_dump() | retired)
    unset = {"retired_vars": {"scorecard_min_probabilistic_sharpe": None}}
    assert ScorecardSettings.from_config(SETTINGS.model_dump() | unset) == SETTINGS


def test_settings_accept_the_strings_dbt_renders() -> None:
    rendered = {name: str(value) for name, value in SETTINGS.model_dump().items()}
    assert ScorecardSettings.from_config(rendered) == SETTINGS


def test_a_twin_without_signals_of_its_own_trades_its_base_strategys_signals() -> None:
    known = {"llm:qwen:14b", "sma_crossover"}
    assert signals_source("llm:qwen:14b:no_risk", known) == "llm:qwen:14b"
    assert signals_source("llm:qwen:14b", known) == "llm:qwen:14b"
    assert signals_source("external:mine", known) is None


def _signal_stats(strategy: str, model: str | None, signals: int, hits: int, up: int) -> dict:
    return {
        "strategy": strategy,
        "model": model,
        "signals": signals,
        "hits": hits,
        "hit_rate": hits / signals,
        "base_hit_rate": up / signals,
        "matched_base_hit_rate": up / signals,
        "up_moves": up,
        "down_moves": signals - up,
        "flat_moves": 0,
        "decided_buys": signals,
        "decided_sells": 0,
        "decided_holds": 0,
        "brier_score": 0.3,
        "pending_signals": 0,
        "buy_share": 1.0,
        "sell_share": 0.0,
        "hold_share": 0.0,
        "mean_confidence": 0.7,
    }


def scorecard_inputs(
    stats: pd.DataFrame, health: pd.DataFrame, summary: pd.DataFrame, daily: pd.DataFrame
) -> ScorecardInputs:
    """The scorecard's inputs around hand-made PORTFOLIO rows: one ticker per strategy, long when the
    strategy earned anything, at the default cap; no decided signals (nothing for random timing)."""
    positions = daily.assign(ticker="T", exposure=(daily["strategy_return"] != 0).astype(float))
    return ScorecardInputs(
        signal_stats=stats,
        health=health,
        summary=summary,
        daily=daily.assign(exposure=positions["exposure"] * 0.25),
        positions=positions[["strategy", "ticker", "date", "exposure", "buy_hold_return"]],
        caps=daily[["strategy", "date"]].assign(position_cap=0.25),
        decided=pd.DataFrame(columns=["strategy", "ticker", "base_day_number", "action"]),
        outcomes=pd.DataFrame(columns=["ticker", "trading_day_number", "buy_hits", "sell_hits", "hold_hits"]),
    )


def test_scorecard_keeps_degenerate_strategies_honest() -> None:
    """A constant-return strategy gets null Sharpe / PSR / DSR; one without portfolio rows gets nulls
    and insufficient_data; a backtest-only twin is judged on its base strategy's signals; a model that
    never answered still gets its row; the DSR counts the backtested strategies as its trials."""
    dates = pd.date_range("2020-01-01", periods=60)
    bh = skewed_returns(60, 11)
    daily = pd.concat(
        [
            pd.DataFrame(
                {"strategy": "llm:m", "date": dates, "strategy_return": skewed_returns(60, 12), "buy_hold_return": bh}
            ),
            pd.DataFrame(
                {
                    "strategy": "llm:m:no_risk",
                    "date": dates,
                    "strategy_return": skewed_returns(60, 13),
                    "buy_hold_return": bh,
                }
            ),
            pd.DataFrame({"strategy": "cash", "date": dates, "strategy_return": 0.0, "buy_hold_return": bh}),
        ]
    )
    summary = pd.DataFrame(
        {
            "strategy": ["llm:m", "llm:m:no_risk", "cash"],
            "trading_days": 60,
            "trades": [12, 12, 0],
            "sharpe_ratio": [1.0, 0.5, None],
            "alpha_vs_buy_hold": 0.01,
        }
    )
    stats = pd.DataFrame(
        [
            _signal_stats("llm:m", "m", 40, 30, 20),
            _signal_stats("cash", None, 40, 20, 20),
            _signal_stats("nowhere", None, 35, 20, 17),
        ]
    )
    health = pd.DataFrame(
        [
            {
                "model": "m",
                "strategy": "llm:m",
                "decisions": 48,
                "ok_count": 40,
                "invalid_output_count": 8,
                "timeout_count": 0,
                "llm_unavailable_count": 0,
                "latency_p50_ms": 900.0,
                "latency_p95_ms": 2000.0,
                "completion_tokens_per_second": 50.0,
            },
            {
                "model": "gone",
                "strategy": "llm:gone",
                "decisions": 12,
                "ok_count": 0,
                "invalid_output_count": 0,
                "timeout_count": 0,
                "llm_unavailable_count": 12,
                "latency_p50_ms": None,
                "latency_p95_ms": None,
                "completion_tokens_per_second": None,
            },
        ]
    )
    card = build_scorecard(scorecard_inputs(stats, health, summary, daily), SETTINGS).set_index("strategy")
    assert list(card.reset_index().columns) == list(COLUMNS)
    assert (
        card.loc["cash", ["sharpe_ratio", "daily_sharpe_ratio", "probabilistic_sharpe", "deflated_sharpe"]].isna().all()
    )
    assert card.loc["cash", "verdict"] == "insufficient_data" and "0 trades < 10" in card.loc["cash", "verdict_reason"]
    assert card.loc["nowhere", "verdict"] == "insufficient_data"
    assert card.loc["nowhere", "verdict_reason"] == "too little to judge: no backtest portfolio rows"
    assert card.loc["nowhere", ["trading_days", "alpha", "spa_p_value", "probabilistic_sharpe"]].isna().all()
    twin = card.loc["llm:m:no_risk"]
    assert (twin["signals_from"], twin["model"], twin["signals"], twin["decisions"]) == ("llm:m", "m", 40, 48)
    assert pd.isna(card.loc["cash", "decisions"])
    assert card["spa_family_days"].dropna().unique().tolist() == [60]
    gone = card.loc["llm:gone"]
    assert (gone["model"], gone["signals"], gone["llm_unavailable_count"]) == ("gone", 0, 12)
    assert (gone["verdict"], gone["verdict_reason"]) == (
        "insufficient_data",
        "too little to judge: 0 of 12 LLM decisions ok; no backtest portfolio rows",
    )
    sharpes = card["daily_sharpe_ratio"].dropna().tolist()
    assert len(sharpes) == 2  # llm:m and its twin; cash has none
    assert card["deflated_sharpe_benchmark"].unique().tolist() == [pytest.approx(hand_sr0(sharpes, trials=3))]


def test_scorecard_of_a_single_strategy_has_no_dsr() -> None:
    dates = pd.date_range("2020-01-01", periods=60)
    daily = pd.DataFrame(
        {
            "strategy": "s",
            "date": dates,
            "strategy_return": skewed_returns(60, 14),
            "buy_hold_return": skewed_returns(60, 15),
        }
    )
    summary = pd.DataFrame(
        {"strategy": ["s"], "trading_days": [60], "trades": [12], "sharpe_ratio": [1.0], "alpha_vs_buy_hold": [0.0]}
    )
    stats = pd.DataFrame([_signal_stats("s", None, 40, 30, 20)])
    health = pd.DataFrame(columns=["model", "strategy", *HEALTH_COLUMNS])
    card = build_scorecard(scorecard_inputs(stats, health, summary, daily), SETTINGS)
    assert card["deflated_sharpe"].isna().all() and card["deflated_sharpe_benchmark"].isna().all()
    assert card["probabilistic_sharpe"].notna().all()


def test_the_family_spa_sees_a_steady_winner_beside_a_noisy_loser() -> None:
    """Unscaled, arch's SPA takes the max of raw means: the noisy column's bootstrap spread swamps a
    small steady edge. Studentised, the steady winner's t-statistic decides."""
    rng = np.random.default_rng(5)
    steady = 0.0004 + 0.001 * rng.standard_normal(750)
    noisy = -0.0002 + 0.05 * rng.standard_normal(750)
    family = pd.DataFrame({"steady": steady, "noisy": noisy})
    unscaled = spa_p_value(family.to_numpy(), block_size=10, reps=1000, seed=42)
    assert family_p_value(family, block_size=10, reps=1000, seed=42) < 0.01 and unscaled > 0.05
