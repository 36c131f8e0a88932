"""Example: a private, CMEK-encrypted, versioned GCS bucket (uses the stack's shared platform key)."""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.gcp import Budget, SecureBucket
from mlops_infra.gcp.audit_logs import AuditLogs

platform = init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
region = pulumi.Config("gcp").get("region") or "us-central1"

bucket = SecureBucket("datasets", {"region": region, "noncurrent_version_days": 30, "expire_objects_after_days": 365})

# Every stack declares a budget (policy budget-required).
Budget("example", {"billing_account": "01A2B3-C4D5E6-F7A8B9", "monthly_limit": 100})

# Prod records who read or wrote the stack's data and models (policy audit-logging).
if platform.protected:
    AuditLogs("audit")

pulumi.export("bucketName", bucket.bucket_name)
pulumi.export("bucketUrl", bucket.url)
