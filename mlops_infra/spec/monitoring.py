"""Drift monitoring of every endpoint against the training baseline."""

from __future__ import annotations

from pydantic import Field, model_validator

from mlops_infra.spec.base import Spec, Switch
from mlops_infra.spec.schedule import Schedule


class DriftSpec(Spec):
    """Which features are watched and how far they may move before an alarm (and a retrain)."""

    features: list[str] = Field(min_length=1, max_length=100, description="Feature names to watch.")
    threshold: float = Field(
        0.2, gt=0, le=1, description="Distance between baseline and live distributions (0-1) that alarms."
    )
    feature_thresholds: dict[str, float] = Field(
        default_factory=dict,
        description="Per-feature override of threshold (same 0-1 distance), for features that move more or less.",
    )
    schedule: Schedule = Field(
        default_factory=lambda: Schedule(cron="0 * * * *"), description="When drift is computed (hourly by default)."
    )
    baseline: str | None = Field(
        None, description="Baseline statistics path in each cloud's model store (default: the training run's)."
    )

    @model_validator(mode="after")
    def _thresholds_name_watched_features(self) -> DriftSpec:
        for feature, value in self.feature_thresholds.items():
            if feature not in self.features:
                raise ValueError(f"feature_thresholds names {feature!r}, which is not in features")
            if not 0 < value <= 1:
                raise ValueError(f"feature_thresholds[{feature!r}] must be in (0, 1], got {value}")
        return self

    def threshold_for(self, feature: str) -> float:
        """The distance (0-1) above which ``feature`` alarms."""
        return self.feature_thresholds.get(feature, self.threshold)


class MonitoringSpec(Spec):
    """Monitoring of the serving endpoints. ``enabled: None`` lets the environment decide (on when protected)."""

    enabled: Switch | None = None
    drift: DriftSpec | None = None
