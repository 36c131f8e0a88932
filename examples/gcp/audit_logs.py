"""Data Access audit logs (ADMIN_READ, DATA_READ, DATA_WRITE) for Vertex AI, BigQuery and Cloud Storage.

Plan it offline:  mlops-infra plan examples/gcp/audit_logs.py --config environment=prod \
    --config gcp:project=churn-ml-prod
"""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.gcp import Budget
from mlops_infra.gcp.audit_logs import AuditLogs

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

audit = AuditLogs("audit")

# Every stack declares a budget (policy budget-required).
Budget("example", {"billing_account": "01A2B3-C4D5E6-F7A8B9", "monthly_limit": 100})

pulumi.export("auditedServices", [c.service for c in audit.configs])
