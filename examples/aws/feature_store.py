"""A feature store for a churn model: customer profiles online and offline, transactions offline only.

Plan it offline:  mlops-infra plan examples/aws/feature_store.py --config environment=prod
Every store is encrypted with the stack's platform key (created on first use). In staging and
prod the bucket, the Glue database, the key and the feature groups get protect and retainOnDelete.
"""

import pulumi

from mlops_infra.aws import PlatformKey
from mlops_infra.aws.audit_trail import AuditTrail
from mlops_infra.aws.budget import Budget
from mlops_infra.aws.feature_store import FeatureStore, FeatureStoreArgs
from mlops_infra.conventions import init_platform

platform = init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

store = FeatureStore(
    "churn-features",
    FeatureStoreArgs.model_validate(
        {
            "feature_groups": [
                {
                    "name": "customer-profile",
                    "description": "Latest profile per customer, served to the churn endpoint",
                    "features": [
                        {"name": "customer_id", "type": "String"},
                        {"name": "event_time", "type": "Fractional"},
                        {"name": "tenure_months", "type": "Integral"},
                        {"name": "monthly_charges", "type": "Fractional"},
                        {"name": "contract_type", "type": "String"},
                    ],
                    "entity_key": "customer_id",
                    "event_time": "event_time",
                    # Customers inactive for a year drop out of the online store (offline keeps them).
                    "online_ttl": {"unit": "Days", "value": 365},
                    "table_format": "Iceberg",
                },
                {
                    "name": "transactions",
                    "description": "Raw transactions for training windows; never read online",
                    "features": [
                        {"name": "transaction_id", "type": "Integral"},
                        {"name": "customer_id", "type": "String"},
                        {"name": "event_time", "type": "String"},
                        {"name": "amount", "type": "Fractional"},
                    ],
                    "entity_key": "transaction_id",
                    "event_time": "event_time",
                    "online": False,
                },
            ],
            # Training reads the last quarter; older partitions go to cheaper storage.
            "offline_transition_to_ia_days": 90,
            "offline_transition_to_glacier_ir_days": 365,
        }
    ),
)

pulumi.export("offlineBucketName", store.bucket_name)
pulumi.export("offlineBucketArn", store.bucket_arn)
pulumi.export("featureStoreRoleArn", store.role_arn)
pulumi.export("glueDatabaseName", store.database_name)
pulumi.export("featureGroupNames", store.feature_group_names)

# Every stack declares its budget (policy: budget-required).
Budget("example", {"monthly_limit_usd": 500})

# Prod records who called which API on the stack's data and models (policy audit-logging).
if platform.protected:
    audit_key = PlatformKey("audit", {"extra_key_users": ["cloudtrail.amazonaws.com"]})
    AuditTrail("audit", {"kms_key_arn": audit_key.arn, "data_bucket_arns": [store.bucket_arn]})
