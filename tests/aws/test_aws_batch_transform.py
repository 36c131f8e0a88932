"""BatchTransform under mocks: schedule -> supervisor -> pipeline wiring, the definition's KMS, IAM scope, input."""

import dataclasses
import json

import pytest
from pydantic import ValidationError

from mlops_infra.aws.batch_pipeline import CREATE_MODEL, INPUT_DATA_URL, TRANSFORM
from mlops_infra.aws.batch_supervisor import MAX_RUNTIME_ERROR, max_polls
from mlops_infra.aws.batch_transform import BatchTransform, BatchTransformArgs
from mlops_infra.aws.iam import UNSCOPABLE_ACTIONS
from mlops_infra.aws.pipeline_definition import security_findings, validate_definition
from mlops_infra.cost.catalogue import load_catalogue
from mlops_infra.cost.estimate import estimate_stack
from mlops_infra.cost.runs import runs_per_month
from mlops_infra.testing import iam_statements, one, plan, required_tags_present

KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-serve@sha256:" + "c" * 64
PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/7"
PIPELINE = "aws:sagemaker/pipeline:Pipeline"
MACHINE = "aws:sfn/stateMachine:StateMachine"
SCHEDULE = "aws:scheduler/schedule:Schedule"
POLICY = "aws:iam/rolePolicy:RolePolicy"


def args(**overrides):
    return {
        "kms_key_arn": KEY,
        "image": IMAGE,
        "model_data_url": "s3://churn-models/champion/model.tar.gz",
        "input_s3_uri": "s3://churn-batch/scoring/input/",
        "output_s3_uri": "s3://churn-batch/predictions/nightly/",
        "record_format": "csv",
        "instance_type": "ml.m5.xlarge",
        "instance_count": 3,
        "max_concurrent_transforms": 4,
        "max_payload_mb": 6,
        "max_runtime_seconds": 5400,
        "schedule": {"cron": "0 2 * * *", "time_zone": "Europe/Berlin"},
        **overrides,
    }


@pytest.fixture(scope="module")
def prod():
    return plan(lambda: BatchTransform("nightly", args()), environment="prod")


@pytest.fixture(scope="module")
def gpu_package():
    """A registry version on a type with local NVMe storage (no volume key there)."""
    overrides = {"model_package_arn": PACKAGE, "model_data_url": None, "instance_type": "ml.g4dn.xlarge"}
    return plan(lambda: BatchTransform("gpu", args(**overrides)), environment="dev")


def definition_of(stack):
    return json.loads(one(stack, PIPELINE).inputs["pipelineDefinition"])


def steps_of(stack):
    return {step["Name"]: step for step in definition_of(stack)["Steps"]}


def policy_named(stack, suffix):
    (found,) = [r for r in stack.by_type(POLICY) if r.name.endswith(suffix)]
    return {s["Sid"]: s for s in iam_statements(found)}


def test_the_schedule_starts_the_supervisor_which_runs_the_pipeline(prod):
    schedule, machine, pipeline = (one(prod, t).inputs for t in (SCHEDULE, MACHINE, PIPELINE))
    assert schedule["scheduleExpression"] == "cron(0 2 * * ? *)"
    assert schedule["scheduleExpressionTimezone"] == "Europe/Berlin"
    assert schedule["kmsKeyArn"] == KEY
    assert schedule["target"]["arn"].endswith(f":stateMachine:{machine['name']}")
    assert schedule["target"]["deadLetterConfig"]["arn"].endswith("-nightly-start-dlq")
    states = json.loads(machine["definition"])["States"]
    assert states["StartRun"]["Parameters"]["PipelineName"] == pipeline["pipelineName"] == "churn-prod-nightly"
    assert states["StartRun"]["Resource"] == "arn:aws:states:::aws-sdk:sagemaker:startPipelineExecution"
    # The deadline: 5400 s in 60 s polls, then StopPipelineExecution and a failed execution.
    deadline = states["Decide"]["Choices"][-1]
    assert (deadline["NumericGreaterThanEquals"], deadline["Next"]) == (max_polls(5400), "Stop") == (90, "Stop")
    assert states["Stop"]["Resource"].endswith(":stopPipelineExecution")
    assert (states["Stop"]["Next"], states["TimedOut"]["Error"]) == ("TimedOut", MAX_RUNTIME_ERROR)
    assert machine["encryptionConfiguration"] == {
        "type": "CUSTOMER_MANAGED_KMS_KEY",
        "kmsKeyId": KEY,
        "kmsDataKeyReusePeriodSeconds": 300,
    }


def test_the_transform_encrypts_output_and_volumes_and_scores_the_input(prod):
    definition = definition_of(prod)
    validate_definition(definition)
    assert security_findings(definition) == []
    assert definition["Parameters"] == [
        {"Name": INPUT_DATA_URL, "Type": "String", "DefaultValue": "s3://churn-batch/scoring/input/"}
    ]
    model, transform = steps_of(prod)[CREATE_MODEL], steps_of(prod)[TRANSFORM]
    assert model["Type"] == "Model" and model["Arguments"]["EnableNetworkIsolation"] is True
    assert model["Arguments"]["PrimaryContainer"]["ModelDataUrl"] == "s3://churn-models/champion/model.tar.gz"
    arguments = transform["Arguments"]
    assert arguments["ModelName"] == {"Get": f"Steps.{CREATE_MODEL}.ModelName"}
    assert arguments["TransformOutput"]["KmsKeyId"] == KEY
    assert arguments["TransformOutput"]["S3OutputPath"]["Std:Join"]["Values"] == [
        "s3://churn-batch/predictions/nightly",
        {"Get": "Execution.PipelineExecutionId"},
    ]
    assert arguments["TransformResources"] == {
        "InstanceCount": 3,
        "InstanceType": "ml.m5.xlarge",
        "VolumeKmsKeyId": KEY,
    }
    assert arguments["TransformInput"]["ContentType"] == arguments["TransformOutput"]["Accept"] == "text/csv"
    assert (arguments["MaxConcurrentTransforms"], arguments["MaxPayloadInMB"]) == (4, 6)


def test_a_registry_version_on_local_storage_gets_no_volume_key(gpu_package):
    steps = steps_of(gpu_package)
    assert steps[CREATE_MODEL]["Arguments"]["PrimaryContainer"] == {"ModelPackageName": PACKAGE}
    resources = steps[TRANSFORM]["Arguments"]["TransformResources"]
    assert "VolumeKmsKeyId" not in resources and resources["InstanceType"] == "ml.g4dn.xlarge"
    assert security_findings(definition_of(gpu_package)) == []
    grants = policy_named(gpu_package, "-execution-policy")
    assert grants["ReadModelVersion"]["Resource"] == [PACKAGE] and "ReadModel" not in grants


def test_roles_hold_only_their_prefixes_jobs_and_key(prod):
    execution = policy_named(prod, "-execution-policy")
    assert execution["ReadInputObjects"]["Resource"] == ["arn:aws:s3:::churn-batch/scoring/input/*"]
    assert execution["ReadInputList"]["Condition"] == {"StringLike": {"s3:prefix": ["scoring/input/*"]}}
    assert execution["WriteOutputObjects"]["Resource"] == ["arn:aws:s3:::churn-batch/predictions/nightly/*"]
    assert "s3:GetObject" not in execution["WriteOutputObjects"]["Action"]
    assert execution["ReadModel"]["Resource"] == ["arn:aws:s3:::churn-models/champion/model.tar.gz"]
    assert execution["PullServingImage"]["Resource"] == ["arn:aws:ecr:us-east-1:123456789012:repository/churn-serve"]
    assert all(r.endswith("/pipelines-*") for r in execution["RunTransform"]["Resource"])
    for statements in (execution, policy_named(prod, "-supervisor-policy"), policy_named(prod, "-scheduler-policy")):
        for statement in statements.values():
            if "*" in statement["Resource"]:
                assert set(statement["Action"]) <= UNSCOPABLE_ACTIONS, statement
    supervisor = policy_named(prod, "-supervisor-policy")
    assert supervisor["StartRun"]["Action"] == ["sagemaker:StartPipelineExecution"]
    assert supervisor["WatchAndStopRun"]["Resource"][0].endswith(":pipeline/churn-prod-nightly/execution/*")
    scheduler = policy_named(prod, "-scheduler-policy")
    assert scheduler["StartThisBatchRun"]["Action"] == ["states:StartExecution"]
    assert scheduler["StartThisBatchRun"]["Resource"] == [one(prod, SCHEDULE).inputs["target"]["arn"]]


def test_every_taggable_child_carries_the_required_tags(prod):
    assert required_tags_present(prod) == []


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"schedule": {"cron": "0 2 1 * 1"}}, "schedule", "both day of month and day of week"),
        ({"instance_type": "ml.t3.medium"}, "instance_type", "transform"),
        ({"model_package_arn": PACKAGE}, "", "exactly one of model_package_arn and model_data_url"),
        ({"image": "docker.io/library/churn:latest"}, "image", "ECR"),
        ({"output_s3_uri": "gs://churn/out/"}, "output_s3_uri", "s3"),
    ],
)
def test_bad_input_names_the_field(change, field, reason):
    with pytest.raises(ValidationError) as info:
        BatchTransformArgs.model_validate(args(**change))
    (error,) = info.value.errors()
    assert ".".join(map(str, error["loc"])).startswith(field) and reason in error["msg"], error


def test_cost_prices_runs_x_instances_x_deadline_at_the_transform_rate(prod):
    estimate = estimate_stack(prod, load_catalogue())
    (item,) = [i for i in estimate.items if i.type == MACHINE]
    usd = load_catalogue().price("aws", "sagemaker.transform", "ml.m5.xlarge", "us-east-1").usd
    expected = runs_per_month("cron(0 2 * * ? *)") * 3 * 1.5 * usd  # 3 instances, 5400 s deadline
    assert item.monthly_max == item.monthly_expected == pytest.approx(expected)
    assert "x 3 x ml.m5.xlarge x 1.5 h max runtime" in item.basis
    assert not [u for u in estimate.unpriced if "nightly" in u.urn]


@pytest.mark.parametrize(
    ("dropped", "reason"),
    [(PIPELINE, "the pipeline 'churn-prod-nightly' it starts is not in this stack"), (SCHEDULE, "no EventBridge")],
)
def test_cost_lists_a_run_it_cannot_bound_as_unpriced_with_the_reason(prod, dropped, reason):
    stack = dataclasses.replace(prod, resources=[r for r in prod.resources if r.type != dropped])
    estimate = estimate_stack(stack, load_catalogue())
    assert not [i for i in estimate.items if i.type == MACHINE]
    (unpriced,) = [u for u in estimate.unpriced if u.type == MACHINE]
    assert reason in unpriced.reason
