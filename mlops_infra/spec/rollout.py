"""How a new model version replaces the old one, and when it is rolled back."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from mlops_infra.spec.base import Spec, Switch
from mlops_infra.spec.types import PositivePercent


class RolloutStrategy(StrEnum):
    """Traffic shifting from the old version to the new one."""

    CANARY = "canary"
    """``canary_percent`` of traffic first, then the rest after ``bake_seconds``."""
    LINEAR = "linear"
    """``step_percent`` more traffic every ``bake_seconds``."""
    BLUE_GREEN = "blue_green"
    """A full new fleet, all traffic at once after it is healthy, the old fleet kept for ``bake_seconds``."""
    ALL_AT_ONCE = "all_at_once"
    """Replace at once with no bake time (refused in protected environments unless explicitly allowed)."""


GRADUAL = frozenset({RolloutStrategy.CANARY, RolloutStrategy.LINEAR, RolloutStrategy.BLUE_GREEN})


class Rollout(Spec):
    """Gradual rollout with automatic rollback on the endpoint's alarms (error rate, p95 latency)."""

    strategy: RolloutStrategy = RolloutStrategy.CANARY
    canary_percent: PositivePercent = Field(10, description="Traffic to the new version first (canary), percent.")
    step_percent: PositivePercent = Field(25, description="Traffic added per step (linear), percent.")
    bake_seconds: int = Field(600, ge=0, le=3600, description="Observation time after each step, seconds.")
    rollback_on_alarms: Switch = Field(True, description="Roll back automatically when an endpoint alarm fires.")

    @model_validator(mode="after")
    def _steps(self) -> Rollout:
        if self.strategy is RolloutStrategy.CANARY and self.canary_percent >= 100:
            raise ValueError("canary_percent must be below 100 (100 is all_at_once)")
        if self.strategy is RolloutStrategy.LINEAR and self.step_percent >= 100:
            raise ValueError("step_percent must be below 100 (100 is all_at_once)")
        return self

    @property
    def gradual(self) -> bool:
        """True when traffic moves in observed steps (canary, linear or blue/green)."""
        return self.strategy in GRADUAL
