"""The platform's monthly cost ceiling and when people hear about it."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from mlops_infra.spec.base import Spec
from mlops_infra.spec.cloud import Cloud
from mlops_infra.spec.types import PositivePercent

MAX_MONTHLY_USD = 10_000_000


def check_thresholds(values: list[float]) -> list[float]:
    """Alert thresholds in percent: each once, in increasing order."""
    if len(set(values)) != len(values):
        raise ValueError("alert_at_percent repeats a threshold")
    return sorted(values)


AlertThresholds = Annotated[list[PositivePercent], Field(min_length=1, max_length=10), AfterValidator(check_thresholds)]
"""Percentages of a ceiling at which people are alerted (budgets, quotas), sorted, each once."""


class BudgetSpec(Spec):
    """A monthly budget in US dollars with alerts at percentages of it (actual and forecast spend)."""

    monthly_limit_usd: float = Field(gt=0, le=MAX_MONTHLY_USD, description="Monthly ceiling, USD.")
    alert_at_percent: AlertThresholds = Field(
        default_factory=lambda: [80.0, 90.0, 100.0], description="Alert thresholds, percent."
    )
    anomaly_alert_usd: float | None = Field(
        100,
        gt=0,
        le=MAX_MONTHLY_USD,
        description="Alert when a cost anomaly's total impact reaches this many USD (AWS Cost Anomaly Detection); "
        "null: no anomaly alerts.",
    )
    per_cloud_usd: dict[Cloud, float] = Field(
        default_factory=dict,
        description="Monthly ceiling of one cloud, USD, in a stack with several clouds (default: monthly_limit_usd).",
    )

    @field_validator("per_cloud_usd")
    @classmethod
    def _positive(cls, values: dict[Cloud, float]) -> dict[Cloud, float]:
        for cloud, amount in values.items():
            if not 0 < amount <= MAX_MONTHLY_USD:
                raise ValueError(
                    f"{cloud.value}: {amount:g} USD is not a monthly ceiling above 0 and at most {MAX_MONTHLY_USD}"
                )
        return values

    def limit_for(self, cloud: Cloud) -> float:
        """The monthly ceiling on ``cloud``, USD: its own amount, else ``monthly_limit_usd``."""
        return self.per_cloud_usd.get(cloud, self.monthly_limit_usd)
