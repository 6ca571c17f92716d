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
    "significance": "scorecard_significance",
    "min_probabilistic_sharpe": "scorecard_min_probabilistic_sharpe",
    "bootstrap_block_size": "scorecard_bootstrap_block_size",
    "bootstrap_reps": "scorecard_bootstrap_reps",
    "alpha_ci_level": "scorecard_alpha_ci_level",
    "seed": "scorecard_seed",
    "min_trading_days": "min_trading_days",
    "risk_free_rate": "risk_free_rate",
    "trading_days_per_year": "trading_days_per_year",
}


class ScorecardSettings(BaseModel):
    """Every threshold of the scorecard (see the `vars:` of dbt_project.yml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_signals: int = Field(ge=1)
    significance: float = Field(gt=0, lt=1)
    min_probabilistic_sharpe: float = Field(gt=0, lt=1)
    bootstrap_block_size: int = Field(ge=1)
    bootstrap_reps: int = Field(ge=1000)
    alpha_ci_level: float = Field(gt=0, lt=1)
    seed: int = Field(ge=0)
    min_trading_days: int = Field(ge=2)
    risk_free_rate: float
    trading_days_per_year: int = Field(ge=1)
    portfolio_ticker: str = Field(min_length=1)

    @property
    def daily_risk_free_rate(self) -> float:
        """What cash earns per trading day, as the backtest's macro daily_risk_free_rate() says."""
        return self.risk_free_rate / self.trading_days_per_year

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> ScorecardSettings:
        """Build from the ``scorecard_settings`` dict a dbt Python model gets from ``dbt.config.get``;
        a bad value stops with one line naming the var."""
        try:
            return cls.model_validate(config or {})
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
