"""Off-hours: endpoints scale down at night and come back in the morning, in the environments that ask.

Declared once in ``platform.yaml`` and applied only in the environments it lists (``dev`` by
default), so the same document keeps production endpoints up. What "down" means is each cloud's
floor: KServe and Vertex AI go to zero replicas; a SageMaker real-time variant cannot scale to zero,
so it keeps one instance (docs/platform.md).
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from mlops_infra.spec.base import Spec
from mlops_infra.spec.schedule import Schedule


def _evenings() -> Schedule:
    return Schedule(cron="0 20 * * 1-5", time_zone="UTC")


def _mornings() -> Schedule:
    return Schedule(cron="0 7 * * 1-5", time_zone="UTC")


class OffHoursSpec(Spec):
    """When endpoints scale down (``stop``) and back up (``start``), and in which environments."""

    stop: Schedule = Field(default_factory=_evenings, description="When endpoints scale down (default 20:00 Mon-Fri).")
    start: Schedule = Field(
        default_factory=_mornings, description="When endpoints come back to their scaling (default 07:00 Mon-Fri)."
    )
    environments: list[str] = Field(
        default_factory=lambda: ["dev"],
        min_length=1,
        max_length=20,
        description="Environments whose endpoints follow the schedule; any other keeps them up.",
    )

    @field_validator("environments")
    @classmethod
    def _names(cls, values: list[str]) -> list[str]:
        for value in values:
            if not value or not value.replace("-", "").isalnum() or len(value) > 32:
                raise ValueError(f"environment {value!r} must be 1-32 letters, digits or '-'")
        return values

    @model_validator(mode="after")
    def _distinct(self) -> OffHoursSpec:
        if self.stop.cron == self.start.cron and self.stop.time_zone == self.start.time_zone:
            raise ValueError("stop and start are the same schedule: endpoints would never be down")
        return self

    def applies_to(self, environment: str) -> bool:
        """True when ``environment`` follows the off-hours schedule."""
        return environment in self.environments
