"""Example: a private Vertex AI endpoint serving the approved (champion) churn model, with a canary,
and its operations loop: request logs are checked hourly for drift, and a drift starts the training pipeline."""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.gcp import Budget, DriftRetraining, Endpoint, TrainingPipeline
from mlops_infra.gcp.audit_logs import AuditLogs
from mlops_infra.gcp.notification_channels import AlertChannels

platform = init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
region = pulumi.Config("gcp").get("region") or "us-central1"
project = pulumi.Config("gcp").get("project") or "acme-ml"
model = f"projects/{project}/locations/{region}/models/churn-dev-churn"
features_dataset = "churn_dev_features"
trainer = "us-central1-docker.pkg.dev/acme-ml/images/churn-trainer@sha256:" + "3" * 64

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

# The retraining a drift starts: the built-in template registers a "challenger" version when it beats the
# metric; promoting it to "champion" stays a person's decision (docs/approval-to-rollout.md).
training = TrainingPipeline(
    "training",
    {
        "region": region,
        "spec": {"kind": "template", "name": "churn-training", "image": trainer, "metric_threshold": 0.8},
        "parameter_values": {
            "source_uri": f"bq://{project}.{features_dataset}.customer_features",
            "parent_model": model,
            "serving_image": "us-central1-docker.pkg.dev/acme-ml/images/churn-serving:1.4.0",
        },
        "read_datasets": [features_dataset],
    },
)

# Drift -> retraining without a person (policy monitoring-required in staging and prod): every hour the logged
# requests of the last day are compared with the training table; beyond a feature's threshold (distance 0-1)
# the check logs the drift, notifies the warning channels and submits the training pipeline job.
if endpoint.logging_dataset is not None and endpoint.logging_table is not None:
    logs = endpoint.logging_dataset.dataset_id
    DriftRetraining(
        "drift",
        {
            "region": region,
            "schedule": {"cron": "0 * * * *", "time_zone": "Etc/UTC"},
            "threshold": 0.2,
            "features": [
                {"name": "tenure_months", "numeric": True},
                {"name": "monthly_charges", "numeric": True, "threshold": 0.1},
                {"name": "contract_type", "numeric": False},
            ],
            "baseline_table": f"{project}.{features_dataset}.customer_features",
            "baseline_time_column": "event_time",
            "logging_tables": [endpoint.logging_table],
            "read_datasets": [features_dataset, logs],
            "pipeline_job": training.job_body,
            "pipeline_service_account": training.service_account_email,
            "notification_channels": channels.names("warning"),
        },
    )

# Every stack declares a budget (policy budget-required).
Budget("example", {"billing_account": "01A2B3-C4D5E6-F7A8B9", "monthly_limit": 2000})

# Prod records who read or wrote the stack's data and models (policy audit-logging).
if platform.protected:
    AuditLogs("audit")

pulumi.export("endpoint", endpoint.resource_name)
pulumi.export("loggingTable", endpoint.logging_table)
