"""Example: a private Vertex AI endpoint serving the approved (champion) churn model, with a canary."""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.gcp import Budget, Endpoint
from mlops_infra.gcp.notification_channels import AlertChannels

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
region = pulumi.Config("gcp").get("region") or "us-central1"
model = f"projects/acme-ml/locations/{region}/models/churn-dev-churn"

# Who hears the alert policies (policy alert-routing): Cloud Monitoring notification channels by
# severity. Add "pagerduty" (critical) or "slack" (warnings) with their secret config keys, e.g.
# `pulumi config set --secret pagerdutyIntegrationKey <key>`.
channels = AlertChannels("alerts", {"alerts": {"emails": ["ml-oncall@example.com"]}})

endpoint = Endpoint(
    "churn",
    {
        "region": region,
        "deployments": [
            {"key": "blue", "model": model, "alias": "champion", "min_replicas": 1, "max_replicas": 3},
            {"key": "green", "model": model, "alias": "champion", "machine_type": "n1-standard-8"},
        ],
        # Applied in order on every change of the rollout: 10% canary, then half, then all.
        "traffic_steps": [{"blue": 90, "green": 10}, {"blue": 50, "green": 50}, {"green": 100}],
        "request_logging": {"sampling_percent": 50, "table_expiration_days": 90},
        # After each step's bake time, roll traffic back when the thresholds below are breached.
        "rollback_on_alerts": True,
        # The error-rate policy is critical, the latency policy a warning: each notifies its severity's channels.
        "alerts": {
            "error_rate_percent": 2,
            "p95_latency_ms": 500,
            "severity_channels": {"critical": channels.names("critical"), "warning": channels.names("warning")},
        },
    },
)

# Every stack declares a budget (policy budget-required).
Budget("example", {"billing_account": "01A2B3-C4D5E6-F7A8B9", "monthly_limit": 2000})

pulumi.export("endpoint", endpoint.resource_name)
pulumi.export("loggingDataset", endpoint.logging_dataset.dataset_id if endpoint.logging_dataset else None)
