"""Nightly batch scoring of the churn dataset: 4 shards in parallel, at most 90 minutes, CSV in and out.

The scoring image reads the MLOPS_* environment (model, input, output, format, shard index and
count; docs/components/k8s-batch-inference.md); each shard writes ``part-<index>`` under the output.
Without Argo it is an Indexed-Job CronJob; ``argo_enabled`` makes it an Argo CronWorkflow.

Plan it offline:  mlops-infra plan examples/k8s/batch_inference.py --config environment=prod
"""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.k8s import AlertRouting, BatchInference
from mlops_infra.k8s.spend_budget import SpendBudget

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
namespace = "churn-ml"

nightly = BatchInference(
    "churn-nightly",
    {
        "namespace": namespace,
        "image": "ghcr.io/example/churn-batch@sha256:" + "4" * 64,
        "model_uri": "s3://acme-churn/models/churn/v7/model.tar.gz",
        "model_format": "xgboost",
        "input_uri": "s3://acme-churn/data/scoring/2026/",
        "output_uri": "s3://acme-churn/data/predictions/nightly/",
        "format": "csv",
        "schedule": {"cron": "0 2 * * *", "time_zone": "Europe/Berlin"},
        "resources": {"cpu_request": "2", "cpu_limit": "2", "memory_request": "8Gi", "memory_limit": "8Gi"},
        "shards": 4,
        "active_deadline_seconds": 5400,
        "service_account_annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/churn-batch"},
    },
)

# Every stack that runs workloads declares a spend budget (policy budget-required).
SpendBudget(
    "spend",
    {"namespace": namespace, "monthly_limit_usd": 500, "alert_at_percent": [80, 100], "selector_labels": {}},
)

AlertRouting("alerts", {"namespace": namespace, "emails": ["ml-oncall@example.com"], "selector_labels": {}})

pulumi.export("schedule", nightly.base)
