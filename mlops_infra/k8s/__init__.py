"""The MLOps platform on any Kubernetes cluster: tenancy, Feast, training, MLflow, KServe or
Seldon Core v2, monitoring.

Every workload is built from :mod:`mlops_infra.k8s.workload` (the hardened pod spec), every
secret from :mod:`mlops_infra.k8s.secrets`, every name is explicit and stable.
"""

from mlops_infra.k8s.alert_routing import AlertRouting, AlertRoutingArgs
from mlops_infra.k8s.batch_inference import BatchInference, BatchInferenceArgs
from mlops_infra.k8s.canary_guard import CanaryGuard, CanaryGuardArgs
from mlops_infra.k8s.deploy_webhook import DeployWebhookPoller, DeployWebhookPollerArgs
from mlops_infra.k8s.drift_detector import DriftDetector, DriftDetectorArgs
from mlops_infra.k8s.endpoint import Endpoint, EndpointArgs, LoggerSettings
from mlops_infra.k8s.feature_store import FeatureServerSettings, FeatureStore, FeatureStoreArgs
from mlops_infra.k8s.kubeflow_pipeline import KubeflowTrainingPipeline, KubeflowTrainingPipelineArgs
from mlops_infra.k8s.model_registry import ModelRegistry, ModelRegistryArgs, OAuth2ProxySettings
from mlops_infra.k8s.monitoring import Monitoring, MonitoringArgs
from mlops_infra.k8s.off_hours import OffHours, OffHoursArgs
from mlops_infra.k8s.prerequisites import ClusterPrerequisites, ClusterPrerequisitesArgs
from mlops_infra.k8s.quota_alerts import QuotaAlerts, QuotaAlertsArgs
from mlops_infra.k8s.seldon import SeldonChallenger, SeldonEndpoint, SeldonEndpointArgs
from mlops_infra.k8s.spend_budget import SpendBudget, SpendBudgetArgs
from mlops_infra.k8s.storage_class import EncryptedStorageClass, EncryptedStorageClassArgs
from mlops_infra.k8s.tenancy import LimitRangeSettings, PersonaGroups, QuotaSettings, Tenancy, TenancyArgs
from mlops_infra.k8s.traffic_router import TrafficRouter, TrafficRouterArgs
from mlops_infra.k8s.training_pipeline import SecretRef, TrainingPipeline, TrainingPipelineArgs
from mlops_infra.k8s.workload import ComputeResources

__all__ = [
    "AlertRouting",
    "AlertRoutingArgs",
    "BatchInference",
    "BatchInferenceArgs",
    "CanaryGuard",
    "CanaryGuardArgs",
    "ClusterPrerequisites",
    "ClusterPrerequisitesArgs",
    "ComputeResources",
    "DeployWebhookPoller",
    "DeployWebhookPollerArgs",
    "DriftDetector",
    "DriftDetectorArgs",
    "EncryptedStorageClass",
    "EncryptedStorageClassArgs",
    "Endpoint",
    "EndpointArgs",
    "FeatureServerSettings",
    "FeatureStore",
    "FeatureStoreArgs",
    "KubeflowTrainingPipeline",
    "KubeflowTrainingPipelineArgs",
    "LimitRangeSettings",
    "LoggerSettings",
    "ModelRegistry",
    "ModelRegistryArgs",
    "Monitoring",
    "MonitoringArgs",
    "OAuth2ProxySettings",
    "OffHours",
    "OffHoursArgs",
    "PersonaGroups",
    "QuotaAlerts",
    "QuotaAlertsArgs",
    "QuotaSettings",
    "SecretRef",
    "SeldonChallenger",
    "SeldonEndpoint",
    "SeldonEndpointArgs",
    "SpendBudget",
    "SpendBudgetArgs",
    "Tenancy",
    "TenancyArgs",
    "TrafficRouter",
    "TrafficRouterArgs",
    "TrainingPipeline",
    "TrainingPipelineArgs",
]
