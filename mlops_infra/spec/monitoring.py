"""Drift monitoring of every endpoint against the training baseline."""

from __future__ import annotations

from pydantic import Field

from mlops_infra.spec.base import Spec, Switch
from mlops_infra.spec.schedule import Schedule


class DriftSpec(Spec):
    """Which features are watched and how far they may move before an alarm (and a retrain)."""

    features: list[str] = Field(min_length=1, max_length=100, description="Feature names to watch.")
    threshold: float = Field(
        0.2, gt=0, le=1, description="Distance between baseline and live distributions (0-1) that alarms."
    )
    schedule: Schedule = Field(
        default_factory=lambda: Schedule(cron="0 * * * *"), description="When drift is computed (hourly by default)."
    )
    baseline: str | None = Field(
        None, description="Baseline statistics path in each cloud's model store (default: the training run's)."
    )


class MonitoringSpec(Spec):
    """Monitoring of the serving endpoints. ``enabled: None`` lets the environment decide (on when protected)."""

    enabled: Switch | None = None
    drift: DriftSpec | None = None
