"""Churn prediction on GCP Vertex AI: the whole MLOps loop in one Pulumi program.

Features land in BigQuery (CMEK) and serve online through a private feature store; a weekly
Cloud Scheduler job retrains with the built-in kfp pipeline, which registers a candidate
(``challenger``) only when its AUC meets the threshold; the approved version (``champion``) is
served by a private endpoint with request logging, stepped rollouts and alert policies.
"""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.gcp import Budget, Endpoint, FeatureStore, ModelRegistry, TrainingPipeline, shared_platform_key
from mlops_infra.gcp.project import configured_region, project_id

platform = init_platform()
config = pulumi.Config()
region = configured_region()
endpoint_settings = config.get_object("endpoint") or {}
_ENDPOINT_KEYS = {"machineType", "minReplicas", "maxReplicas", "samplingPercent", "notificationChannels"}
if unknown := sorted(set(endpoint_settings) - _ENDPOINT_KEYS):
    raise ValueError(f"config key {config.name}:endpoint has unknown keys {unknown}; known: {sorted(_ENDPOINT_KEYS)}")

key = shared_platform_key(region)

budget = Budget(
    "platform",
    {
        "billing_account": config.require("billingAccount"),
        "monthly_limit": config.require_int("monthlyBudget"),
        "notification_channels": endpoint_settings.get("notificationChannels", []),
    },
)

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

# Share of requests logged, percent (0-100), as on every cloud.
sampling_percent = float(endpoint_settings.get("samplingPercent", 100))
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
        "request_logging": {"sampling_percent": sampling_percent},
        # Alert when over 5 % of predictions fail or p95 latency exceeds 1 s for 5 one-minute periods.
        "alerts": {
            "error_rate_percent": 5,
            "p95_latency_ms": 1000,
            "period_seconds": 60,
            "evaluation_periods": 5,
            "datapoints_to_alarm": 5,
            "notification_channels": endpoint_settings.get("notificationChannels", []),
        },
    },
)

pulumi.export("environment", platform.environment)
pulumi.export("kmsKey", key.key_name)
pulumi.export("offlineStoreDataset", features.dataset_id)
pulumi.export("modelsBucket", registry.models_bucket_name)
pulumi.export("servingImageRepository", registry.repository_url)
pulumi.export("trainingServiceAccount", training.service_account_email)
pulumi.export("pipelineRoot", training.pipeline_root)
pulumi.export("endpoint", endpoint.resource_name)
