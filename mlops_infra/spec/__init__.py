"""The cloud-neutral platform spec: one vocabulary that AWS, GCP and Kubernetes all realize.

Intent only: nothing here imports a provider SDK. Value types (``Schedule``, ``Percent``,
``KeyRef``, ...) each have their one validator next to them; every cloud's component args
use them, so a concept has one name and one unit everywhere.
"""

from __future__ import annotations

from mlops_infra.spec.access import AccessSpec
from mlops_infra.spec.alerts import Alerts, AlertsSpec
from mlops_infra.spec.approval import Approval, ApprovalMode, DeployTrigger, DeployWebhook, ServedVersion
from mlops_infra.spec.audit import AuditSpec
from mlops_infra.spec.base import Spec, StrInput, Switch, field_error
from mlops_infra.spec.batch import BatchFormat, BatchInferenceSpec
from mlops_infra.spec.budget import BudgetSpec
from mlops_infra.spec.capture import DataCapture
from mlops_infra.spec.challenger import Challenger, ChallengerMode
from mlops_infra.spec.cloud import Cloud
from mlops_infra.spec.compute import SIZE_CLASSES, Compute, KubernetesResources, SizeClass
from mlops_infra.spec.endpoint import EndpointSpec, ModelFormat, ModelSpec
from mlops_infra.spec.environment import EnvironmentDefaults, environment_defaults
from mlops_infra.spec.feature_store import Feature, FeatureGroupSpec, FeatureStoreSpec, FeatureType
from mlops_infra.spec.images import Images
from mlops_infra.spec.invocation import Invocation, InvocationKind
from mlops_infra.spec.lifecycle import LifecycleSpec
from mlops_infra.spec.load import deep_merge, load_spec, platform_json_schema
from mlops_infra.spec.monitoring import DriftSpec, MonitoringSpec
from mlops_infra.spec.off_hours import OffHoursSpec
from mlops_infra.spec.platform import PlatformSpec
from mlops_infra.spec.registry import RegistrySpec
from mlops_infra.spec.rollout import Rollout, RolloutStrategy
from mlops_infra.spec.scaling import Scaling, ScalingMetric, ScalingTarget
from mlops_infra.spec.schedule import Schedule
from mlops_infra.spec.tracking import TrackingSize, TrackingSpec
from mlops_infra.spec.training import MetricDirection, MetricGate, Orchestrator, TrainingSpec
from mlops_infra.spec.types import Arn, Email, KeyRef, Name, ObjectUri, Percent, PinnedImage

__all__ = [
    "SIZE_CLASSES",
    "AccessSpec",
    "Alerts",
    "AlertsSpec",
    "Approval",
    "ApprovalMode",
    "Arn",
    "AuditSpec",
    "BatchFormat",
    "BatchInferenceSpec",
    "BudgetSpec",
    "Challenger",
    "ChallengerMode",
    "Cloud",
    "Compute",
    "DataCapture",
    "DeployTrigger",
    "DeployWebhook",
    "DriftSpec",
    "Email",
    "EndpointSpec",
    "EnvironmentDefaults",
    "Feature",
    "FeatureGroupSpec",
    "FeatureStoreSpec",
    "FeatureType",
    "Images",
    "Invocation",
    "InvocationKind",
    "KeyRef",
    "KubernetesResources",
    "LifecycleSpec",
    "MetricDirection",
    "MetricGate",
    "ModelFormat",
    "ModelSpec",
    "MonitoringSpec",
    "Name",
    "ObjectUri",
    "OffHoursSpec",
    "Orchestrator",
    "Percent",
    "PinnedImage",
    "PlatformSpec",
    "RegistrySpec",
    "Rollout",
    "RolloutStrategy",
    "Scaling",
    "ScalingMetric",
    "ScalingTarget",
    "Schedule",
    "ServedVersion",
    "SizeClass",
    "Spec",
    "StrInput",
    "Switch",
    "TrackingSize",
    "TrackingSpec",
    "TrainingSpec",
    "deep_merge",
    "environment_defaults",
    "field_error",
    "load_spec",
    "platform_json_schema",
]
