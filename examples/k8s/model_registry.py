"""MLflow for the churn model: PostgreSQL backend, S3 artifacts, oauth2-proxy (OIDC) in front.

Plan it offline:  mlops-infra plan examples/k8s/model_registry.py --config environment=prod
Set the secrets first: pulumi config set --secret postgresPassword|oidcClientSecret|cookieSecret ...
"""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.k8s import AlertRouting, EncryptedStorageClass, ModelRegistry
from mlops_infra.k8s.spend_budget import SpendBudget

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
config = pulumi.Config()

# PostgreSQL keeps its data on a PVC: the class encrypts it with your KMS key (policy encryption-at-rest).
volumes = EncryptedStorageClass(
    "volumes",
    {
        "provisioner": "aws-ebs",
        "kms_key": "arn:aws:kms:us-east-1:123456789012:key/0f2d9c1e-5b7a-4e3c-9d8f-6a1b2c3d4e5f",
    },
)


def secret(key: str) -> pulumi.Output[str]:
    # Example fallback only: real stacks use `pulumi config set --secret KEY`.
    return config.get_secret(key) or pulumi.Output.secret(f"example-only-{key}")


registry = ModelRegistry(
    "registry",
    {
        "namespace": "churn-ml",
        "artifact_store": {"uri": "s3://acme-churn/mlflow"},
        "postgres_password": secret("postgresPassword"),
        "postgres": {"storage_class": volumes.class_name},
        "auth": {
            "oidc_issuer_url": "https://login.acme.example/realms/ml",
            "client_id": "mlflow",
            "client_secret": secret("oidcClientSecret"),
            "cookie_secret": secret("cookieSecret"),
            "allowed_groups": ["churn-ml-data-scientists", "churn-ml-ml-engineers"],
        },
    },
    opts=pulumi.ResourceOptions(depends_on=[volumes]),
)

# Every stack that runs workloads declares a spend budget (policy budget-required), and its alerts
# reach a person (policy alert-routing: every PrometheusRule alert is routed in its namespace).
SpendBudget("spend", {"namespace": "churn-ml", "monthly_limit_usd": 1500, "alert_at_percent": [80, 90, 100]})
AlertRouting("alerts", {"namespace": "churn-ml", "emails": ["ml-platform@example.com"]})

pulumi.export("tracking_uri", registry.tracking_uri)
pulumi.export("ui_url", registry.ui_url)
