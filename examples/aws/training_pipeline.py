"""A churn model retrained every Monday at 03:00 Berlin time and whenever its drift alarm fires.

Plan it offline:  mlops-infra plan examples/aws/training_pipeline.py --config environment=prod
In dev new model versions are registered Approved; in staging and prod they wait for a person
(PendingManualApproval). Every job is network-isolated and encrypts its volumes and outputs
with the platform key; the artifact bucket is private, versioned and TLS-only.
"""

import pulumi

from mlops_infra.aws import PlatformKey
from mlops_infra.aws.audit_trail import AuditTrail
from mlops_infra.aws.budget import Budget
from mlops_infra.aws.training_pipeline import TrainingPipeline
from mlops_infra.conventions import init_platform

platform = init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"

training = TrainingPipeline(
    "churn",
    {
        # The registry group, e.g. ModelRegistry(...).group_name, or a name created elsewhere.
        "model_package_group_name": "churn-models",
        # Pinned images: a moving tag would retrain on code nobody reviewed.
        "training_image_uri": f"{ECR}/churn-train:1.4.2",
        "processing_image_uri": f"{ECR}/churn-process:1.4.2",
        "training_instance_type": "ml.m5.xlarge",
        "processing_instance_type": "ml.m5.large",
        "volume_size_gb": 50,
        "max_runtime_seconds": 2 * 3600,
        # evaluate.py writes {"metrics": {"auc": {"value": ...}}} to evaluation.json.
        "gate": {"name": "auc", "threshold": 0.82, "direction": "maximize"},
        "preprocess_code_s3_uri": "s3://churn-ml-code/v1.4.2/preprocess.py",
        "evaluate_code_s3_uri": "s3://churn-ml-code/v1.4.2/evaluate.py",
        "hyperparameters": {"max_depth": "6", "eta": "0.2", "num_round": "200"},
        # Spot capacity at up to ~70% less; the job may wait up to 4 hours for it.
        "use_spot": True,
        "max_wait_seconds": 4 * 3600,
        "schedule": {
            "cron": "0 3 * * 1",  # Mondays 03:00 (EventBridge: cron(0 3 ? * MON *))
            "time_zone": "Europe/Berlin",
            "flexible_time_window": "FLEXIBLE",
            "maximum_window_minutes": 30,
            "pipeline_parameters": {"InputDataUrl": "s3://churn-raw-data/weekly/"},
        },
        # A data-drift alarm (e.g. from the endpoint's monitoring) retrains at once.
        "retrain_on_alarm_arns": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:churn-feature-drift"],
    },
)

pulumi.export("pipelineName", training.pipeline_name)
pulumi.export("pipelineArn", training.pipeline_arn)
pulumi.export("executionRoleArn", training.execution_role_arn)
pulumi.export("artifactBucketName", training.artifact_bucket_name)
pulumi.export("scheduleArn", training.schedule_arn)
pulumi.export("dlqArn", training.dlq_arn)
pulumi.export("retrainRuleArn", training.retrain_rule_arn)
pulumi.export("approvalStatus", training.approval_status)

# Every stack declares its budget (policy: budget-required).
Budget("example", {"monthly_limit_usd": 500})

# Prod records who called which API on the stack's data and models (policy audit-logging).
if platform.protected:
    audit_key = PlatformKey("audit", {"extra_key_users": ["cloudtrail.amazonaws.com"]})
    AuditTrail("audit", {"kms_key_arn": audit_key.arn, "data_bucket_arns": [training.artifact_bucket.arn]})
