"""Churn prediction on GCP Vertex AI: the whole MLOps loop in one Pulumi program.

Features land in BigQuery (CMEK) and serve online through a private feature store; a weekly
Cloud Scheduler job retrains with the built-in kfp pipeline, which registers a candidate
(``challenger``) only when its AUC meets the threshold; the approved version (``champion``) is
served by a private endpoint with request logging, stepped rollouts and alert policies.

The operations loop (docs/operations-loop-gcp.md): alerts reach people by severity through
notification channels (config ``alerts``: PagerDuty for critical, Slack for warnings, e-mail for both;
secrets named, set with ``pulumi config set --secret``); an hourly drift check compares the logged
requests with the training table and starts the training pipeline on drift (config ``drift``, on in
protected environments); rollouts roll back when the error rate or p95 latency breaches the alert
thresholds (config ``endpoint.rollbackOnAlerts``, on in protected environments); one dashboard.
"""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.gcp import (
    Budget,
    BudgetAlerts,
    Endpoint,
    FeatureStore,
    ModelRegistry,
    TrainingPipeline,
    shared_platform_key,
)
from mlops_infra.gcp.audit_logs import AuditLogs
from mlops_infra.gcp.dashboard import operations_dashboard
from mlops_infra.gcp.drift import DriftRetraining
from mlops_infra.gcp.notification_channels import AlertChannels
from mlops_infra.gcp.project import configured_region, project_id
from mlops_infra.gcp.training_alerts import training_failure_policy
from mlops_infra.spec.alerts import AlertsSpec
from mlops_infra.spec.base import field_error
from mlops_infra.spec.monitoring import DriftSpec

platform = init_platform()
config = pulumi.Config()
region = configured_region()
endpoint_settings = config.get_object("endpoint") or {}
_ENDPOINT_KEYS = {
    "machineType",
    "minReplicas",
    "maxReplicas",
    "samplingPercent",
    "notificationChannels",
    "rollbackOnAlerts",
}
if unknown := sorted(set(endpoint_settings) - _ENDPOINT_KEYS):
    raise ValueError(f"config key {config.name}:endpoint has unknown keys {unknown}; known: {sorted(_ENDPOINT_KEYS)}")
# Who hears the alerts (the platform spec's alerts section); validated, and its secrets checked, first.
alerts_spec = AlertsSpec.model_validate(config.get_object("alerts") or {})
# Drift monitoring: on in protected environments unless config `drift` says `enabled: false`.
drift_settings = dict(config.get_object("drift") or {})
drift_enabled = bool(drift_settings.pop("enabled", platform.protected))
drift_spec = DriftSpec.model_validate({"features": ["tenure_months", "monthly_charges"], **drift_settings})
NUMERIC_FEATURES = {"tenure_months", "monthly_charges"}
# Alert (and roll back) when over 5 % of predictions fail or p95 latency exceeds 1 s for 5 one-minute periods.
ENDPOINT_ALERTS = {"error_rate_percent": 5, "p95_latency_ms": 1000}
# Extra channel names (projects/P/notificationChannels/ID) notified of every alert, created elsewhere.
external_channels: list[str] = list(endpoint_settings.get("notificationChannels", []))
rollback_on_alerts = bool(endpoint_settings.get("rollbackOnAlerts", platform.protected))
sampling_percent = float(endpoint_settings.get("samplingPercent", 100))
if drift_enabled and sampling_percent <= 0:
    raise field_error(
        "StackConfig",
        (f"{config.name}:endpoint", "samplingPercent"),
        "drift is measured on the logged requests: samplingPercent must be above 0 (or set drift.enabled false)",
        sampling_percent,
    )

key = shared_platform_key(region)

alerts = AlertChannels("alerts", {"alerts": alerts_spec, "required": platform.protected})
critical_channels = [*alerts.names("critical"), *external_channels]
warning_channels = [*alerts.names("warning"), *external_channels]

features = FeatureStore(
    "features",
    {
        "feature_groups": [
            {
                "name": "customer",
                "table": "customer_features",
                "entity_id_columns": ["customer_id"],
                "columns": [
                    {"name": "customer_id", "type": "STRING", "mode": "REQUIRED"},
                    {"name": "event_time", "type": "TIMESTAMP", "mode": "REQUIRED"},
                    {"name": "tenure_months", "type": "INT64"},
                    {"name": "monthly_charges", "type": "FLOAT64"},
                    {"name": "churned", "type": "BOOL"},
                ],
                "partition_column": "event_time",
                "features": [
                    {"name": "tenure_months", "description": "Months since the customer signed up"},
                    {"name": "monthly_charges", "description": "Current monthly bill, USD"},
                    {"name": "churned", "description": "Label: the customer left within 30 days"},
                ],
            }
        ],
        "online_store": config.get_object("onlineStore") or {},
        "feature_views": [{"name": "churn_serving", "features": {"customer": ["tenure_months", "monthly_charges"]}}],
    },
)

registry = ModelRegistry(
    "registry",
    {
        "models": [
            {
                "name": "churn",
                "artifact_uri": config.require("modelArtifactUri"),
                "serving_image": config.require("servingImage"),
                "aliases": config.get_object("modelAliases") or ["challenger"],
                "predict_route": "/predict",
                "health_route": "/health",
                "port": 8080,
                "description": "Customer churn classifier",
            }
        ],
        "keep_image_versions": 20,
    },
)

training_source = pulumi.Output.concat("bq://", project_id(), ".", features.dataset_id, ".customer_features")
training = TrainingPipeline(
    "training",
    {
        "spec": {
            "kind": "template",
            "name": "churn-training",
            "image": config.require("trainerImage"),
            "metric_name": "auc",
            "metric_threshold": float(config.get("metricThreshold") or 0.8),
        },
        "parameter_values": {
            "source_uri": training_source,
            "parent_model": registry.model_name("churn"),
            "serving_image": config.require("servingImage"),
            "model_alias": "challenger",
        },
        "schedule": {"cron": config.get("retrainCron") or "0 3 * * 1", "time_zone": "Etc/UTC"},
        "read_datasets": [features.dataset_id],
        "write_buckets": [registry.models_bucket_name],
        "image_repositories": [registry.image_repository.repository_id],
    },
)

endpoint = Endpoint(
    "churn",
    {
        "deployments": [
            {
                "key": "primary",
                "model": registry.model_name("churn"),
                "alias": "champion",
                "revision": registry.models["churn"].version_id,
                "machine_type": endpoint_settings.get("machineType", "n1-standard-4"),
                "min_replicas": int(endpoint_settings.get("minReplicas", 1)),
                "max_replicas": int(endpoint_settings.get("maxReplicas", 2)),
            }
        ],
        # Share of requests logged, percent (0-100), as on every cloud.
        "request_logging": {"sampling_percent": sampling_percent},
        # After each canary stage's bake time, roll back when the thresholds below are breached.
        "rollback_on_alerts": rollback_on_alerts,
        "alerts": {
            **ENDPOINT_ALERTS,
            "period_seconds": 60,
            "evaluation_periods": 5,
            "datapoints_to_alarm": 5,
            "severity_channels": {"critical": critical_channels, "warning": warning_channels},
        },
    },
)

# Drift -> retraining without a person: the hourly check compares the logged requests with the training
# table and, beyond a feature's threshold, submits the same CMEK pipeline job the weekly schedule posts.
drift = None
if drift_enabled and endpoint.logging_dataset is not None and endpoint.logging_table is not None:
    logs = endpoint.logging_dataset.dataset_id
    drift = DriftRetraining(
        "drift",
        {
            "region": region,
            "schedule": drift_spec.schedule,
            "threshold": drift_spec.threshold,
            "features": [
                {"name": f, "numeric": f in NUMERIC_FEATURES, "threshold": drift_spec.threshold_for(f)}
                for f in drift_spec.features
            ],
            "baseline_table": pulumi.Output.concat(project_id(), ".", features.dataset_id, ".customer_features"),
            "baseline_time_column": "event_time",
            "logging_tables": [endpoint.logging_table],
            "read_datasets": [features.dataset_id, logs],
            "pipeline_job": training.job_body,
            "pipeline_service_account": training.service_account_email,
            "notification_channels": warning_channels,
        },
    )

# After the drift workflow, which keeps the Workflows agent's key grant it always had.
# Cloud Billing notifies e-mail channels only: everyone else hears the budget through its topic, by severity.
budget_routes = BudgetAlerts(
    "budget-alerts", {"region": region, "critical_channels": critical_channels, "warning_channels": warning_channels}
)
budget = Budget(
    "platform",
    {
        "billing_account": config.require("billingAccount"),
        "monthly_limit": config.require_int("monthlyBudget"),
        "notification_channels": alerts.channels.budget_names(),
        "pubsub_topic": budget_routes.topic_id,
    },
    opts=pulumi.ResourceOptions(depends_on=[budget_routes]),
)

training_failure_policy(
    "training-failed",
    display_name=f"{platform.environment} churn training failed",
    scheduler_jobs=[training.scheduler_job.name] if training.scheduler_job is not None else [],
    notification_channels=warning_channels,
    labels=platform.gcp_labels,
    opts=pulumi.ResourceOptions(),
)

operations_dashboard(
    "operations",
    {
        "title": f"churn-gcp {platform.environment} operations",
        "endpoints": [{"name": "churn", "endpoint_id": endpoint.endpoint_id, **ENDPOINT_ALERTS}],
        "drift_metric_type": drift.metric_type if drift is not None else None,
        "budget": {
            "monthly_limit": config.require_int("monthlyBudget"),
            "alert_at_percent": [80, 90, 100],
            "notified": ", ".join([*alerts_spec.receivers("warning"), "billing account administrators"]),
        },
    },
    opts=pulumi.ResourceOptions(),
)

# Who read or changed the platform's data and models: Data Access audit logs (policy audit-logging).
if platform.protected:
    AuditLogs("audit")

pulumi.export("environment", platform.environment)
pulumi.export("kmsKey", key.key_name)
pulumi.export("offlineStoreDataset", features.dataset_id)
pulumi.export("modelsBucket", registry.models_bucket_name)
pulumi.export("servingImageRepository", registry.repository_url)
pulumi.export("trainingServiceAccount", training.service_account_email)
pulumi.export("pipelineRoot", training.pipeline_root)
pulumi.export("endpoint", endpoint.resource_name)
pulumi.export("driftWorkflow", drift.workflow_name if drift is not None else None)
