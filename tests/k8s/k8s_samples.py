"""Sample component args for the churn use case (shared by the tests in this folder)."""

from __future__ import annotations

from typing import Any

import pulumi

REDIS_PASSWORD = "redis-plaintext-never-in-manifests-1"
POSTGRES_PASSWORD = "postgres-plaintext-never-in-manifests-2"
CLIENT_SECRET = "oidc-client-plaintext-never-in-manifests-3"
COOKIE_SECRET = "cookie-plaintext-never-in-manifests-4"
PLAINTEXTS = (REDIS_PASSWORD, POSTGRES_PASSWORD, CLIENT_SECRET, COOKIE_SECRET)


def feature_store_args(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "namespace": "churn-ns",
        "feast_project": "churn",
        "entities": [{"name": "customer", "join_key": "customer_id"}],
        "feature_views": [
            {
                "name": "customer_profile",
                "entities": ["customer"],
                "source": "customer_profile/",
                "timestamp_field": "event_time",
                "features": {"tenure_months": "Int64", "monthly_charges": "Float64"},
            }
        ],
        "registry": {"uri": "s3://acme-churn/feast/registry.db"},
        "offline_store": {"uri": "s3://acme-churn/feast/offline"},
        "redis_password": pulumi.Output.secret(REDIS_PASSWORD),
    }
    args.update(overrides)
    return args


def model_registry_args(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "namespace": "churn-ns",
        "artifact_store": {"uri": "s3://acme-churn/mlflow"},
        "postgres_password": pulumi.Output.secret(POSTGRES_PASSWORD),
        "auth": {
            "oidc_issuer_url": "https://login.acme.example/realms/ml",
            "client_id": "mlflow",
            "client_secret": pulumi.Output.secret(CLIENT_SECRET),
            "cookie_secret": pulumi.Output.secret(COOKIE_SECRET),
            "allowed_groups": ["churn-ml-data-scientists"],
        },
    }
    args.update(overrides)
    return args


def training_args(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "namespace": "churn-ns",
        "image": "ghcr.io/acme/churn-train:1.8.3",
        "command": ["python", "-m", "churn.train"],
        "schedule": {"cron": "0 3 * * 1", "time_zone": "Europe/Berlin"},
    }
    args.update(overrides)
    return args


def endpoint_args(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "namespace": "churn-ns",
        "model_format": "sklearn",
        "storage_uri": "s3://acme-churn/models/churn/v7",
        "canary_percent": 10,
        "min_replicas": 2,
        "max_replicas": 6,
        "scale_metric": "rps",
        "scale_target": 50,
        "logger": {"url": "http://broker-ingress.knative-eventing.svc.cluster.local/churn-ns/capture"},
    }
    args.update(overrides)
    return args
