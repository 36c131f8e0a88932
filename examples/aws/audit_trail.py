"""The platform's audit trail: a multi-region, validated CloudTrail trail encrypted with the platform key.

It records every management event, object reads and writes in the data bucket, and SageMaker endpoint
and feature-store data events of this platform; log files move to GLACIER_IR after 180 days.

Plan it offline:  mlops-infra plan examples/aws/audit_trail.py --config environment=prod
"""

import pulumi

from mlops_infra.aws import PlatformKey, SecureBucket
from mlops_infra.aws.audit_trail import AuditTrail
from mlops_infra.aws.budget import Budget
from mlops_infra.conventions import init_platform

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

# CloudTrail may use the key only to encrypt this account's trails' log files.
key = PlatformKey("platform", {"extra_key_users": ["cloudtrail.amazonaws.com"]})
data = SecureBucket("training-data", {"purpose": "training-data", "kms_key_arn": key.arn})

trail = AuditTrail("audit", {"kms_key_arn": key.arn, "data_bucket_arns": [data.arn], "archive_after_days": 180})

Budget("example", {"kms_key_arn": key.arn, "monthly_limit_usd": 500})

pulumi.export("trailArn", trail.trail_arn)
pulumi.export("auditBucket", trail.bucket_name)
