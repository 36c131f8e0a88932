"""Input that used to be accepted silently is refused before anything registers, naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from mlops_infra.aws import Budget, PlatformKey, TrainingPipeline
from mlops_infra.aws.endpoint_args import EndpointArgs
from mlops_infra.aws.model_monitor import ModelMonitor, ModelMonitorArgs
from mlops_infra.aws.model_registry import ModelRegistryArgs
from mlops_infra.aws.platform_key import PlatformKeyArgs
from mlops_infra.aws.training_pipeline_args import TrainingPipelineArgs
from mlops_infra.engine import ProgramError
from mlops_infra.testing import iam_statements, one, plan

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
MONITOR = {
    "endpoint_name": "churn-dev-scoring",
    "capture_s3_uri": "s3://churn-capture/data-capture",
    "baseline_statistics_s3_uri": "s3://churn-baselines/v7/statistics.json",
    "baseline_constraints_s3_uri": "s3://churn-baselines/v7/constraints.json",
    "drift_features": ["tenure_months"],
}
TRAINING = {
    "model_package_group_name": "churn-dev-churn",
    "training_image_uri": f"{ECR}/churn-train:1.4.2",
    "processing_image_uri": f"{ECR}/churn-process:1.4.2",
    "training_instance_type": "ml.m5.xlarge",
    "processing_instance_type": "ml.m5.large",
    "volume_size_gb": 50,
    "max_runtime_seconds": 3600,
    "gate": {"name": "auc", "threshold": 0.8, "direction": "maximize"},
}
VARIANT = {
    "name": "main",
    "model": {"image": f"{ECR}/churn/serve:1.7", "model_data_url": "s3://churn-models/v7/model.tar.gz"},
    "instance_type": "ml.m5.large",
}


def refused(model: type[Any], values: dict[str, Any]) -> tuple[str | int, ...]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(values)
    location: tuple[str | int, ...] = caught.value.errors()[0]["loc"]
    return location


# --- platform key principals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "principal",
    [
        "alice",
        "*",
        "arn:aws:s3:::churn-bucket",  # an ARN, but not of an IAM principal
        "arn:aws:iam::123456789012:policy/admin",  # IAM, but a policy
        "arn:aws:iam::12345:role/short-account",  # malformed account
        "12345678901",  # 11 digits
        "logs.example.com",  # not an AWS service principal
        "AROAEXAMPLEID1234",  # a unique id, not an ARN
    ],
)
def test_key_policy_refuses_anything_but_iam_arns_accounts_and_aws_services(principal):
    assert refused(PlatformKeyArgs, {"extra_key_users": ["210987654321", principal]}) == ("extra_key_users", 1)
    with pytest.raises(ProgramError, match=r"extra_key_users\.0") as caught:
        plan(lambda: PlatformKey("platform", {"extra_key_users": [principal]}))
    assert caught.value.registered == []


def test_key_policy_places_each_kind_of_key_user():
    users = [
        "arn:aws:iam::210987654321:role/analytics-reader",
        "210987654321",
        "firehose.amazonaws.com",
    ]
    stack = plan(lambda: PlatformKey("platform", {"extra_key_users": users}), environment="prod")
    statements = {s["Sid"]: s for s in iam_statements(one(stack, "aws:kms/key:Key"))}
    patterns = statements["PlatformRolesUseKey"]["Condition"]["ArnLike"]["aws:PrincipalArn"]
    assert patterns == [
        "arn:aws:iam::123456789012:role/churn-prod-*",
        "arn:aws:iam::210987654321:role/analytics-reader",
    ]
    assert statements["OtherAccountsUseKey"]["Principal"] == {"AWS": ["arn:aws:iam::210987654321:root"]}
    assert "kms:ScheduleKeyDeletion" not in statements["OtherAccountsUseKey"]["Action"]
    services = statements["OtherServicesUseKey"]
    assert services["Principal"] == {"Service": ["firehose.amazonaws.com"]}
    assert services["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


# --- drift monitor -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "location"),
    [
        ({"capture_s3_uri": "gs://churn-capture/data-capture"}, ("capture_s3_uri",)),
        ({"capture_s3_uri": "churn-capture/data-capture"}, ("capture_s3_uri",)),
        ({"endpoint_name": ""}, ("endpoint_name",)),
        ({"endpoint_name": "churn scoring"}, ("endpoint_name",)),
        ({"baseline_statistics_s3_uri": "gs://churn-baselines/v7/statistics.json"}, ("baseline_statistics_s3_uri",)),
        ({"alarm_actions": ["arn:aws:sqs:us-east-1:123456789012:queue"]}, ("alarm_actions", 0)),
        ({"kms_key_arn": "arn:aws:kms:us-east-1:123456789012:alias/platform"}, ("kms_key_arn",)),
    ],
)
def test_monitor_refuses_foreign_uris_empty_names_and_wrong_arns(changes, location):
    assert refused(ModelMonitorArgs, {**MONITOR, **changes}) == location
    with pytest.raises(ProgramError, match=location[0]) as caught:
        plan(lambda: ModelMonitor("scoring-monitor", {**MONITOR, **changes}))
    assert caught.value.registered == []


# --- ARNs everywhere -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "values", "location"),
    [
        (TrainingPipelineArgs, {**TRAINING, "kms_key_arn": "not-an-arn"}, ("kms_key_arn",)),
        (
            TrainingPipelineArgs,
            {**TRAINING, "artifact_bucket_name": "shared", "artifact_bucket_arn": "arn:aws:sns:us-east-1:1:x"},
            ("artifact_bucket_arn",),
        ),
        (
            TrainingPipelineArgs,
            {**TRAINING, "retrain_on_alarm_arns": ["arn:aws:cloudwatch:us-east-1:123456789012:dashboard/x"]},
            ("retrain_on_alarm_arns",),
        ),
        (EndpointArgs, {"variants": [VARIANT], "kms_key_arn": "arn:aws:kms:us-east-1:123:key/x"}, ("kms_key_arn",)),
        (
            EndpointArgs,
            {"variants": [VARIANT], "alarms": {"alarm_actions": ["arn:aws:sns:us-east-1:123456789012"]}},
            ("alarms", "alarm_actions", 0),
        ),
        (
            EndpointArgs,
            {
                "variants": [
                    {
                        **VARIANT,
                        "model": {
                            **VARIANT["model"],
                            "model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/churn",
                        },
                    }
                ]
            },
            ("variants", 0, "model", "model_package_arn"),
        ),
        (ModelRegistryArgs, {"kms_key_arn": "arn:aws:kms:us-east-1:123456789012:grant/x"}, ("kms_key_arn",)),
    ],
)
def test_malformed_arns_are_refused_naming_the_field(model, values, location):
    assert refused(model, values)[: len(location)] == location


def test_budget_key_must_be_a_key_arn():
    with pytest.raises(ProgramError, match="kms_key_arn") as caught:
        plan(lambda: Budget("platform", {"monthly_limit_usd": 10, "kms_key_arn": "alias/platform"}))
    assert caught.value.registered == []


def test_well_formed_arns_are_accepted():
    TrainingPipelineArgs.model_validate(
        {
            **TRAINING,
            "kms_key_arn": KEY,
            "artifact_bucket_name": "shared",
            "artifact_bucket_arn": "arn:aws:s3:::shared",
            "retrain_on_alarm_arns": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:churn-drift"],
        }
    )
    stack = plan(lambda: TrainingPipeline("churn", {**TRAINING, "kms_key_arn": KEY}))
    assert one(stack, "aws:sagemaker/pipeline:Pipeline").inputs["pipelineName"] == "churn-dev-churn"
