"""AWS SageMaker components (type tokens ``mlops-infra:aws:<Name>``)."""

from mlops_infra.aws.alert_routing import AlertRouting, AlertRoutingArgs
from mlops_infra.aws.alert_topic import AlertTopic, AlertTopicArgs
from mlops_infra.aws.audit_trail import AuditTrail, AuditTrailArgs
from mlops_infra.aws.batch_transform import BatchTransform, BatchTransformArgs
from mlops_infra.aws.budget import Budget, BudgetArgs
from mlops_infra.aws.chatbot import SlackChatbot, SlackChatbotArgs
from mlops_infra.aws.cost_anomaly import CostAnomalyAlerts, CostAnomalyAlertsArgs
from mlops_infra.aws.dashboard import DashboardArgs, OperationsDashboard
from mlops_infra.aws.endpoint import Endpoint
from mlops_infra.aws.endpoint_args import EndpointArgs
from mlops_infra.aws.feature_store import FeatureStore
from mlops_infra.aws.feature_store_args import FeatureStoreArgs
from mlops_infra.aws.model_monitor import ModelMonitor, ModelMonitorArgs
from mlops_infra.aws.model_registry import ModelRegistry, ModelRegistryArgs
from mlops_infra.aws.persona_roles import PersonaRoles, PersonaRolesArgs
from mlops_infra.aws.platform_key import PlatformKey, PlatformKeyArgs, key_arn_or_shared, shared_platform_key
from mlops_infra.aws.secure_bucket import SecureBucket, SecureBucketArgs
from mlops_infra.aws.tracking_server import TrackingServer, TrackingServerArgs
from mlops_infra.aws.training_pipeline import TrainingPipeline, TrainingPipelineArgs

__all__ = [
    "AlertRouting",
    "AlertRoutingArgs",
    "AlertTopic",
    "AlertTopicArgs",
    "AuditTrail",
    "AuditTrailArgs",
    "BatchTransform",
    "BatchTransformArgs",
    "Budget",
    "BudgetArgs",
    "CostAnomalyAlerts",
    "CostAnomalyAlertsArgs",
    "DashboardArgs",
    "Endpoint",
    "EndpointArgs",
    "FeatureStore",
    "FeatureStoreArgs",
    "ModelMonitor",
    "ModelMonitorArgs",
    "ModelRegistry",
    "ModelRegistryArgs",
    "OperationsDashboard",
    "PersonaRoles",
    "PersonaRolesArgs",
    "PlatformKey",
    "PlatformKeyArgs",
    "SecureBucket",
    "SecureBucketArgs",
    "SlackChatbot",
    "SlackChatbotArgs",
    "TrackingServer",
    "TrackingServerArgs",
    "TrainingPipeline",
    "TrainingPipelineArgs",
    "key_arn_or_shared",
    "shared_platform_key",
]
