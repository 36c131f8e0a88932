"""How many replicas serve, and what they scale on: one vocabulary for SageMaker, Vertex and KServe."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from mlops_infra.spec.base import Spec


class ScalingMetric(StrEnum):
    """What autoscaling tracks per replica."""

    CONCURRENCY = "concurrency"
    """In-flight requests per replica (KServe/Knative concurrency; SageMaker ConcurrentRequestsPerModel)."""
    REQUESTS_PER_SECOND = "requests_per_second"
    """Requests per second per replica (SageMaker invocations per instance are converted per minute)."""
    CPU_PERCENT = "cpu_percent"
    """CPU utilisation per replica, percent of its request."""


class ScalingTarget(Spec):
    """The per-replica value autoscaling keeps the metric at."""

    metric: ScalingMetric = ScalingMetric.CPU_PERCENT
    value: float = Field(60, gt=0, le=100_000, description="Target per replica, in the metric's unit.")

    @model_validator(mode="after")
    def _percent_in_range(self) -> ScalingTarget:
        if self.metric is ScalingMetric.CPU_PERCENT and self.value > 100:
            raise ValueError(f"a cpu_percent target is a percent (0-100], not {self.value}")
        return self


class Scaling(Spec):
    """Replica bounds and the autoscaling target. ``min_replicas: 0`` scales to zero where the cloud can."""

    min_replicas: int = Field(1, ge=0, le=1000, description="Fewest replicas; 0 scales to zero when idle.")
    max_replicas: int = Field(3, ge=1, le=1000, description="Most replicas; bounds the worst-case cost.")
    target: ScalingTarget = Field(default_factory=ScalingTarget)
    scale_in_cooldown_seconds: int = Field(300, ge=0, le=3600, description="Wait after removing a replica.")
    scale_out_cooldown_seconds: int = Field(60, ge=0, le=3600, description="Wait after adding a replica.")

    @model_validator(mode="after")
    def _bounds(self) -> Scaling:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"min_replicas ({self.min_replicas}) is above max_replicas ({self.max_replicas})")
        return self
