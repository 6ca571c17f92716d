"""Settings of the scorecard, validated.

The values come from dbt vars only (models/marts/scorecard/_scorecard.yml passes them in as the
``scorecard_settings`` config of the Python model, which cannot call ``var()``); there are
deliberately no defaults here, so a var that is not passed through is an error, not a silently
different value.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from warehouse_core import UserError

# field -> the dbt var it comes from, for error messages a user can act on
VAR_NAMES = {
    "min_signals": "scorecard_min_signals",
    "min_trades": "scorecard_min_trades",
    "min_invested_days": "scorecard_min_invested_days",
    "significance": "scorecard_significance",
    "max_portfolio_p_value": "scorecard_max_portfolio_p_value",
    "power": "scorecard_power",
    "random_timing_draws": "scorecard_random_timing_draws",
    "block_days": "scorecard_random_timing_block_days",
    "decision_lookback_days": "scorecard_decision_lookback_days",
    "horizon_days": "validation_horizon_days",
    "transaction_cost_bps": "transaction_cost_bps",
    "bootstrap_block_size": "scorecard_bootstrap_block_size",
    "bootstrap_reps": "scorecard_bootstrap_reps",
    "alpha_ci_level": "scorecard_alpha_ci_level",
    "seed": "scorecard_seed",
    "min_trading_days": "min_trading_days",
    "risk_free_rate": "risk_free_rate",
    "trading_days_per_year": "trading_days_per_year",
}

# var -> what to do instead; _scorecard.yml passes their values as retired_vars, so a user who still
# sets one learns that it no longer does anything instead of trusting it
RETIRED_VARS = {
    "scorecard_min_probabilistic_sharpe": (
        "the verdict no longer gates on the PSR (P(Sharpe > 0) is not evidence of skill; "
        "probabilistic_sharpe stays as a descriptive column). Remove it; the verdict's rule is "
        "scorecard_significance and scorecard_max_portfolio_p_value"
    ),
}


class ScorecardSettings(BaseModel):
    """Every threshold of the scorecard (see the `vars:` of dbt_project.yml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_signals: int = Field(ge=1)
    min_trades: int = Field(ge=0)
    min_invested_days: int = Field(ge=0)
    significance: float = Field(gt=0, lt=1)
    max_portfolio_p_value: float = Field(gt=0, le=1)
    power: float = Field(gt=0, lt=1)
    random_timing_draws: int = Field(ge=2000)
    block_days: int = Field(ge=1)
    decision_lookback_days: int = Field(ge=0)
    horizon_days: int = Field(ge=1)
    transaction_cost_bps: float = Field(ge=0)
    bootstrap_block_size: int = Field(ge=1)
    bootstrap_reps: int = Field(ge=1000)
    alpha_ci_level: float = Field(gt=0, lt=1)
    seed: int = Field(ge=0)
    min_trading_days: int = Field(ge=2)
    risk_free_rate: float
    trading_days_per_year: int = Field(ge=1)
    portfolio_ticker: str = Field(min_length=1)

    @property
    def cost_rate(self) -> float:
        """Cost per unit of |change of weight|, as the backtest's macro cost_rate() says."""
        return self.transaction_cost_bps / 10_000

    @property
    def daily_risk_free_rate(self) -> float:
        """What cash earns per trading day, as the backtest's macro daily_risk_free_rate() says."""
        return self.risk_free_rate / self.trading_days_per_year

    @classmethod
    def from_vars(cls, values: dict[str, Any], portfolio_ticker: str = "PORTFOLIO") -> ScorecardSettings:
        """Build from dbt vars (e.g. warehouse_core.project.project_vars()), for code that runs the
        scorecard's statistics outside dbt: the calibration benchmark and the tests."""
        fields = {field: values[var] for field, var in VAR_NAMES.items()}
        return cls.from_config(fields | {"portfolio_ticker": portfolio_ticker})

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> ScorecardSettings:
        """Build from the ``scorecard_settings`` dict a dbt Python model gets from ``dbt.config.get``;
        a bad value stops with one line naming the var, and so does a retired var that is still set."""
        config = dict(config or {})
        for name, value in (config.pop("retired_vars", None) or {}).items():
            if value not in (None, "", "None", "none"):
                raise UserError(f"var {name} is gone: {RETIRED_VARS[name]}")
        try:
            return cls.model_validate(config)
        except ValidationError as error:
            first = error.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else "scorecard_settings"
            name = VAR_NAMES.get(field, field)
            if first["type"] == "missing":
                raise UserError(
                    f"var {name} is not passed to the scorecard: add it to scorecard_settings in "
                    "models/marts/scorecard/_scorecard.yml"
                ) from None
            raise UserError(
                f"var {name} = {first.get('input')!r}: {first['msg']}; set it in dbt_project.yml vars or with --vars"
            ) from None
