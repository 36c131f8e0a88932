"""The churn-prediction platform on Kubernetes, in one team namespace.

Tenancy (quota incl. GPUs, LimitRange, default-deny network, persona RBAC), Feast (Redis
online store, S3 registry and offline store), MLflow behind oauth2-proxy with PostgreSQL,
scheduled + on-demand training (Argo when ``argoEnabled``, else CronJobs), the KServe
endpoint (canary in protected environments, scale to zero in dev, data capture) and its
Prometheus alerts, whose drift alert names the training trigger, and the namespace's spend budget
(``monthlyBudgetUsd``, alerting from OpenCost's cost metrics).

Plan it offline: ``mlops-infra plan stacks/k8s-kserve --stack prod``.
"""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.k8s import Endpoint, FeatureStore, ModelRegistry, Monitoring, Tenancy, TrainingPipeline
from mlops_infra.k8s.spend_budget import SpendBudget

platform = init_platform()
config = pulumi.Config()
protected = platform.protected
team = config.get("team") or "churn-ml"
bucket = config.require("dataBucket")
identity = {"eks.amazonaws.com/role-arn": f"arn:aws:iam::123456789012:role/{bucket}-workloads"}

tenancy = Tenancy(
    "team",
    {
        "team": team,
        "quota": {"gpus": config.get_int("gpuQuota") or 1, "requests_cpu": "32", "limits_cpu": "64"},
        "groups": {
            "data_scientists": [f"{team}-data-scientists"],
            "ml_engineers": [f"{team}-ml-engineers"],
            "viewers": [f"{team}-viewers", "ml-platform-auditors"],
        },
    },
)
namespace = tenancy.namespace_name

features = FeatureStore(
    "features",
    {
        "namespace": namespace,
        "feast_project": "churn",
        "entities": [{"name": "customer", "join_key": "customer_id", "description": "A subscriber"}],
        "feature_views": [
            {
                "name": "customer_profile",
                "entities": ["customer"],
                "source": "customer_profile/",
                "timestamp_field": "event_time",
                "ttl_days": 365,
                "features": {"tenure_months": "Int64", "monthly_charges": "Float64"},
            }
        ],
        "registry": {"uri": f"s3://{bucket}/feast/registry.db"},
        "offline_store": {"uri": f"s3://{bucket}/feast/offline"},
        "redis_password": config.require_secret("redisPassword"),
        "service_account_annotations": identity,
    },
)

registry = ModelRegistry(
    "registry",
    {
        "namespace": namespace,
        "artifact_store": {"uri": f"s3://{bucket}/mlflow"},
        "postgres_password": config.require_secret("postgresPassword"),
        "auth": {
            "oidc_issuer_url": config.require("oidcIssuerUrl"),
            "client_id": f"mlflow-{platform.environment}",
            "client_secret": config.require_secret("oidcClientSecret"),
            "cookie_secret": config.require_secret("cookieSecret"),
            "allowed_groups": [f"{team}-data-scientists", f"{team}-ml-engineers"],
        },
        "service_account_annotations": identity,
    },
)

training = TrainingPipeline(
    "training",
    {
        "namespace": namespace,
        "image": "ghcr.io/acme/churn-train:1.8.3",
        "command": ["python", "-m", "churn.train"],
        "args": ["--features", "customer_profile", "--register-as", "churn"],
        "env": {"MLFLOW_TRACKING_URI": registry.tracking_uri, "FEAST_FEATURE_SERVER_URL": features.feature_server_url},
        "schedule": {"cron": "0 3 * * 1", "time_zone": "Europe/Berlin"},
        "argo_enabled": config.get_bool("argoEnabled") or False,
        "resources": {
            "cpu_request": "4",
            "cpu_limit": "8",
            "memory_request": "16Gi",
            "memory_limit": "32Gi",
            "gpus": config.get_int("trainingGpus") or 0,
        },
        "service_account_annotations": identity,
    },
)

endpoint = Endpoint(
    "churn",
    {
        "namespace": namespace,
        "model_format": "sklearn",
        "storage_uri": config.require("modelUri"),
        "protocol_version": "v2",
        "canary_percent": 10 if protected else None,
        "min_replicas": 2 if protected else 0,
        "max_replicas": 10 if protected else 2,
        "scale_metric": "concurrency",
        "scale_target": 20,
        "logger": {
            "url": f"http://broker-ingress.knative-eventing.svc.cluster.local/{tenancy.physical_namespace}/capture",
            "mode": "all",
        },
        "service_account_annotations": identity,
    },
)

monitoring = Monitoring(
    "churn-monitoring",
    {
        "namespace": namespace,
        "endpoint_name": endpoint.isvc_name,
        "drift_metric": "churn_feature_psi",
        "drift_threshold": 0.25,
        "p95_latency_ms": 300,
        "retrain_trigger": f"{training.trigger_kind}/{training.trigger_name}",
        "selector_labels": {"release": "kube-prometheus-stack"},
    },
)

# The namespace's monthly spend, priced by OpenCost, alerting at 80/90/100 % of the budget (policy
# budget-required: a stack that runs Kubernetes workloads declares a spend budget).
SpendBudget(
    "spend",
    {
        "namespace": namespace,
        "monthly_limit_usd": config.require_float("monthlyBudgetUsd"),
        "alert_at_percent": [80, 90, 100],
        "selector_labels": {"release": "kube-prometheus-stack"},
    },
)

pulumi.export("namespace", namespace)
pulumi.export("endpoint_url", endpoint.url)
pulumi.export("feature_server_url", features.feature_server_url)
pulumi.export("mlflow_ui_url", registry.ui_url)
pulumi.export("retrain_trigger", f"{training.trigger_kind}/{training.trigger_name}")
