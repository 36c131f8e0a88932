"""Feast for the churn model: Redis online store, feature server, S3 registry and offline store.

Plan it offline:  mlops-infra plan examples/k8s/feature_store.py --config environment=prod
Set the password first: pulumi config set --secret redisPassword ...
"""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.k8s import AlertRouting, EncryptedStorageClass, FeatureStore
from mlops_infra.k8s.spend_budget import SpendBudget

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
config = pulumi.Config()

# Redis keeps its data on a PVC: the class encrypts it with your KMS key (policy encryption-at-rest).
volumes = EncryptedStorageClass(
    "volumes",
    {
        "provisioner": "aws-ebs",
        "kms_key": "arn:aws:kms:us-east-1:123456789012:key/0f2d9c1e-5b7a-4e3c-9d8f-6a1b2c3d4e5f",
    },
)

store = FeatureStore(
    "features",
    {
        "namespace": "churn-ml",
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
        # Example fallback only: real stacks use `pulumi config set --secret redisPassword`.
        "redis_password": config.get_secret("redisPassword") or pulumi.Output.secret("example-only-redis-password"),
        "redis": {"storage_class": volumes.class_name},
    },
    opts=pulumi.ResourceOptions(depends_on=[volumes]),
)

# Every stack that runs workloads declares a spend budget (policy budget-required), and its alerts
# reach a person (policy alert-routing: every PrometheusRule alert is routed in its namespace).
SpendBudget("spend", {"namespace": "churn-ml", "monthly_limit_usd": 1500, "alert_at_percent": [80, 90, 100]})
AlertRouting("alerts", {"namespace": "churn-ml", "emails": ["ml-platform@example.com"]})

pulumi.export("feature_server_url", store.feature_server_url)
pulumi.export("apply_job_hash", store.definitions_hash)
