"""A team namespace with hard guardrails: quota (incl. 2 GPUs), LimitRange, default-deny network, persona RBAC.

Plan it offline:  mlops-infra plan examples/k8s/tenancy.py --config environment=prod
"""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.k8s import Tenancy

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

team = Tenancy(
    "team",
    {
        "team": "churn-ml",
        "quota": {"gpus": 2, "requests_cpu": "24", "limits_cpu": "48"},
        "groups": {
            "data_scientists": ["churn-ml-data-scientists"],
            "ml_engineers": ["churn-ml-ml-engineers"],
            "viewers": ["churn-ml-viewers"],
        },
        "service_accounts": ["notebooks"],
    },
)

pulumi.export("namespace", team.namespace_name)
