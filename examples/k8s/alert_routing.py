"""E-mail every alert of the churn namespace (latency, errors, drift, quota use) to the ML team.

Plan it offline:  mlops-infra plan examples/k8s/alert_routing.py --config environment=prod
The SMTP relay is the cluster Alertmanager's global setting: no credential appears here.
"""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.k8s import AlertRouting, QuotaAlerts

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
selector = {"release": "kube-prometheus-stack"}

routing = AlertRouting(
    "alerts",
    {
        "namespace": "churn-ml",
        "emails": ["ml-platform@example.com", "ml-oncall@example.com"],
        "selector_labels": selector,
    },
)

# Alerts at 80% and 100% of each ResourceQuota limit: a resource ceiling, not a dollar budget.
QuotaAlerts("quota-alerts", {"namespace": "churn-ml", "alert_at_percent": [80, 100], "selector_labels": selector})

pulumi.export("alertmanager_config", routing.config_name)
