"""Alert thresholds of a serving endpoint, and who the platform's alerts reach."""

from __future__ import annotations

from pydantic import Field, model_validator

from mlops_infra.spec.base import Spec
from mlops_infra.spec.types import Email, PositivePercent


class Alerts(Spec):
    """Endpoint alarms: error rate as a percent of requests, p95 latency in milliseconds."""

    error_rate_percent: PositivePercent = Field(1.0, description="Server errors as a percent of requests (0-100].")
    p95_latency_ms: float = Field(500, gt=0, le=600_000, description="95th-percentile latency ceiling, ms.")
    period_seconds: int = Field(60, ge=60, le=86400, description="Metric period, seconds (a multiple of 60).")
    evaluation_periods: int = Field(3, ge=1, le=1440, description="Periods looked at for each evaluation.")
    datapoints_to_alarm: int = Field(2, ge=1, le=1440, description="Breaching periods (of evaluation_periods).")

    @model_validator(mode="after")
    def _consistent(self) -> Alerts:
        if self.period_seconds % 60:
            raise ValueError(f"period_seconds ({self.period_seconds}) must be a multiple of 60")
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError(
                f"datapoints_to_alarm ({self.datapoints_to_alarm}) exceeds "
                f"evaluation_periods ({self.evaluation_periods})"
            )
        return self


class AlertsSpec(Spec):
    """Where the platform's alerts go. Budgets, drift and endpoint alarms all notify these people."""

    emails: list[Email] = Field(default_factory=list, max_length=20, description="People or lists to notify.")

    @model_validator(mode="after")
    def _unique(self) -> AlertsSpec:
        if len(set(self.emails)) != len(self.emails):
            raise ValueError("emails lists an address twice")
        return self
