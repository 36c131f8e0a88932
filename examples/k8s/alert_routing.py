"""Who hears the churn namespace's alerts, by severity: critical pages PagerDuty, warnings go to Slack,
both are e-mailed to the ML team (latency, errors, drift, quota use).

Plan it offline:  mlops-infra plan examples/k8s/alert_routing.py --config environment=prod
Set the receivers' secrets first:
  pulumi config set --secret pagerdutyIntegrationKey ...; pulumi config set --secret slackWebhookUrl ...
They land in a Secret the AlertmanagerConfig references, never in the config itself. The SMTP relay
is the cluster Alertmanager's global setting: no e-mail credential appears here.
"""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.k8s import AlertRouting, QuotaAlerts

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
config = pulumi.Config()
selector = {"release": "kube-prometheus-stack"}


def secret(key: str) -> pulumi.Output[str]:
    # Example fallback only: real stacks use `pulumi config set --secret KEY` (or receiver_secrets()).
    return config.get_secret(key) or pulumi.Output.secret(f"example-only-{key}")


routing = AlertRouting(
    "alerts",
    {
        "namespace": "churn-ml",
        "pagerduty": {"routing_key": secret("pagerdutyIntegrationKey")},  # severity=critical
        "slack": {"channel": "#churn-alerts", "webhook_url": secret("slackWebhookUrl")},  # severity=warning
        "emails": ["ml-platform@example.com", "ml-oncall@example.com"],  # both severities
        "selector_labels": selector,
    },
)

# Alerts at 80% and 100% of each ResourceQuota limit: a resource ceiling, not a dollar budget.
QuotaAlerts("quota-alerts", {"namespace": "churn-ml", "alert_at_percent": [80, 100], "selector_labels": selector})

pulumi.export("alertmanager_config", routing.config_name)
pulumi.export("receiver_secret", routing.secret_name)
