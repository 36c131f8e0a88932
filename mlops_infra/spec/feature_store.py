"""Features: an offline store for training and an online store for serving."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from mlops_infra.spec.base import Spec, Switch
from mlops_infra.spec.schedule import Schedule

FEATURE_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,59}$"


class FeatureType(StrEnum):
    """A feature's value type; each cloud maps it to its own (String/Integral/Fractional, BigQuery, Feast)."""

    STRING = "string"
    INT64 = "int64"
    FLOAT64 = "float64"
    BOOL = "bool"
    TIMESTAMP = "timestamp"


class Feature(Spec):
    """One feature column."""

    name: str = Field(pattern=FEATURE_NAME_PATTERN)
    type: FeatureType
    description: str = Field("", max_length=500)


class FeatureGroupSpec(Spec):
    """A set of features about one entity, keyed by ``entity_key`` and timed by ``event_time``."""

    name: str = Field(pattern=FEATURE_NAME_PATTERN)
    description: str = Field("", max_length=500)
    entity_key: str = Field(pattern=FEATURE_NAME_PATTERN, description="The feature that identifies an entity.")
    event_time: str = Field(pattern=FEATURE_NAME_PATTERN, description="The timestamp feature of each record.")
    features: list[Feature] = Field(min_length=1, max_length=2500)
    online: Switch = Field(True, description="Serve the latest values online at low latency.")
    online_ttl_days: int | None = Field(None, ge=1, le=3650, description="Online records expire after, days.")

    @model_validator(mode="after")
    def _keys_are_features(self) -> FeatureGroupSpec:
        names = [f.name for f in self.features]
        if len(set(names)) != len(names):
            raise ValueError(f"feature names repeat in {self.name!r}")
        for field_name in ("entity_key", "event_time"):
            if getattr(self, field_name) not in names:
                raise ValueError(f"{field_name} {getattr(self, field_name)!r} is not one of the group's features")
        return self


class FeatureStoreSpec(Spec):
    """The platform's feature groups."""

    feature_groups: list[FeatureGroupSpec] = Field(min_length=1, max_length=100)
    offline_retention_days: int | None = Field(
        None, ge=1, le=3650, description="Offline records move to archive storage after, days (None keeps them)."
    )
    materialization: Schedule | None = Field(
        None,
        description="When the online store is filled from the offline store, incrementally (records since the last "
        "run). Kubernetes: a Feast materialize-incremental CronJob; GCP: the online feature views' sync schedule "
        "(default every 6 h); AWS: refused (SageMaker writes both stores at ingestion). None: the cloud's default "
        "(no materialization on Kubernetes).",
    )

    @model_validator(mode="after")
    def _unique(self) -> FeatureStoreSpec:
        names = [g.name for g in self.feature_groups]
        if len(set(names)) != len(names):
            raise ValueError("feature group names repeat")
        return self
