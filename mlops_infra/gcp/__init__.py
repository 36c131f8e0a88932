"""GCP Vertex AI components (type tokens ``mlops-infra:gcp:<Name>``)."""

from mlops_infra.gcp.access import PlatformAccess, PlatformAccessArgs
from mlops_infra.gcp.audit_logs import AuditLogs, AuditLogsArgs
from mlops_infra.gcp.batch_prediction import BatchPrediction, BatchPredictionArgs
from mlops_infra.gcp.budget import Budget, BudgetArgs
from mlops_infra.gcp.budget_alerts import BudgetAlerts, BudgetAlertsArgs
from mlops_infra.gcp.deploy_webhook import DeployOnApproval, DeployOnApprovalArgs
from mlops_infra.gcp.drift import DriftRetraining, DriftRetrainingArgs
from mlops_infra.gcp.endpoint import DeploymentArgs, Endpoint, EndpointArgs
from mlops_infra.gcp.feature_store import FeatureStore, FeatureStoreArgs
from mlops_infra.gcp.model_registry import ModelRegistry, ModelRegistryArgs
from mlops_infra.gcp.notification_channels import AlertChannels, AlertChannelsArgs
from mlops_infra.gcp.off_hours import OffHours, OffHoursArgs, OffHoursEndpoint
from mlops_infra.gcp.platform_key import PlatformKey, PlatformKeyArgs, key_name_or_shared, shared_platform_key
from mlops_infra.gcp.secure_bucket import SecureBucket, SecureBucketArgs
from mlops_infra.gcp.tensorboard import ExperimentTracking, ExperimentTrackingArgs
from mlops_infra.gcp.training_pipeline import TrainingPipeline, TrainingPipelineArgs

__all__ = [
    "AlertChannels",
    "AlertChannelsArgs",
    "AuditLogs",
    "AuditLogsArgs",
    "BatchPrediction",
    "BatchPredictionArgs",
    "Budget",
    "BudgetAlerts",
    "BudgetAlertsArgs",
    "BudgetArgs",
    "DeployOnApproval",
    "DeployOnApprovalArgs",
    "DeploymentArgs",
    "DriftRetraining",
    "DriftRetrainingArgs",
    "Endpoint",
    "EndpointArgs",
    "ExperimentTracking",
    "ExperimentTrackingArgs",
    "FeatureStore",
    "FeatureStoreArgs",
    "ModelRegistry",
    "ModelRegistryArgs",
    "OffHours",
    "OffHoursArgs",
    "OffHoursEndpoint",
    "PlatformAccess",
    "PlatformAccessArgs",
    "PlatformKey",
    "PlatformKeyArgs",
    "SecureBucket",
    "SecureBucketArgs",
    "TrainingPipeline",
    "TrainingPipelineArgs",
    "key_name_or_shared",
    "shared_platform_key",
]
