"""Vertex AI Experiments backed by a CMEK TensorBoard (the platform key, granted to the Vertex AI agent).

Plan it offline:  mlops-infra plan examples/gcp/experiment_tracking.py --config gcp:project=churn-ml-prod
"""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.gcp import Budget
from mlops_infra.gcp.audit_logs import AuditLogs
from mlops_infra.gcp.tensorboard import ExperimentTracking

platform = init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

tracking = ExperimentTracking("tracking", {"region": "europe-west4", "experiment": "churn"})
pulumi.export("tensorboard", tracking.tensorboard_name)

# Every stack declares its budget (policy: budget-required).
Budget("platform", {"billing_account": "01A2B3-C4D5E6-F7A8B9", "monthly_limit": 300})

# Prod records who read or wrote the stack's data and models (policy audit-logging).
if platform.protected:
    AuditLogs("audit")
