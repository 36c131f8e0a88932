"""Nightly batch scoring: a SageMaker batch transform over an S3 prefix, stopped after 90 minutes.

Plan it offline:  mlops-infra plan examples/aws/batch_transform.py --config environment=prod
EventBridge Scheduler starts a Step Functions supervisor at 02:00 Berlin time; it runs the pipeline
(CreateModel -> Transform) and stops it at max_runtime_seconds. The transform's output and volumes are
encrypted with the platform key, inputs and results live in a private, KMS-encrypted bucket, and each
run writes under predictions/nightly/<execution id>/. In prod the run scores an approved registry
version; in dev the image and artifact.
"""

import pulumi

from mlops_infra.aws import BatchTransform, Budget, PlatformKey, SecureBucket
from mlops_infra.aws.audit_trail import AuditTrail
from mlops_infra.conventions import init_platform

platform = init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

SERVE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn/xgboost-serve@sha256:" + "0" * 64
# One platform key; in prod CloudTrail also encrypts the audit log files with it.
key = PlatformKey("platform", {"extra_key_users": ["cloudtrail.amazonaws.com"]} if platform.protected else None)
data = SecureBucket("batch-data", {"purpose": "batch-data", "kms_key_arn": key.arn})
inputs = pulumi.Output.concat("s3://", data.bucket_name, "/scoring/daily/")
model = (
    # A protected environment scores an approved version of the registry (policy model-approval).
    {"model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-prod-churn/7"}
    if platform.protected
    else {"model_data_url": "s3://churn-dev-models/churn/champion/model.tar.gz"}
)
nightly = BatchTransform(
    "nightly",
    {
        "kms_key_arn": key.arn,
        "image": SERVE,
        **model,
        "input_s3_uri": inputs,
        "output_s3_uri": pulumi.Output.concat("s3://", data.bucket_name, "/predictions/nightly/"),
        "record_format": "csv",
        "instance_type": "ml.m5.xlarge",
        "instance_count": 2,
        "max_payload_mb": 6,
        "max_runtime_seconds": 90 * 60,
        "schedule": {"cron": "0 2 * * *", "time_zone": "Europe/Berlin"},
    },
)
pulumi.export("pipelineName", nightly.pipeline_name)
pulumi.export("stateMachineArn", nightly.state_machine_arn)
pulumi.export("scheduleArn", nightly.schedule_arn)
pulumi.export("outputS3Uri", nightly.output_s3_uri)

# Every stack declares its budget (policy: budget-required).
Budget("example", {"kms_key_arn": key.arn, "monthly_limit_usd": 300})

# Prod records who called which API on the stack's data and models (policy audit-logging).
if platform.protected:
    AuditTrail("audit", {"kms_key_arn": key.arn, "data_bucket_arns": [data.arn]})
