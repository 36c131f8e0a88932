"""Airflow as the orchestrator: a private, CMEK Cloud Composer 3 environment whose DAG submits the pipeline weekly.

Plan it offline:  mlops-infra plan examples/gcp/airflow_training.py --config environment=prod
The pipeline has no Cloud Scheduler job of its own: the DAG is the one scheduler. It submits the same
PipelineJob body Cloud Scheduler would (the platform key and the pipeline's service account).
"""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.gcp import Budget, TrainingPipeline
from mlops_infra.gcp.audit_logs import AuditLogs
from mlops_infra.gcp.composer import ComposerEnvironment
from mlops_infra.gcp.platform_key import shared_platform_key

platform = init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
region = pulumi.Config("gcp").get("region") or "us-central1"
trainer = "us-central1-docker.pkg.dev/acme-ml/images/churn-trainer@sha256:" + "3" * 64
key = shared_platform_key(region)

pipeline = TrainingPipeline(
    "training",
    {
        "region": region,
        "kms_key_name": key.key_name,
        "spec": {"kind": "template", "name": "churn-training", "image": trainer, "metric_threshold": 0.8},
        "parameter_values": {
            "source_uri": "bq://acme-ml.churn_dev_features.customer_features",
            "parent_model": f"projects/acme-ml/locations/{region}/models/churn-dev-churn",
            "serving_image": "us-central1-docker.pkg.dev/acme-ml/images/churn-serving:1.4.0",
        },
        # No "schedule" here: Airflow submits the runs.
        "read_datasets": ["churn_dev_features"],
    },
)

airflow = ComposerEnvironment(
    "airflow",
    {
        "region": region,
        "kms_key_name": key.key_name,
        "pipeline_job": pipeline.job_body,
        "pipeline_service_account": pipeline.service_account_email,
        "schedule": {"cron": "0 3 * * 1", "time_zone": "Europe/Berlin"},
        "size": "small",
        # The Airflow UI admits nobody by default; list your networks to open it to them.
        "web_server_allowed_ranges": [{"value": "10.0.0.0/8", "description": "corporate network"}],
    },
)

# Every stack declares a budget (policy budget-required).
Budget("example", {"billing_account": "01A2B3-C4D5E6-F7A8B9", "monthly_limit": 1000})

# Prod records who read or wrote the stack's data and models (policy audit-logging).
if platform.protected:
    AuditLogs("audit")

pulumi.export("environmentName", airflow.environment.name)
pulumi.export("dagObject", airflow.dag.name)
