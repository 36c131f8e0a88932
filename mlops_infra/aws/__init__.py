"""AWS SageMaker components (type tokens ``mlops-infra:aws:<Name>``)."""

from mlops_infra.aws.platform_key import PlatformKey, PlatformKeyArgs, key_arn_or_shared, shared_platform_key

__all__ = ["PlatformKey", "PlatformKeyArgs", "key_arn_or_shared", "shared_platform_key"]
