"""The whole platform in one cloud-neutral document: what ``platform.yaml`` holds."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from mlops_infra.spec.access import AccessSpec
from mlops_infra.spec.alerts import AlertsSpec
from mlops_infra.spec.audit import AuditSpec
from mlops_infra.spec.aws import AwsPlatformSpec
from mlops_infra.spec.base import Spec
from mlops_infra.spec.batch import BatchInferenceSpec
from mlops_infra.spec.budget import BudgetSpec
from mlops_infra.spec.cloud import Cloud
from mlops_infra.spec.endpoint import EndpointSpec
from mlops_infra.spec.feature_store import FeatureStoreSpec
from mlops_infra.spec.gcp import GcpPlatformSpec
from mlops_infra.spec.k8s import K8sPlatformSpec
from mlops_infra.spec.lifecycle import LifecycleSpec
from mlops_infra.spec.monitoring import MonitoringSpec
from mlops_infra.spec.off_hours import OffHoursSpec
from mlops_infra.spec.registry import RegistrySpec
from mlops_infra.spec.tracking import TrackingSpec
from mlops_infra.spec.training import TrainingSpec


class PlatformSpec(Spec):
    """An MLOps platform: features, training, registry, endpoints, monitoring, alerts, budget, access, tracking.

    ``clouds`` lists where it is realized; every other section means the same on every cloud.
    The sections ``aws``, ``gcp`` and ``k8s`` hold the little that only one cloud needs.
    """

    clouds: list[Cloud] = Field(min_length=1, description="Target clouds: aws, gcp, k8s (one or several).")
    description: str = Field("", max_length=1000)
    feature_store: FeatureStoreSpec | None = None
    training: TrainingSpec | None = None
    registry: RegistrySpec
    endpoints: list[EndpointSpec] = Field(default_factory=list, max_length=100)
    batch: list[BatchInferenceSpec] = Field(
        default_factory=list, max_length=50, description="Scheduled batch predictions over datasets."
    )
    monitoring: MonitoringSpec = Field(default_factory=MonitoringSpec)
    alerts: AlertsSpec = Field(default_factory=AlertsSpec)
    budget: BudgetSpec
    access: AccessSpec = Field(default_factory=AccessSpec)
    audit: AuditSpec = Field(default_factory=AuditSpec)
    tracking: TrackingSpec | None = Field(None, description="Experiment tracking the training runs log to; None: none.")
    lifecycle: LifecycleSpec = Field(
        default_factory=LifecycleSpec, description="Archive lifecycle of every data and model bucket."
    )
    off_hours: OffHoursSpec | None = Field(
        None, description="Scale endpoints down at night in the environments it lists; None: always up."
    )
    aws: AwsPlatformSpec = Field(default_factory=AwsPlatformSpec)
    gcp: GcpPlatformSpec = Field(default_factory=GcpPlatformSpec)
    k8s: K8sPlatformSpec = Field(default_factory=K8sPlatformSpec)

    @field_validator("clouds", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("clouds")
    @classmethod
    def _unique_clouds(cls, value: list[Cloud]) -> list[Cloud]:
        if len(set(value)) != len(value):
            raise ValueError(f"clouds lists a cloud twice: {[c.value for c in value]}")
        return value

    @field_validator("endpoints")
    @classmethod
    def _unique_endpoints(cls, value: list[EndpointSpec]) -> list[EndpointSpec]:
        names = [e.name for e in value]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"endpoint names repeat: {repeated}")
        return value

    @field_validator("batch")
    @classmethod
    def _unique_batch_jobs(cls, value: list[BatchInferenceSpec]) -> list[BatchInferenceSpec]:
        names = [b.name for b in value]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"batch job names repeat: {repeated}")
        return value

    @model_validator(mode="after")
    def _drift_needs_features(self) -> PlatformSpec:
        drift = self.monitoring.drift
        if drift is not None and self.feature_store is not None:
            known = {f.name for g in self.feature_store.feature_groups for f in g.features}
            unknown = sorted(set(drift.features) - known)
            if unknown:
                raise ValueError(f"monitoring.drift.features {unknown} are not features of the feature store")
        if self.endpoints and self.monitoring.enabled and drift is None:
            raise ValueError("monitoring.enabled is true but monitoring.drift names no features to watch")
        return self
