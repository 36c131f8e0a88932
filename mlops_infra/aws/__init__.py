"""AWS SageMaker components (type tokens ``mlops-infra:aws:<Name>``)."""

from mlops_infra.aws.alert_topic import AlertTopic, AlertTopicArgs
from mlops_infra.aws.batch_transform import BatchTransform, BatchTransformArgs
from mlops_infra.aws.budget import Budget, BudgetArgs
from mlops_infra.aws.endpoint import Endpoint
from mlops_infra.aws.endpoint_args import EndpointArgs
from mlops_infra.aws.feature_store import FeatureStore
from mlops_infra.aws.feature_store_args import FeatureStoreArgs
from mlops_infra.aws.model_registry import ModelRegistry, ModelRegistryArgs
from mlops_infra.aws.platform_key import PlatformKey, PlatformKeyArgs, key_arn_or_shared, shared_platform_key
from mlops_infra.aws.secure_bucket import SecureBucket, SecureBucketArgs
from mlops_infra.aws.training_pipeline import TrainingPipeline, TrainingPipelineArgs

__all__ = [
    "AlertTopic",
    "AlertTopicArgs",
    "BatchTransform",
    "BatchTransformArgs",
    "Budget",
    "BudgetArgs",
    "Endpoint",
    "EndpointArgs",
    "FeatureStore",
    "FeatureStoreArgs",
    "ModelRegistry",
    "ModelRegistryArgs",
    "PlatformKey",
    "PlatformKeyArgs",
    "SecureBucket",
    "SecureBucketArgs",
    "TrainingPipeline",
    "TrainingPipelineArgs",
    "key_arn_or_shared",
    "shared_platform_key",
]
