"""Example: continuous training with the built-in kfp template, submitted weekly by Cloud Scheduler."""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.gcp import Budget, TrainingPipeline
from mlops_infra.gcp.audit_logs import AuditLogs

platform = init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
region = pulumi.Config("gcp").get("region") or "us-central1"
trainer = "us-central1-docker.pkg.dev/acme-ml/images/churn-trainer@sha256:" + "3" * 64

pipeline = TrainingPipeline(
    "training",
    {
        "region": region,
        # Or {"kind": "file", "path": "pipeline.yaml"}, or {"kind": "function", "function": my_kfp_pipeline}.
        "spec": {"kind": "template", "name": "churn-training", "image": trainer, "metric_threshold": 0.8},
        "parameter_values": {
            "source_uri": "bq://acme-ml.churn_dev_features.customer_features",
            "parent_model": f"projects/acme-ml/locations/{region}/models/churn-dev-churn",
            "serving_image": "us-central1-docker.pkg.dev/acme-ml/images/churn-serving:1.4.0",
        },
        "schedule": {"cron": "0 3 * * 1", "time_zone": "Etc/UTC", "retry_count": 3},
        "read_datasets": ["churn_dev_features"],
    },
)

# Every stack declares a budget (policy budget-required).
Budget("example", {"billing_account": "01A2B3-C4D5E6-F7A8B9", "monthly_limit": 1000})

# Prod records who read or wrote the stack's data and models (policy audit-logging).
if platform.protected:
    AuditLogs("audit")

pulumi.export("serviceAccount", pipeline.service_account_email)
pulumi.export("pipelineRoot", pipeline.pipeline_root)
pulumi.export("pipelineName", pipeline.spec["pipelineInfo"]["name"])
