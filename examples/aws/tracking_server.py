"""Experiment tracking: a SageMaker managed MLflow server, its KMS-encrypted artifact bucket and scoped role.

Plan it offline:  mlops-infra plan examples/aws/tracking_server.py --config environment=prod
"""

import pulumi

from mlops_infra.aws import PlatformKey
from mlops_infra.aws.audit_trail import AuditTrail
from mlops_infra.aws.budget import Budget
from mlops_infra.aws.tracking_server import TrackingServer
from mlops_infra.conventions import init_platform

platform = init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

# One platform key; in prod CloudTrail also encrypts the audit log files with it.
key = PlatformKey("platform", {"extra_key_users": ["cloudtrail.amazonaws.com"]} if platform.protected else None)
tracking = TrackingServer(
    "tracking",
    {
        "kms_key_arn": key.arn,
        "size": "small",
        # Models registered in MLflow become versions of this model package group.
        "model_package_group_name": "churn-dev-churn",
        "archive_after_days": 90,
    },
)
pulumi.export("trackingServerArn", tracking.server_arn)

Budget("example", {"kms_key_arn": key.arn, "monthly_limit_usd": 800})

# Prod records who called which API on the stack's data and models (policy audit-logging).
if platform.protected:
    AuditTrail("audit", {"kms_key_arn": key.arn, "data_bucket_arns": [tracking.artifact_bucket.arn]})
