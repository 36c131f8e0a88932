"""Off-hours for KServe: CronJobs take the predictors' floor to zero at 20:00 and back at 07:00 on weekdays.

The CronJobs' Role may get and patch the named InferenceServices only; the pods are hardened and reach only DNS
and the API server. Plan it offline:  mlops-infra plan examples/k8s/off_hours.py --config environment=dev
"""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.k8s import AlertRouting, Tenancy
from mlops_infra.k8s.off_hours import OffHours
from mlops_infra.k8s.spend_budget import SpendBudget

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

team = Tenancy("team", {"team": "churn-ml"})
off_hours = OffHours(
    "off-hours",
    {
        "namespace": team.namespace_name,
        "stop": {"cron": "0 20 * * 1-5", "time_zone": "Europe/Berlin"},
        "start": {"cron": "0 7 * * 1-5", "time_zone": "Europe/Berlin"},
        "floors": {"churn-dev-scoring": 1},
    },
)
pulumi.export("schedules", [f"{off_hours.base}-stop", f"{off_hours.base}-start"])

# Every stack that runs workloads declares a spend budget (policy budget-required).
SpendBudget("spend", {"namespace": team.namespace_name, "monthly_limit_usd": 50, "alert_at_percent": [80, 100]})
# Who hears the budget's alerts (policy alert-routing).
AlertRouting("alerts", {"namespace": team.namespace_name, "emails": ["ml-oncall@example.com"]})
