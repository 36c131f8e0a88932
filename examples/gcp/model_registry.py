"""Example: a model registry with one churn model version tagged as the candidate (challenger)."""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.gcp import Budget, ModelRegistry
from mlops_infra.gcp.audit_logs import AuditLogs

platform = init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
region = pulumi.Config("gcp").get("region") or "us-central1"

registry = ModelRegistry(
    "registry",
    {
        "region": region,
        "models": [
            {
                "name": "churn",
                "artifact_uri": "gs://churn-dev-registry-models/churn/2024-06-01",
                # Digest-pinned, so the same program also passes in protected environments.
                "serving_image": "us-central1-docker.pkg.dev/acme-ml/images/churn-serving@sha256:" + "5" * 64,
                "aliases": ["challenger"],
                "predict_route": "/predict",
                "health_route": "/health",
                "port": 8080,
            }
        ],
    },
)

# Every stack declares a budget (policy budget-required).
Budget("example", {"billing_account": "01A2B3-C4D5E6-F7A8B9", "monthly_limit": 500})

# Prod records who read or wrote the stack's data and models (policy audit-logging).
if platform.protected:
    AuditLogs("audit")

pulumi.export("modelsBucket", registry.models_bucket_name)
pulumi.export("imageRepository", registry.repository_url)
pulumi.export("churnModel", registry.model_name("churn"))
