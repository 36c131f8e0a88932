"""Airflow as the orchestrator: an Amazon MWAA environment whose DAG starts the churn pipeline every Monday.

Plan it offline:  mlops-infra plan examples/aws/airflow_training.py --config environment=prod
The pipeline has no EventBridge schedule of its own: the DAG is the one scheduler. MWAA's web server
is reachable from the VPC only, the environment, its logs and its DAG bucket use the platform key, and
the execution role may start this one pipeline and nothing else in SageMaker.
"""

import pulumi

from mlops_infra.aws import PlatformKey
from mlops_infra.aws.airflow_environment import AirflowEnvironment
from mlops_infra.aws.audit_trail import AuditTrail
from mlops_infra.aws.budget import Budget
from mlops_infra.aws.training_pipeline import TrainingPipeline
from mlops_infra.conventions import init_platform

platform = init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
key = PlatformKey("platform")

training = TrainingPipeline(
    "churn",
    {
        "kms_key_arn": key.arn,
        "model_package_group_name": "churn-models",
        "training_image_uri": f"{ECR}/churn-train:1.4.2",
        "processing_image_uri": f"{ECR}/churn-process:1.4.2",
        "training_instance_type": "ml.m5.xlarge",
        "processing_instance_type": "ml.m5.large",
        "volume_size_gb": 50,
        "max_runtime_seconds": 2 * 3600,
        "gate": {"name": "auc", "threshold": 0.82, "direction": "maximize"},
        # No "schedule" here: Airflow starts the runs.
    },
)

airflow = AirflowEnvironment(
    "airflow",
    {
        "kms_key_arn": key.arn,
        # Two private subnets in different Availability Zones, with a NAT gateway or VPC endpoints.
        "vpc_id": "vpc-0123456789abcdef0",
        "subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
        "pipeline_name": training.pipeline_name,
        "pipeline_arn": training.pipeline_arn,
        "schedule": {"cron": "0 3 * * 1", "time_zone": "Europe/Berlin"},
        "pipeline_parameters": {"InputDataUrl": "s3://churn-raw-data/weekly/"},
        "environment_class": "mw1.small",
        "log_retention_days": 90,
    },
)

Budget("example", {"kms_key_arn": key.arn, "monthly_limit_usd": 800})

# Prod records who called which API on the stack's data and models (policy audit-logging).
if platform.protected:
    audit_key = PlatformKey("audit", {"extra_key_users": ["cloudtrail.amazonaws.com"]})
    AuditTrail("audit", {"kms_key_arn": audit_key.arn, "data_bucket_arns": [airflow.dag_bucket.arn]})

pulumi.export("environmentArn", airflow.environment_arn)
pulumi.export("dagBucket", airflow.dag_bucket.bucket_name)
pulumi.export("pipelineName", training.pipeline_name)
