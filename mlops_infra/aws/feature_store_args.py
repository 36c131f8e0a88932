"""Settings of the AWS FeatureStore: feature groups, their features, and the offline store's lifecycle.

Every rule SageMaker would reject at deploy time (after minutes of waiting) is checked here,
before anything is registered, with the failing field in the error's location.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from mlops_infra.aws.arns import KmsKeyArn
from mlops_infra.aws.secure_bucket import MIN_DAYS_BEFORE_IA, check_transition_order
from mlops_infra.spec.base import Spec as ComponentArgs
from mlops_infra.spec.base import Switch

# SageMaker CreateFeatureGroup API limits.
FEATURE_NAME_PATTERN = r"^[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}$"
MAX_FEATURES = 2500
# Columns SageMaker adds to every offline-store table; a feature may not reuse them (any case).
RESERVED_FEATURE_NAMES = frozenset({"is_deleted", "write_time", "api_invocation_time"})
# The logical group name becomes part of a 64-character physical name ({project}-{env}-{store}-{group}).
GROUP_NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$"
MAX_GROUP_NAME = 40

FeatureType = Literal["Integral", "Fractional", "String"]
TableFormat = Literal["Glue", "Iceberg"]
TtlUnit = Literal["Seconds", "Minutes", "Hours", "Days", "Weeks"]

# Fractional identifiers compare floats for equality; SageMaker allows it, we do not.
RECORD_IDENTIFIER_TYPES: frozenset[str] = frozenset({"Integral", "String"})
# SageMaker: String holds an ISO-8601 timestamp, Fractional a Unix time in seconds.
EVENT_TIME_TYPES: frozenset[str] = frozenset({"String", "Fractional"})


class FeatureDefinition(ComponentArgs):
    """One feature (column) of a feature group."""

    name: str = Field(
        pattern=FEATURE_NAME_PATTERN,
        description="1-64 characters: letters, digits, '-' and '_', starting and ending alphanumeric.",
    )
    type: FeatureType = Field(description="SageMaker feature type: Integral, Fractional or String.")

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        if name.lower() in RESERVED_FEATURE_NAMES:
            raise ValueError(f"{name!r} is a column SageMaker adds to every offline table; rename the feature")
        return name


class OnlineTtl(ComponentArgs):
    """How long a record stays in the online store after its event time (ExpiresAt = EventTime + TTL)."""

    unit: TtlUnit = Field(description="Seconds, Minutes, Hours, Days or Weeks.")
    value: int = Field(ge=1, description="Number of units.")


class FeatureGroupDefinition(ComponentArgs):
    """A feature group. Field order matters: later fields are checked against earlier ones."""

    name: str = Field(
        min_length=1,
        max_length=MAX_GROUP_NAME,
        pattern=GROUP_NAME_PATTERN,
        description="Logical name; physical name {project}-{env}-{store}-{name}. Changing it replaces the group.",
    )
    description: str | None = Field(None, min_length=1, max_length=128)
    features: list[FeatureDefinition] = Field(min_length=1, max_length=MAX_FEATURES)
    entity_key: str = Field(description="Feature that identifies a record (Integral or String).")
    event_time: str = Field(description="Feature holding the event time (String ISO-8601 or Fractional epoch seconds).")
    online: Switch = Field(True, description="Serve the latest record per identifier at low latency.")
    online_ttl: OnlineTtl | None = Field(None, description="Hard-delete online records this long after event time.")
    offline_store: Switch = Field(True, description="Append every record to the offline (S3) store for training.")
    table_format: TableFormat = Field("Glue", description="Offline table format in the Glue catalog: Glue or Iceberg.")

    @field_validator("features")
    @classmethod
    def _unique_features(cls, features: list[FeatureDefinition]) -> list[FeatureDefinition]:
        # Athena and Glue column names are case-insensitive, so "Age" and "age" would collide offline.
        duplicates = _repeated([f.name for f in features])
        if duplicates:
            raise ValueError(f"feature names must be unique (ignoring case); repeated: {duplicates}")
        return features

    @field_validator("entity_key")
    @classmethod
    def _identifier_is_a_feature(cls, name: str, info: ValidationInfo) -> str:
        return _check_feature_ref(name, info, RECORD_IDENTIFIER_TYPES)

    @field_validator("event_time")
    @classmethod
    def _event_time_is_a_feature(cls, name: str, info: ValidationInfo) -> str:
        return _check_feature_ref(name, info, EVENT_TIME_TYPES)

    @field_validator("online_ttl")
    @classmethod
    def _ttl_needs_online(cls, ttl: OnlineTtl | None, info: ValidationInfo) -> OnlineTtl | None:
        if ttl is not None and info.data.get("online") is False:
            raise ValueError("online_ttl needs online=True")
        return ttl

    @field_validator("offline_store")
    @classmethod
    def _some_store(cls, offline: bool, info: ValidationInfo) -> bool:
        if not offline and info.data.get("online") is False:
            raise ValueError("enable at least one of online and offline_store")
        return offline


def _repeated(names: list[str]) -> list[str]:
    """Names that occur more than once when case is ignored."""
    counts = Counter(name.lower() for name in names)
    return sorted({name for name in names if counts[name.lower()] > 1})


def _check_feature_ref(name: str, info: ValidationInfo, allowed: frozenset[str]) -> str:
    """``name`` must be one of the group's features, of an ``allowed`` type."""
    features: list[FeatureDefinition] | None = info.data.get("features")
    if features is None:  # the features themselves were invalid; that error is already reported
        return name
    types = {f.name: f.type for f in features}
    if name not in types:
        raise ValueError(f"{name!r} is not one of the group's features {sorted(types)}")
    if types[name] not in allowed:
        raise ValueError(f"feature {name!r} is {types[name]}; it must be one of {sorted(allowed)}")
    return name


class FeatureStoreArgs(ComponentArgs):
    """Settings of a FeatureStore: an encrypted offline bucket, a Glue database, a role, feature groups."""

    kms_key_arn: KmsKeyArn | None = Field(
        None, description="Customer-managed key for the bucket and every store; default: the platform key."
    )
    feature_groups: list[FeatureGroupDefinition] = Field(default_factory=list)
    offline_transition_to_ia_days: int | None = Field(
        90, ge=MIN_DAYS_BEFORE_IA, le=36500, description="Days before offline data moves to STANDARD_IA; None: never."
    )
    offline_transition_to_glacier_ir_days: int | None = Field(
        365, ge=1, le=36500, description="Days before offline data moves to GLACIER_IR; None: never."
    )
    offline_noncurrent_version_expiration_days: int | None = Field(
        90, ge=1, le=36500, description="Days an overwritten or deleted offline object version is kept; None: forever."
    )
    database_description: str = Field(
        "SageMaker Feature Store offline tables",
        min_length=1,
        max_length=2048,
        description="Glue database description.",
    )

    @field_validator("feature_groups")
    @classmethod
    def _unique_groups(cls, groups: list[FeatureGroupDefinition]) -> list[FeatureGroupDefinition]:
        # Physical names are case-sensitive in SageMaker but Glue table names are lowercased.
        duplicates = _repeated([g.name for g in groups])
        if duplicates:
            raise ValueError(f"feature group names must be unique (ignoring case); repeated: {duplicates}")
        return groups

    @field_validator("offline_transition_to_glacier_ir_days")
    @classmethod
    def _after_ia(cls, days: int | None, info: ValidationInfo) -> int | None:
        check_transition_order(info.data.get("offline_transition_to_ia_days"), days)
        return days
