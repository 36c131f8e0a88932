"""Example: a Vertex AI feature store for churn features (BigQuery offline store, private online store)."""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.gcp import Budget, FeatureStore
from mlops_infra.gcp.audit_logs import AuditLogs

platform = init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
region = pulumi.Config("gcp").get("region") or "us-central1"

store = FeatureStore(
    "features",
    {
        "region": region,
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
                "features": [{"name": "tenure_months"}, {"name": "monthly_charges"}, {"name": "churned"}],
            }
        ],
        # Optimized storage behind Private Service Connect (the default); "bigtable" autoscales instead.
        "online_store": {"storage": "optimized"},
        "feature_views": [
            {
                "name": "churn_serving",
                "features": {"customer": ["tenure_months", "monthly_charges"]},
                "schedule": {"cron": "0 */6 * * *", "time_zone": "UTC"},
            }
        ],
    },
)

# Every stack declares a budget (policy budget-required).
Budget("example", {"billing_account": "01A2B3-C4D5E6-F7A8B9", "monthly_limit": 500})

# Prod records who read or wrote the stack's data and models (policy audit-logging).
if platform.protected:
    AuditLogs("audit")

pulumi.export("offlineDataset", store.dataset_id)
pulumi.export("stagingBucket", store.staging_bucket.bucket_name)
pulumi.export("featureGroups", {name: group.name for name, group in store.feature_groups.items()})
