"""The platform's monthly cost ceiling and when people hear about it."""

from __future__ import annotations

from pydantic import Field, field_validator

from mlops_infra.spec.base import Spec
from mlops_infra.spec.types import PositivePercent


class BudgetSpec(Spec):
    """A monthly budget in US dollars with alerts at percentages of it (actual and forecast spend)."""

    monthly_limit_usd: float = Field(gt=0, le=10_000_000, description="Monthly ceiling, USD.")
    alert_at_percent: list[PositivePercent] = Field(
        default_factory=lambda: [80.0, 100.0], min_length=1, max_length=10, description="Alert thresholds, percent."
    )

    @field_validator("alert_at_percent")
    @classmethod
    def _sorted_unique(cls, values: list[float]) -> list[float]:
        if len(set(values)) != len(values):
            raise ValueError("alert_at_percent repeats a threshold")
        return sorted(values)
