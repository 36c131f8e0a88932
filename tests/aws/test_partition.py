"""ARNs and service names follow the provider's partition: GovCloud (``aws-us-gov``) and China (``aws-cn``).

The program composes the main AWS components with every input in the region's own partition (images in
the region's ECR, the Model Monitor analyzer image passed explicitly: its image map has no GovCloud
region), so any ``arn:aws:`` left in a plan is one the library built itself. Endpoint hosts
(``kms:ViaService``) are checked against botocore's endpoint resolver.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import pytest

from mlops_infra.aws import Endpoint, PlatformKey, TrainingPipeline
from mlops_infra.aws.airflow_environment import AirflowEnvironment
from mlops_infra.aws.audit_trail import AuditTrail
from mlops_infra.aws.batch_transform import BatchTransform
from mlops_infra.aws.chatbot import SlackChatbot
from mlops_infra.aws.model_monitor import ModelMonitor
from mlops_infra.aws.persona_roles import PersonaRoles
from mlops_infra.aws.tracking_server import TrackingServer
from mlops_infra.engine import CapturedStack
from mlops_infra.engine.fake_state import FAKE_AWS_ACCOUNT, aws_partition
from mlops_infra.testing import every_string, plan

COMMERCIAL = "arn:aws:"


def _program(region: str) -> Callable[[], None]:
    partition = aws_partition(region)
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    ecr = f"{FAKE_AWS_ACCOUNT}.dkr.ecr.{region}.{suffix}"

    def program() -> None:
        key = PlatformKey("platform", {"extra_key_users": ["cloudtrail.amazonaws.com", "210987654321"]})
        endpoint = Endpoint(
            "scoring",
            {
                "kms_key_arn": key.arn,
                "variants": [
                    {
                        "name": "champion",
                        "model": {"image": f"{ecr}/churn-serve:1.0", "model_data_url": "s3://churn-models/m.tar.gz"},
                        "instance_type": "ml.c5.xlarge",
                        "initial_instance_count": 2,
                        "autoscaling": {"min_replicas": 2, "max_replicas": 4},
                    }
                ],
                "data_capture": {"sampling_percent": 20},
            },
        )
        ModelMonitor(
            "scoring-monitor",
            {
                "kms_key_arn": key.arn,
                "endpoint_name": endpoint.endpoint_name,
                "capture_s3_uri": endpoint.capture_s3_uri,
                "baseline_statistics_s3_uri": "s3://churn-baselines/v7/statistics.json",
                "baseline_constraints_s3_uri": "s3://churn-baselines/v7/constraints.json",
                "drift_features": ["tenure_months"],
                "analyzer_image_uri": f"{ecr}/sagemaker-model-monitor-analyzer:latest",
            },
        )
        training = TrainingPipeline(
            "churn-training",
            {
                "kms_key_arn": key.arn,
                "model_package_group_name": "churn-models",
                "training_image_uri": f"{ecr}/churn-train:1.0",
                "processing_image_uri": f"{ecr}/churn-process:1.0",
                "training_instance_type": "ml.m5.xlarge",
                "processing_instance_type": "ml.m5.large",
                "volume_size_gb": 50,
                "max_runtime_seconds": 3600,
                "gate": {"name": "auc", "threshold": 0.8, "direction": "maximize"},
                "input_data_s3_uri": "s3://churn-raw-data/weekly/",
                "vpc_subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa"],
                "vpc_security_group_ids": ["sg-0aaaaaaaaaaaaaaaa"],
                "schedule": {"cron": "0 3 * * 1"},
            },
        )
        BatchTransform(
            "nightly",
            {
                "kms_key_arn": key.arn,
                "image": f"{ecr}/churn-serve:1.0",
                "model_data_url": "s3://churn-models/champion/model.tar.gz",
                "input_s3_uri": "s3://churn-batch/scoring/input/",
                "output_s3_uri": "s3://churn-batch/predictions/nightly/",
                "record_format": "csv",
                "instance_type": "ml.m5.xlarge",
                "schedule": {"cron": "0 2 * * *"},
            },
        )
        tracking = TrackingServer("tracking", {"kms_key_arn": key.arn, "model_package_group_name": "churn-models"})
        AuditTrail("audit", {"kms_key_arn": key.arn, "data_bucket_arns": [tracking.artifact_bucket.arn]})
        PersonaRoles(
            "personas",
            {
                "identity_provider_arn": f"arn:{partition}:iam::{FAKE_AWS_ACCOUNT}:saml-provider/churn-sso",
                "data_scientists": ["ds"],
                "ml_engineers": ["mle"],
                "devops": ["ops"],
                "analysts": ["analysts"],
                "kms_key_arn": key.arn,
                "model_package_group_name": "churn-models",
                "feature_group_names": ["customer-profile"],
                "pipeline_arn": training.pipeline_arn,
                "endpoint_names": [endpoint.endpoint_name],
                "dashboard_name": "churn-ops",
                "budget_name": "churn-budget",
            },
        )
        SlackChatbot(
            "slack",
            {
                "channel_id": "C0CHURNML1",
                "workspace_id": "T0ACMEML01",
                "sns_topic_arns": [f"arn:{partition}:sns:{region}:{FAKE_AWS_ACCOUNT}:churn-warnings"],
                "guardrails": ["CloudWatchReadOnlyAccess", "ReadOnlyAccess"],
            },
        )
        AirflowEnvironment(
            "airflow",
            {
                "kms_key_arn": key.arn,
                "vpc_id": "vpc-0123456789abcdef0",
                "subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
                "pipeline_name": training.pipeline_name,
                "pipeline_arn": training.pipeline_arn,
            },
        )

    return program


def _arns_by_resource(stack: CapturedStack) -> dict[str, list[str]]:
    return {r.urn: [s for s in every_string(r.inputs) if s.startswith("arn:") or ":arn:" in s] for r in stack.resources}


@pytest.mark.parametrize(("region", "partition"), [("us-gov-west-1", "aws-us-gov"), ("cn-north-1", "aws-cn")])
def test_every_arn_is_in_the_regions_partition(region: str, partition: str) -> None:
    stack = plan(_program(region), environment="prod", config={"aws:region": region})
    commercial = {r.urn: [s for s in every_string(r.inputs) if COMMERCIAL in s] for r in stack.resources}
    commercial = {urn: found for urn, found in commercial.items() if found}
    assert commercial == {}
    assert len({r.type for r in stack.resources if r.type.startswith("mlops-infra:aws:")}) >= 10
    found = [s for values in _arns_by_resource(stack).values() for s in values if f"arn:{partition}:" in s]
    for expected in (
        f"arn:{partition}:iam::{FAKE_AWS_ACCOUNT}:root",  # the key policy's principal
        f"arn:{partition}:iam::aws:policy/ReadOnlyAccess",  # a Chatbot guardrail
        f"arn:{partition}:scheduler:::aws-sdk:sagemaker:startPipelineExecution",  # the training schedule's target
        f"arn:{partition}:states:::aws-sdk:sagemaker:stopPipelineExecution",  # the batch supervisor
        f"arn:{partition}:s3:::churn-batch/scoring/input/*",  # a batch job's read
    ):
        assert any(expected in s for s in found), expected


def _policy_statements(stack: CapturedStack, type_token: str, key: str) -> list[dict[str, Any]]:
    return [
        statement
        for resource in stack.resources
        if resource.type == type_token
        for statement in json.loads(resource.inputs[key])["Statement"]
    ]


def _endpoint_host(service: str, region: str) -> str:
    """The host of ``service``'s regional endpoint, as botocore resolves it (no request is sent)."""
    session = pytest.importorskip("botocore.session").get_session()
    config = pytest.importorskip("botocore.config").Config(s3={"us_east_1_regional_endpoint": "regional"})
    client = session.create_client(
        service, region_name=region, aws_access_key_id="offline", aws_secret_access_key="offline", config=config
    )
    return str(urlparse(client.meta.endpoint_url).hostname)


@pytest.mark.parametrize("region", ["us-east-1", "us-gov-west-1", "cn-north-1"])
def test_service_names_follow_the_partition(region: str) -> None:
    stack = plan(_program(region), environment="prod", config={"aws:region": region})
    key_policy = {s["Sid"]: s for s in _policy_statements(stack, "aws:kms/key:Key", "policy")}
    # CloudWatch Logs is one of the services whose principal takes the China suffix.
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    assert key_policy["CloudWatchLogsUseKey"]["Principal"] == {"Service": f"logs.{region}.{suffix}"}
    # The other principals keep amazonaws.com in every partition.
    assert "sagemaker.amazonaws.com" in key_policy["AwsServicesUseKey"]["Principal"]["Service"]
    airflow = {s["Sid"]: s for s in _policy_statements(stack, "aws:iam/rolePolicy:RolePolicy", "policy")}
    via = airflow["PlatformKey"]["Condition"]["StringLike"]["kms:ViaService"]
    assert via == [_endpoint_host("sqs", region), _endpoint_host("s3", region)]


def test_a_china_stack_finds_the_model_monitor_image_without_an_override() -> None:
    def program() -> None:
        ModelMonitor(
            "scoring-monitor",
            {
                "kms_key_arn": f"arn:aws-cn:kms:cn-north-1:{FAKE_AWS_ACCOUNT}:key/abc",
                "endpoint_name": "churn-scoring",
                "capture_s3_uri": "s3://churn-capture/datacapture",
                "baseline_statistics_s3_uri": "s3://churn-baselines/v7/statistics.json",
                "baseline_constraints_s3_uri": "s3://churn-baselines/v7/constraints.json",
            },
        )

    stack = plan(program, environment="prod", config={"aws:region": "cn-north-1"})
    (job,) = [r for r in stack.resources if r.type.endswith("DataQualityJobDefinition")]
    image = job.inputs["dataQualityAppSpecification"]["imageUri"]
    assert image == "453000072557.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-model-monitor-analyzer"


def test_the_offline_engine_answers_partitions_by_region() -> None:
    regions = ("us-east-1", "us-gov-east-1", "cn-northwest-1")
    assert [aws_partition(r) for r in regions] == ["aws", "aws-us-gov", "aws-cn"]
