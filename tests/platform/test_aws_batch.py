"""spec.batch on AWS: the batch data bucket, the approved version scored on the schedule, alerts, refusals."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from test_aws_realize import PACKAGE_VERSION, churn_spec, outputs, protected, realize
from test_aws_serving_modes import IMAGE, mandatory

from mlops_infra.engine import ProgramError
from mlops_infra.engine.captured import CapturedStack
from mlops_infra.platform import MlPlatform
from mlops_infra.testing import plan

PIPELINE = "aws:sagemaker/pipeline:Pipeline"
BUCKET = "aws:s3/bucket:Bucket"
RULE = "aws:cloudwatch/eventRule:EventRule"


def nightly(**changes: Any) -> dict[str, Any]:
    entry = {
        "name": "nightly",
        "model": {"format": "xgboost", "artifact": "churn/champion/model.tar.gz", "serving": {"image": IMAGE}},
        "input": "scoring/input/",
        "format": "csv",
        "schedule": {"cron": "0 2 * * *", "time_zone": "Europe/Berlin"},
        "compute": {"size": "medium"},
        "max_replicas": 2,
        "max_runtime_seconds": 5400,
    }
    return {"batch": [{**entry, **changes}]}


@pytest.fixture(scope="module")
def prod() -> CapturedStack:
    return protected("prod", aws={"approved_model_packages": {"nightly": PACKAGE_VERSION}}, **nightly())


@pytest.fixture(scope="module")
def dev() -> CapturedStack:
    return realize("dev", **nightly())


def batch_steps(stack: CapturedStack) -> dict[str, Any]:
    (pipeline,) = [r for r in stack.by_type(PIPELINE) if r.name == "aws-batch-nightly-pipeline"]
    return {step["Name"]: step for step in json.loads(pipeline.inputs["pipelineDefinition"])["Steps"]}


def test_prod_scores_the_approved_version_into_the_protected_batch_bucket(prod):
    assert outputs(prod)["batchPipelineNames"] == {"nightly": "churn-prod-aws-batch-nightly"}
    steps = batch_steps(prod)
    package = steps["CreateModel"]["Arguments"]["PrimaryContainer"]["ModelPackageName"]
    assert package == f"arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-prod-churn/{PACKAGE_VERSION}"
    transform = steps["Transform"]["Arguments"]
    assert transform["TransformOutput"]["KmsKeyId"] == transform["TransformResources"]["VolumeKmsKeyId"]
    assert transform["TransformOutput"]["KmsKeyId"] == outputs(prod)["keyArn"]
    assert transform["TransformResources"]["InstanceCount"] == 2
    (bucket,) = [b for b in prod.by_type(BUCKET) if b.name == "aws-batch-data-bucket"]
    assert bucket.protect and bucket.retain_on_delete
    output = transform["TransformOutput"]["S3OutputPath"]["Std:Join"]["Values"][0]
    assert output == f"s3://{bucket.inputs['bucket']}/predictions/nightly"
    assert mandatory(prod) == []


def test_a_failed_timed_out_or_unstarted_batch_run_is_a_warning(prod):
    (rule,) = [r for r in prod.by_type(RULE) if r.name == "aws-batch-failed"]
    pattern = json.loads(rule.inputs["eventPattern"])
    (machine,) = prod.by_type("aws:sfn/stateMachine:StateMachine")
    assert pattern == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {
            "stateMachineArn": [f"arn:aws:states:us-east-1:123456789012:stateMachine:{machine.inputs['name']}"],
            "status": ["FAILED", "TIMED_OUT", "ABORTED"],
        },
    }
    (target,) = [t for t in prod.by_type("aws:cloudwatch/eventTarget:EventTarget") if t.name.startswith(rule.name)]
    assert target.inputs["arn"] == "arn:aws:sns:us-east-1:123456789012:churn-prod-aws-alerts"
    # The warning topic admits this rule as a publisher (and the critical topic does not).
    policies = {p.name: p.inputs["policy"] for p in prod.by_type("aws:sns/topicPolicy:TopicPolicy")}
    assert rule.inputs["name"] in policies["aws-alerts-policy"]
    assert rule.inputs["name"] not in policies["aws-alerts-critical-policy"]
    # The training rule still watches the training pipeline only.
    (training,) = [r for r in prod.by_type(RULE) if r.name == "aws-training-failed"]
    assert len(json.loads(training.inputs["eventPattern"])["detail"]["pipelineArn"]) == 1


def test_dev_without_a_version_scores_the_image_and_artifact_of_the_model_store(dev):
    container = batch_steps(dev)["CreateModel"]["Arguments"]["PrimaryContainer"]
    assert container["Image"] == IMAGE
    assert container["ModelDataUrl"].endswith("/churn/champion/model.tar.gz")
    assert container["ModelDataUrl"].startswith("s3://churn-dev-aws-model-store")


@pytest.mark.parametrize(
    ("environment", "changes", "field", "reason"),
    [
        ("prod", {}, "aws.approved_model_packages.nightly", "batch 'nightly' serves an unregistered artifact"),
        ("dev", {"input": "gs://churn/scoring/"}, "batch.0.input", "on AWS it must be s3://"),
        ("dev", {"schedule": {"cron": "0 2 1 * 1"}}, "batch.0.schedule.cron", "EventBridge Scheduler"),
    ],
)
def test_what_aws_cannot_realize_is_refused_by_field_before_anything_registers(environment, changes, field, reason):
    with pytest.raises(ProgramError) as info:
        protected(environment, **nightly(**changes)) if environment == "prod" else realize(
            environment, **nightly(**changes)
        )
    assert field in str(info.value) and reason in str(info.value), str(info.value)
    assert info.value.registered == []


def test_latest_approved_scores_the_registrys_newest_approved_package_of_each_run():
    """``serve: latest_approved``: the version the registry answers when the program runs (offline: config)."""
    spec = churn_spec(registry={"approval": {"mode": "manual", "serve": "latest_approved"}}, **nightly())

    def program() -> None:
        pulumi.export("platform", MlPlatform("churn", spec).outputs)

    stack = plan(program, environment="prod", config={"offlineApprovedVersions": {"scoring": 9, "nightly": 11}})
    container = batch_steps(stack)["CreateModel"]["Arguments"]["PrimaryContainer"]
    assert container == {
        "ModelPackageName": "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-prod-churn/11"
    }


def test_a_batch_only_platform_reads_its_artifact_from_its_own_model_store():
    spec = churn_spec(**nightly())
    for section in ("training", "feature_store", "tracking"):
        spec.pop(section)
    spec["endpoints"] = []

    def program() -> None:
        pulumi.export("platform", MlPlatform("churn", spec).outputs)

    stack = plan(program, environment="dev")
    container = batch_steps(stack)["CreateModel"]["Arguments"]["PrimaryContainer"]
    (store,) = [b for b in stack.by_type(BUCKET) if b.name == "aws-model-store-bucket"]
    assert container["ModelDataUrl"] == f"s3://{store.inputs['bucket']}/churn/champion/model.tar.gz"


def test_people_operate_batch_runs_by_persona(prod):
    from test_aws_access import _arn, _grants

    pipeline = _arn("pipeline", "churn-prod-aws-batch-nightly")
    runs = f"{pipeline}/execution/*"
    engineers, devops, scientists = (_grants(prod, p) for p in ("ml-engineers", "devops", "data-scientists"))
    assert pipeline in engineers["sagemaker:StartPipelineExecution"]
    assert runs in engineers["sagemaker:StopPipelineExecution"]
    # DevOps stop a stuck run or retry a failed one, but start none; data scientists only read.
    assert runs in devops["sagemaker:StopPipelineExecution"] and runs in devops["sagemaker:RetryPipelineExecution"]
    assert pipeline not in devops.get("sagemaker:StartPipelineExecution", set())
    assert runs in scientists["sagemaker:DescribePipelineExecution"]
    assert runs not in scientists.get("sagemaker:StopPipelineExecution", set())
    assert pipeline not in scientists.get("sagemaker:StartPipelineExecution", set())
