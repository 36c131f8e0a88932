"""The churn-prediction platform on Kubernetes, in one team namespace.

Tenancy (quota incl. GPUs, LimitRange, default-deny network, persona RBAC, a cert-manager CA),
Feast (TLS-only Redis online store, S3 registry and offline store), MLflow behind oauth2-proxy
with TLS-only PostgreSQL,
scheduled + on-demand training (Argo when ``argoEnabled``, else CronJobs; under Argo registered
into MLflow only when the gate passes), the KServe endpoint (canary in protected environments,
scale to zero in dev) whose logger posts to the DriftDetector, which exports the drift metric the
drift alert reads and starts retraining itself; the canary's CanaryGuard (protected environments);
the alerts routed by severity (``alerts``: PagerDuty, Slack, e-mail; an AlertmanagerConfig); and the
namespace's spend budget (``monthlyBudgetUsd``, alerting from OpenCost's cost metrics).

Plan it offline: ``mlops-infra plan stacks/k8s-kserve --stack prod``.
"""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.k8s import (
    AlertRouting,
    CanaryGuard,
    DriftDetector,
    EncryptedStorageClass,
    Endpoint,
    FeatureStore,
    ModelRegistry,
    Monitoring,
    Tenancy,
    TrainingPipeline,
)
from mlops_infra.k8s.alert_routing import receiver_secrets
from mlops_infra.k8s.spend_budget import SpendBudget, gpu_share_for
from mlops_infra.spec.alerts import AlertsSpec

platform = init_platform()
config = pulumi.Config()
training_gpus = config.get_int("trainingGpus") or 0
monthly_budget_usd = config.require_float("monthlyBudgetUsd")
protected = platform.protected
team = config.get("team") or "churn-ml"
bucket = config.require("dataBucket")
identity = {"eks.amazonaws.com/role-arn": f"arn:aws:iam::123456789012:role/{bucket}-workloads"}
prometheus = {"release": "kube-prometheus-stack"}
argo = config.get_bool("argoEnabled") or False
# Who hears the alerts, by severity (stack config `alerts`, the platform spec's AlertsSpec): its secret
# config keys are read here, before any resource is registered, so a missing key names itself.
alerts = AlertsSpec.model_validate(config.get_object("alerts") or {})
receivers = receiver_secrets(alerts)

# Every PVC (Redis, PostgreSQL) on a StorageClass encrypted with this KMS key (`volumeKmsKeyArn`; protected
# stacks set it, policy encryption-at-rest); without it, dev uses the cluster's default class.
volume_key = config.get("volumeKmsKeyArn")
volumes = EncryptedStorageClass("volumes", {"provisioner": "aws-ebs", "kms_key": volume_key}) if volume_key else None
storage_class = {"storage_class": volumes.class_name} if volumes else {}
after_volumes = pulumi.ResourceOptions(depends_on=[volumes] if volumes else [])

tenancy = Tenancy(
    "team",
    {
        "team": team,
        "holds_state": True,  # Redis and PostgreSQL volumes: protected with the namespace in staging/prod
        # The namespace's cert-manager CA: it signs Redis's and PostgreSQL's TLS certificates (TLS-only servers).
        "certificate_authority": True,
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
        "redis": storage_class,
        "tls": {"issuer": tenancy.tls_issuer},
        # Redis is filled from the offline store every hour, incrementally (feast materialize-incremental).
        "materialization": {"cron": "15 * * * *", "time_zone": "UTC"},
        "service_account_annotations": identity,
    },
    opts=after_volumes,
)

registry = ModelRegistry(
    "registry",
    {
        "namespace": namespace,
        "artifact_store": {"uri": f"s3://{bucket}/mlflow"},
        "postgres_password": config.require_secret("postgresPassword"),
        "postgres": storage_class,
        "tls": {"issuer": tenancy.tls_issuer},
        "auth": {
            "oidc_issuer_url": config.require("oidcIssuerUrl"),
            "client_id": f"mlflow-{platform.environment}",
            "client_secret": config.require_secret("oidcClientSecret"),
            "cookie_secret": config.require_secret("cookieSecret"),
            "allowed_groups": [f"{team}-data-scientists", f"{team}-ml-engineers"],
        },
        "service_account_annotations": identity,
    },
    opts=after_volumes,
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
        "argo_enabled": argo,
        "resources": {
            "cpu_request": "4",
            "cpu_limit": "8",
            "memory_request": "16Gi",
            "memory_limit": "32Gi",
            "gpus": training_gpus,
        },
        "service_account_annotations": identity,
        # Under Argo: train -> evaluate -> register into MLflow only when AUC >= 0.8.
        **(
            {
                "gate": {
                    "metric": "auc",
                    "threshold": 0.8,
                    "tracking_uri": registry.tracking_uri,
                    "registered_model": "churn",
                    "approval_mode": "manual" if protected else "automatic",
                }
            }
            if argo
            else {}
        ),
    },
)
trigger = f"{training.trigger_kind}/{training.trigger_name}"

# The capture sink: KServe's logger posts every request/response here; it exports the drift per
# feature as model_feature_drift_score (the metric the drift alert reads) and starts the training
# trigger itself when a feature drifts (at most once per 6 h): drift -> retrain without a person.
drift = DriftDetector(
    "drift",
    {
        "namespace": namespace,
        "features": ["tenure_months", "monthly_charges"],
        "threshold": 0.25,
        "retrain_on_drift": True,
        "retrain_trigger": trigger,
        "selector_labels": prometheus,
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
        "logger": {"url": drift.url_in(tenancy.physical_namespace), "mode": "all"},
        "service_account_annotations": identity,
    },
    opts=pulumi.ResourceOptions(depends_on=[drift]),
)

monitoring = Monitoring(
    "churn-monitoring",
    {
        "namespace": namespace,
        "endpoint_name": endpoint.isvc_name,
        "drift_metric": "model_feature_drift_score",  # what the DriftDetector exports
        "drift_threshold": 0.25,
        "p95_latency_ms": 300,
        "error_rate_percent": 1,
        "alert_namespace_label": True,  # the AlertmanagerConfig routes the namespace's alerts
        "retrain_trigger": trigger,
        "selector_labels": prometheus,
    },
)

# The canary's metric gate (protected environments): promotes the 10 % canary after the bake time,
# rolls it back (canaryTrafficPercent: 0) when its error rate or p95 latency breaches the alerts'.
if protected:
    CanaryGuard(
        "churn-canary-guard",
        {
            "namespace": endpoint.args.namespace,
            "inference_service": endpoint.isvc_name,
            "error_rate_percent": 1,
            "p95_latency_ms": 300,
            "rollout": {"strategy": "canary", "canary_percent": 10, "rollback_on_alarms": True},
        },
        opts=pulumi.ResourceOptions(depends_on=[endpoint]),
    )

# Critical -> PagerDuty + e-mail, warning -> Slack + e-mail; keys in a Secret the config references.
AlertRouting(
    "alerts",
    {"namespace": namespace, "emails": alerts.emails, **receivers, "selector_labels": prometheus},
)

# The namespace's monthly spend, priced by OpenCost, alerting at 80/90/100 % of the budget (policy
# budget-required: a stack that runs Kubernetes workloads declares a spend budget).
SpendBudget(
    "spend",
    {
        "namespace": namespace,
        "monthly_limit_usd": monthly_budget_usd,
        # The budget's quota cap must leave room for the GPUs training runs on (else the cap blocks it).
        "gpu_share_percent": gpu_share_for(training_gpus, monthly_budget_usd),
        "alert_at_percent": [80, 90, 100],
        "selector_labels": prometheus,
    },
)

pulumi.export("namespace", namespace)
pulumi.export("endpoint_url", endpoint.url)
pulumi.export("feature_server_url", features.feature_server_url)
pulumi.export("mlflow_ui_url", registry.ui_url)
pulumi.export("retrain_trigger", trigger)
