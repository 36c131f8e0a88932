"""TrainingPipeline under mocks: children, key wiring, IAM, the rendered definition, the schedule, validation."""

import json
import re
import sys

import pulumi
import pulumi_aws as aws
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mlops_infra.aws import pipeline_template as template
from mlops_infra.aws.iam import UNSCOPABLE_ACTIONS
from mlops_infra.aws.pipeline_definition import iter_steps, security_findings, step_dependencies, topological_order
from mlops_infra.aws.schedule import eventbridge_cron
from mlops_infra.aws.training_pipeline import TrainingPipeline, TrainingPipelineArgs
from mlops_infra.aws.training_schedule import START_PIPELINE_TARGET_ARN, TrainingScheduleArgs
from mlops_infra.engine import ProgramError, run_program
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.testing import child_resources, iam_statements, one, plan, required_tags_present

KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
ACCOUNT = "123456789012"
TRAIN_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-train:1.4.2"
PROCESS_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-process@sha256:" + "a" * 64
ALARM = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:churn-feature-drift"
PIPELINE = "aws:sagemaker/pipeline:Pipeline"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SCHEDULE = "aws:scheduler/schedule:Schedule"
QUEUE = "aws:sqs/queue:Queue"
COMPONENT = "mlops-infra:aws:TrainingPipeline"


def args(**overrides):
    base = {
        "model_package_group_name": "churn-models",
        "training_image_uri": TRAIN_IMAGE,
        "processing_image_uri": PROCESS_IMAGE,
        "training_instance_type": "ml.m5.xlarge",
        "processing_instance_type": "ml.m5.large",
        "volume_size_gb": 50,
        "max_runtime_seconds": 7200,
        "gate": {"name": "auc", "threshold": 0.8, "direction": "maximize"},
        "kms_key_arn": KEY,
        "schedule": {
            "cron": "0 3 * * 1",  # Mondays 03:00 (EventBridge: cron(0 3 ? * MON *))
            "time_zone": "Europe/Berlin",
            "pipeline_parameters": {"InputDataUrl": "s3://churn-raw-data/daily/"},
        },
        "retrain_on_alarm_arns": [ALARM],
    }
    base.update(overrides)
    return base


def build(environment="dev", **overrides):
    return plan(lambda: TrainingPipeline("churn", args(**overrides)), environment=environment)


@pytest.fixture(scope="module")
def prod():
    return build("prod")


@pytest.fixture(scope="module")
def dev():
    return build("dev")


def definition_of(stack):
    return json.loads(one(stack, PIPELINE).inputs["pipelineDefinition"])


def steps_by_name(definition):
    return {step["Name"]: step for step, _ in iter_steps(definition)}


def role_named(stack, suffix):
    return next(r for r in stack.by_type(ROLE) if r.name == f"churn-{suffix}")


def policy_of(stack, suffix):
    return iam_statements(next(r for r in stack.by_type(ROLE_POLICY) if r.name == f"churn-{suffix}"))


def test_children_types_counts_and_parents(prod):
    component = one(prod, COMPONENT)
    direct = [r for r in prod.resources if r.parent == component.urn]
    counts = {}
    for child in direct:
        counts[child.type] = counts.get(child.type, 0) + 1
    assert counts == {
        "mlops-infra:aws:SecureBucket": 1,
        ROLE: 3,  # execution, scheduler, alarm-rule roles
        ROLE_POLICY: 3,
        PIPELINE: 1,
        SCHEDULE: 1,
        QUEUE: 1,
        "aws:sqs/queuePolicy:QueuePolicy": 1,
        "aws:cloudwatch/eventRule:EventRule": 1,
        "aws:cloudwatch/eventTarget:EventTarget": 1,
    }
    bucket_component = one(prod, "mlops-infra:aws:SecureBucket")
    assert one(prod, "aws:s3/bucket:Bucket").parent == bucket_component.urn
    # Everything else the component created sits below it.
    below = {r.urn for r in child_resources(prod, component.urn)}
    assert {r.urn for r in prod.resources if r.type.startswith("aws:")} <= below
    # An explicit key: no shared platform key is created.
    assert prod.by_type("mlops-infra:aws:PlatformKey") == []


def test_pipeline_is_named_explicitly_and_runs_as_the_execution_role(prod):
    pipeline = one(prod, PIPELINE)
    assert pipeline.inputs["pipelineName"] == "churn-prod-churn"
    assert pipeline.inputs["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/churn-prod-us-east-1-churn-exec"
    # Jobs only start once the role's permissions exist.
    policy = next(r for r in prod.by_type(ROLE_POLICY) if r.name == "churn-execution-policy")
    assert policy.urn in pipeline.dependencies


def test_every_job_encrypts_volumes_and_outputs_with_the_key(prod):
    definition = definition_of(prod)
    steps = steps_by_name(definition)
    for name in (template.PREPROCESS, template.EVALUATE):
        arguments = steps[name]["Arguments"]
        assert arguments["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == KEY
        assert arguments["ProcessingOutputConfig"]["KmsKeyId"] == KEY
        assert arguments["NetworkConfig"] == {
            "EnableNetworkIsolation": True,
            "EnableInterContainerTrafficEncryption": True,
        }
    training = steps[template.TRAIN]["Arguments"]
    assert training["ResourceConfig"]["VolumeKmsKeyId"] == KEY
    assert training["OutputDataConfig"]["KmsKeyId"] == KEY
    assert training["EnableNetworkIsolation"] is True
    assert training["EnableInterContainerTrafficEncryption"] is True
    assert security_findings(definition) == []
    for step in (steps[template.PREPROCESS], steps[template.TRAIN], steps[template.EVALUATE]):
        assert step["Arguments"]["RoleArn"] == one(prod, PIPELINE).inputs["roleArn"]


def test_dead_letter_queue_schedule_and_bucket_use_the_key(prod):
    queue = one(prod, QUEUE)
    assert queue.inputs["kmsMasterKeyId"] == KEY
    assert queue.inputs["messageRetentionSeconds"] == 14 * 24 * 3600
    assert one(prod, SCHEDULE).inputs["kmsKeyArn"] == KEY
    sse = one(prod, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    default = sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert default == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY}


def test_default_key_is_the_shared_platform_key():
    stack = build(kms_key_arn=None)
    key_arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/"
    assert len(stack.by_type("mlops-infra:aws:PlatformKey")) == 1
    definition = definition_of(stack)
    volume_key = steps_by_name(definition)[template.TRAIN]["Arguments"]["ResourceConfig"]["VolumeKmsKeyId"]
    assert volume_key.startswith(key_arn)
    assert one(stack, QUEUE).inputs["kmsMasterKeyId"] == volume_key


def test_an_explicit_provider_reaches_every_child_and_picks_its_own_key():
    def program():
        eu = aws.Provider("eu", region="eu-west-1")
        TrainingPipeline("churn", args(kms_key_arn=None), opts=pulumi.ResourceOptions(provider=eu))

    stack = plan(program)
    component = one(stack, COMPONENT)
    for child in child_resources(stack, component.urn):
        if child.custom:
            assert child.provider and "::eu::" in child.provider, child.urn
    assert "::eu::" in one(stack, "aws:kms/key:Key").provider


def _assert_least_privilege(statements):
    for entry in statements:
        actions = entry["Action"]
        assert all("*" not in action for action in actions), entry
        if "*" in entry["Resource"]:
            assert set(actions) <= UNSCOPABLE_ACTIONS, entry


def test_execution_role_is_scoped_to_its_prefix_key_images_jobs_and_group(prod):
    role = role_named(prod, "execution-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    statements = {s["Sid"]: s for s in policy_of(prod, "execution-policy")}
    _assert_least_privilege(statements.values())
    bucket = f"arn:aws:s3:::churn-prod-churn-artifacts-{ACCOUNT}-us-east-1"
    assert statements["ArtifactObjects"]["Resource"] == [f"{bucket}/pipelines/churn/*"]
    assert "s3:ListBucket" not in statements["ArtifactObjects"]["Action"]
    assert statements["ListArtifactPrefix"]["Resource"] == [bucket]
    assert statements["ListArtifactPrefix"]["Condition"] == {
        "StringLike": {"s3:prefix": ["pipelines/churn", "pipelines/churn/*"]}
    }
    assert statements["UsePlatformKey"]["Resource"] == [KEY]
    assert statements["GrantKeyToSageMakerVolumes"]["Action"] == ["kms:CreateGrant"]
    assert statements["GrantKeyToSageMakerVolumes"]["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert statements["PullPipelineImages"]["Resource"] == [
        f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/churn-process",
        f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/churn-train",
    ]
    assert statements["EcrLogin"] == {
        "Effect": "Allow",
        "Action": ["ecr:GetAuthorizationToken"],
        "Resource": ["*"],
        "Sid": "EcrLogin",
    }
    logs = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/sagemaker/*"
    assert statements["JobLogs"]["Resource"] == [logs, f"{logs}:log-stream:*"]
    assert statements["RunPipelineJobs"]["Resource"] == [
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:processing-job/pipelines-*",
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:training-job/pipelines-*",
    ]
    register = statements["RegisterModelVersions"]
    assert "sagemaker:CreateModelPackage" in register["Action"]
    assert f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package-group/churn-models" in register["Resource"]
    # The scheduled run reads its input bucket's prefix, nothing else of it.
    assert statements["ReadInputs0"]["Action"] == ["s3:GetObject"]
    assert statements["ReadInputs0"]["Resource"] == ["arn:aws:s3:::churn-raw-data/daily/*"]
    assert statements["ListInputs0"]["Condition"] == {"StringLike": {"s3:prefix": ["daily/*"]}}
    pass_role = statements["PassOwnRoleToSageMaker"]
    assert pass_role["Action"] == ["iam:PassRole"]
    assert pass_role["Resource"] == [one(prod, PIPELINE).inputs["roleArn"]]
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    assert not any(s.startswith("Vpc") for s in statements)


def test_scheduler_and_alarm_roles_may_only_start_this_pipeline(prod):
    pipeline_arn = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:pipeline/churn-prod-churn"
    queue_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:churn-prod-churn-start-dlq"
    scheduler_trust = json.loads(role_named(prod, "scheduler").inputs["assumeRolePolicy"])["Statement"][0]
    assert scheduler_trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert scheduler_trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    scheduler = {s["Sid"]: s for s in policy_of(prod, "scheduler-policy")}
    _assert_least_privilege(scheduler.values())
    assert scheduler["StartThisPipeline"]["Action"] == ["sagemaker:StartPipelineExecution"]
    assert scheduler["StartThisPipeline"]["Resource"] == [pipeline_arn]
    assert scheduler["DeadLetters"] == {
        "Effect": "Allow",
        "Action": ["sqs:SendMessage"],
        "Resource": [queue_arn],
        "Sid": "DeadLetters",
    }
    assert scheduler["UsePlatformKey"]["Resource"] == [KEY]
    retrain = policy_of(prod, "retrain-policy")
    assert retrain == [
        {
            "Effect": "Allow",
            "Action": ["sagemaker:StartPipelineExecution"],
            "Resource": [pipeline_arn],
            "Sid": "StartThisPipeline",
        }
    ]
    events_trust = json.loads(role_named(prod, "retrain").inputs["assumeRolePolicy"])["Statement"][0]
    assert events_trust["Principal"] == {"Service": "events.amazonaws.com"}


def test_dead_letter_queue_accepts_only_this_schedule_and_rule_over_tls(prod):
    statements = {s["Sid"]: s for s in iam_statements(one(prod, "aws:sqs/queuePolicy:QueuePolicy"))}
    assert statements["ScheduleDeadLetters"]["Principal"] == {
        "AWS": f"arn:aws:iam::{ACCOUNT}:role/churn-prod-us-east-1-churn-scheduler"
    }
    assert statements["ScheduleDeadLetters"]["Action"] == ["sqs:SendMessage"]
    rule_arn = f"arn:aws:events:us-east-1:{ACCOUNT}:rule/churn-prod-churn-retrain-on-alarm"
    assert statements["AlarmRuleDeadLetters"]["Principal"] == {"Service": "events.amazonaws.com"}
    assert statements["AlarmRuleDeadLetters"]["Condition"] == {"ArnEquals": {"aws:SourceArn": rule_arn}}
    deny = statements["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    for entry in statements.values():
        assert all("*" not in action for action in entry["Action"])


def test_schedule_starts_the_pipeline_through_the_universal_target(prod):
    schedule = one(prod, SCHEDULE).inputs
    assert schedule["name"] == "churn-prod-churn-retrain"
    assert schedule["scheduleExpression"] == "cron(0 3 ? * MON *)"
    assert schedule["scheduleExpressionTimezone"] == "Europe/Berlin"
    assert schedule["flexibleTimeWindow"] == {"mode": "OFF"}
    assert schedule["state"] == "ENABLED"
    target = schedule["target"]
    assert target["arn"] == START_PIPELINE_TARGET_ARN
    assert target["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/churn-prod-us-east-1-churn-scheduler"
    assert target["retryPolicy"] == {"maximumRetryAttempts": 3, "maximumEventAgeInSeconds": 3600}
    assert target["deadLetterConfig"] == {"arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:churn-prod-churn-start-dlq"}
    request = json.loads(target["input"])
    assert request == {
        "PipelineName": one(prod, PIPELINE).inputs["pipelineName"],
        "PipelineParameters": [{"Name": "InputDataUrl", "Value": "s3://churn-raw-data/daily/"}],
    }
    assert "ClientRequestToken" not in request


def test_flexible_window_disabled_state_and_retry_policy_are_passed_through():
    stack = build(
        schedule={
            "cron": "0 */12 * * *",
            "flexible_time_window": "FLEXIBLE",
            "maximum_window_minutes": 45,
            "state": "DISABLED",
            "maximum_retry_attempts": 0,
            "maximum_event_age_seconds": 60,
        }
    )
    schedule = one(stack, SCHEDULE).inputs
    assert schedule["scheduleExpression"] == "cron(0 0/12 * * ? *)"
    assert schedule["scheduleExpressionTimezone"] == "UTC"
    assert schedule["flexibleTimeWindow"] == {"mode": "FLEXIBLE", "maximumWindowInMinutes": 45}
    assert schedule["state"] == "DISABLED"
    assert schedule["target"]["retryPolicy"] == {"maximumRetryAttempts": 0, "maximumEventAgeInSeconds": 60}
    assert json.loads(schedule["target"]["input"]) == {"PipelineName": "churn-dev-churn"}


def test_alarm_rule_starts_the_pipeline_when_an_alarm_fires(prod):
    rule = one(prod, "aws:cloudwatch/eventRule:EventRule")
    assert json.loads(rule.inputs["eventPattern"]) == {
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "resources": [ALARM],
        "detail": {"state": {"value": ["ALARM"]}},
    }
    target = one(prod, "aws:cloudwatch/eventTarget:EventTarget").inputs
    assert target["arn"] == f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:pipeline/churn-prod-churn"
    assert target["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/churn-prod-us-east-1-churn-retrain"
    assert target["sagemakerPipelineTarget"] == {
        "pipelineParameterLists": [{"name": "InputDataUrl", "value": "s3://churn-raw-data/daily/"}]
    }
    assert target["deadLetterConfig"]["arn"].endswith(":churn-prod-churn-start-dlq")


def test_without_schedule_or_alarms_there_is_nothing_to_start_it():
    stack = build(schedule=None, retrain_on_alarm_arns=[])
    assert stack.by_type(SCHEDULE) == [] and stack.by_type(QUEUE) == []
    assert [r.name for r in stack.by_type(ROLE)] == ["churn-execution-role"]


def test_step_graph_runs_preprocess_train_evaluate_then_the_condition(prod):
    definition = definition_of(prod)
    assert definition["Version"] == "2020-12-01"
    graph = step_dependencies(definition)
    assert graph == {
        "Preprocess": set(),
        "Train": {"Preprocess"},
        "Evaluate": {"Train", "Preprocess"},
        "CheckMetric": {"Evaluate"},
        "RegisterModel": {"CheckMetric", "Train", "Evaluate"},
        "MetricBelowThreshold": {"CheckMetric"},
    }
    order = topological_order(graph)
    assert order.index("Preprocess") < order.index("Train") < order.index("Evaluate") < order.index("CheckMetric")
    assert order.index("CheckMetric") < order.index("RegisterModel")


def test_condition_compares_the_evaluation_metric_with_the_threshold(prod):
    definition = definition_of(prod)
    steps = steps_by_name(definition)
    assert steps["Evaluate"]["PropertyFiles"] == [
        {"PropertyFileName": "EvaluationReport", "OutputName": "evaluation", "FilePath": "evaluation.json"}
    ]
    condition = steps["CheckMetric"]["Arguments"]["Conditions"][0]
    assert condition["Type"] == "GreaterThanOrEqualTo"
    assert condition["LeftValue"] == {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"},
            "Path": "metrics.auc.value",
        }
    }
    assert condition["RightValue"] == {"Get": "Parameters.MetricThreshold"}
    parameters = {p["Name"]: p for p in definition["Parameters"]}
    assert parameters["MetricThreshold"] == {"Name": "MetricThreshold", "Type": "Float", "DefaultValue": 0.8}
    assert [s["Name"] for s in steps["CheckMetric"]["Arguments"]["IfSteps"]] == ["RegisterModel"]
    assert [s["Type"] for s in steps["CheckMetric"]["Arguments"]["ElseSteps"]] == ["Fail"]
    register = steps["RegisterModel"]["Arguments"]
    assert register["ModelPackageGroupName"] == "churn-models"
    assert register["InferenceSpecification"]["Containers"][0]["Image"] == TRAIN_IMAGE


def test_minimized_metric_uses_less_than_or_equal():
    stack = build(gate={"name": "rmse", "threshold": 4.5, "direction": "minimize"}, schedule=None)
    condition = steps_by_name(definition_of(stack))["CheckMetric"]["Arguments"]["Conditions"][0]
    assert condition["Type"] == "LessThanOrEqualTo"
    assert condition["LeftValue"]["Std:JsonGet"]["Path"] == "metrics.rmse.value"


@pytest.mark.parametrize(
    ("environment", "configured", "expected"),
    [
        ("prod", None, "PendingManualApproval"),
        ("staging", None, "PendingManualApproval"),
        ("dev", None, "Approved"),
        ("prod", "Approved", "Approved"),
        ("dev", "PendingManualApproval", "PendingManualApproval"),
    ],
)
def test_approval_status_is_manual_in_protected_environments(environment, configured, expected):
    stack = build(environment, model_approval_status=configured, schedule=None)
    definition = definition_of(stack)
    parameters = {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}
    assert parameters["ModelApprovalStatus"] == expected
    register = steps_by_name(definition)["RegisterModel"]["Arguments"]
    assert register["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}


def test_a_schedule_cannot_auto_approve_in_prod():
    overriding = {"cron": "0 0 * * *", "pipeline_parameters": {"ModelApprovalStatus": "Approved"}}
    with pytest.raises(ProgramError, match=r"schedule\.pipeline_parameters\.ModelApprovalStatus") as caught:
        build("prod", schedule=overriding)
    assert caught.value.registered == []
    # In dev, where packages are approved anyway, the same override is fine.
    assert one(build("dev", schedule=overriding), SCHEDULE)


def test_spot_training_waits_at_least_the_runtime_and_checkpoints():
    stack = build(use_spot=True, max_wait_seconds=10800, schedule=None)
    training = steps_by_name(definition_of(stack))["Train"]["Arguments"]
    assert training["EnableManagedSpotTraining"] is True
    assert training["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200, "MaxWaitTimeInSeconds": 10800}
    checkpoint = training["CheckpointConfig"]["S3Uri"]["Std:Join"]
    assert checkpoint["Values"][0].endswith("/pipelines/churn")
    assert checkpoint["Values"][1:] == [{"Get": "Execution.PipelineExecutionId"}, "checkpoints"]
    on_demand = steps_by_name(definition_of(build(schedule=None)))["Train"]["Arguments"]
    assert "EnableManagedSpotTraining" not in on_demand and "CheckpointConfig" not in on_demand
    default_wait = steps_by_name(definition_of(build(use_spot=True, schedule=None)))["Train"]["Arguments"]
    assert default_wait["StoppingCondition"]["MaxWaitTimeInSeconds"] == 7200


def test_vpc_config_reaches_every_job_and_the_role_may_create_interfaces():
    stack = build(vpc_subnet_ids=["subnet-0a1", "subnet-0b2"], vpc_security_group_ids=["sg-0c3"], schedule=None)
    steps = steps_by_name(definition_of(stack))
    expected = {"SecurityGroupIds": ["sg-0c3"], "Subnets": ["subnet-0a1", "subnet-0b2"]}
    assert steps["Train"]["Arguments"]["VpcConfig"] == expected
    assert steps["Preprocess"]["Arguments"]["NetworkConfig"]["VpcConfig"] == expected
    statements = {s["Sid"]: s for s in policy_of(stack, "execution-policy")}
    assert f"arn:aws:ec2:us-east-1:{ACCOUNT}:subnet/subnet-0a1" in statements["VpcNetworkInterfaces"]["Resource"]
    assert all(a.startswith("ec2:Describe") for a in statements["VpcDescribe"]["Action"])


def test_shared_bucket_replaces_the_artifact_bucket():
    shared_arn = "arn:aws:s3:::ml-shared-artifacts"
    stack = build(
        artifact_bucket_name="ml-shared-artifacts", artifact_bucket_arn=shared_arn, artifact_prefix="teams/churn"
    )
    assert stack.by_type("mlops-infra:aws:SecureBucket") == [] and stack.by_type("aws:s3/bucket:Bucket") == []
    statements = {s["Sid"]: s for s in policy_of(stack, "execution-policy")}
    assert statements["ArtifactObjects"]["Resource"] == [f"{shared_arn}/teams/churn/*"]
    parameters = {p["Name"]: p["DefaultValue"] for p in definition_of(stack)["Parameters"]}
    assert parameters["InputDataUrl"] == "s3://ml-shared-artifacts/teams/churn/input/"


def test_required_tags_and_protection_in_prod(prod):
    assert required_tags_present(prod) == []
    bucket = one(prod, "aws:s3/bucket:Bucket")
    assert (bucket.protect, bucket.retain_on_delete) == (True, True)
    assert one(prod, PIPELINE).inputs["tags"]["environment"] == "prod"


# Policies about the whole stack (its budget, its audit trail), not about this component.
STACK_POLICIES = {"budget-required", "audit-logging"}


def test_the_platform_policies_pass_in_prod(prod):
    # Same functions as the policy pack.
    violations = [v for v in evaluate_stack(prod) if v.policy_id not in STACK_POLICIES]
    assert violations == []


def test_auto_approval_in_prod_is_what_the_model_approval_policy_flags():
    stack = build("prod", model_approval_status="Approved", schedule=None)
    flagged = {(v.policy_id, v.enforcement.value) for v in evaluate_stack(stack) if v.policy_id not in STACK_POLICIES}
    assert flagged == {("model-approval", "mandatory")}


def _user_definition():
    return {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "InputDataUrl", "Type": "String", "DefaultValue": "s3://churn-raw-data/daily/"}],
        "Steps": [
            {
                "Name": "Train",
                "Type": "Training",
                "Arguments": {
                    "AlgorithmSpecification": {"TrainingImage": TRAIN_IMAGE, "TrainingInputMode": "File"},
                    "RoleArn": "${ExecutionRoleArn}",
                    "OutputDataConfig": {"S3OutputPath": "${ArtifactS3Uri}/model", "KmsKeyId": "${KmsKeyArn}"},
                    "ResourceConfig": {
                        "InstanceType": "ml.m5.xlarge",
                        "InstanceCount": 1,
                        "VolumeSizeInGB": 30,
                        "VolumeKmsKeyId": "${KmsKeyArn}",
                    },
                    "InputDataConfig": [
                        {
                            "ChannelName": "train",
                            "DataSource": {
                                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": {"Get": "Parameters.InputDataUrl"}}
                            },
                        }
                    ],
                    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
                    "EnableNetworkIsolation": True,
                    "EnableInterContainerTrafficEncryption": True,
                },
            }
        ],
    }


def _assert_user_definition_deployed(stack):
    definition = definition_of(stack)
    arguments = definition["Steps"][0]["Arguments"]
    assert arguments["RoleArn"] == one(stack, PIPELINE).inputs["roleArn"]
    assert arguments["ResourceConfig"]["VolumeKmsKeyId"] == KEY
    assert arguments["OutputDataConfig"] == {
        "S3OutputPath": f"s3://churn-dev-churn-artifacts-{ACCOUNT}-us-east-1/pipelines/churn/model",
        "KmsKeyId": KEY,
    }
    assert definition["Parameters"] == _user_definition()["Parameters"]
    assert json.loads(one(stack, SCHEDULE).inputs["target"]["input"])["PipelineParameters"][0]["Name"] == "InputDataUrl"


def test_user_definition_as_dict_replaces_the_template():
    _assert_user_definition_deployed(build(pipeline_definition=_user_definition()))


def test_user_definition_from_a_json_file(tmp_path):
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(_user_definition()))
    _assert_user_definition_deployed(build(pipeline_definition=str(path)))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("Steps"), "Steps must be a non-empty list"),
        (lambda d: d.update(Version="2019-01-01"), "Version must be '2020-12-01'"),
        (lambda d: d["Steps"][0].update(Type="Magic"), "unknown Type 'Magic'"),
        (lambda d: d.update(Parameters=[]), "not declared: \\['InputDataUrl'\\]"),
        (lambda d: d["Steps"][0].update(DependsOn=["Ghost"]), "unknown steps \\['Ghost'\\]"),
        (
            lambda d: d["Steps"][0]["Arguments"]["AlgorithmSpecification"].update(
                TrainingImage=TRAIN_IMAGE.replace("1.4.2", "latest")
            ),
            "must be pinned",
        ),
        (
            lambda d: d["Steps"][0]["Arguments"]["ResourceConfig"].pop("VolumeKmsKeyId"),
            "ML storage volume without a customer-managed key",
        ),
        (
            lambda d: d["Steps"][0]["Arguments"].update(EnableNetworkIsolation=False),
            "'Train' \\(Training\\) can reach the internet",
        ),
    ],
)
def test_invalid_user_definitions_name_the_field(mutate, message):
    definition = _user_definition()
    mutate(definition)
    with pytest.raises(ValidationError, match=message) as caught:
        TrainingPipelineArgs.model_validate(args(pipeline_definition=definition))
    assert caught.value.errors()[0]["loc"][0] in ("pipeline_definition", "allow_insecure_definition")


def test_an_insecure_user_definition_needs_an_explicit_opt_out():
    definition = _user_definition()
    definition["Steps"][0]["Arguments"]["ResourceConfig"].pop("VolumeKmsKeyId")
    stack = build(pipeline_definition=definition, allow_insecure_definition=True)
    assert "VolumeKmsKeyId" not in definition_of(stack)["Steps"][0]["Arguments"]["ResourceConfig"]


def test_definition_file_errors_name_the_field(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    for value, message in ((str(broken), "is not JSON"), (str(tmp_path / "missing.json"), "cannot read")):
        with pytest.raises(ValidationError, match=message) as caught:
            TrainingPipelineArgs.model_validate(args(pipeline_definition=value))
        assert caught.value.errors()[0]["loc"] == ("pipeline_definition",)


def test_an_sdk_pipeline_without_the_sagemaker_extra_gets_a_clear_error(monkeypatch):
    class LooksLikeAnSdkPipeline:
        def definition(self):
            return json.dumps(_user_definition())

    # None in sys.modules makes the import fail exactly as a missing package does.
    monkeypatch.setitem(sys.modules, "sagemaker.workflow.pipeline", None)
    with pytest.raises(ValidationError, match=r"needs the 'sagemaker' extra") as caught:
        TrainingPipelineArgs.model_validate(args(pipeline_definition=LooksLikeAnSdkPipeline()))
    assert caught.value.errors()[0]["loc"] == ("pipeline_definition",)
    with pytest.raises(ValidationError, match="must be a dict, a path to a JSON file"):
        TrainingPipelineArgs.model_validate(args(pipeline_definition=42))


def test_schedule_parameters_must_exist_in_the_pipeline():
    with pytest.raises(ValidationError, match=r"\['Epochs'\] are not parameters") as caught:
        TrainingPipelineArgs.model_validate(
            args(schedule={"cron": "0 0 * * *", "pipeline_parameters": {"Epochs": "3"}})
        )
    assert caught.value.errors()[0]["loc"] == ("schedule",)


@pytest.mark.parametrize(
    ("overrides", "location"),
    [
        ({"schedule": {"cron": "0 3 ? * MON"}}, ("schedule", "cron")),
        ({"schedule": {"cron": "61 3 * * 1"}}, ("schedule", "cron")),
        ({"schedule": {"cron": "every day"}}, ("schedule", "cron")),
        ({"schedule": {"cron": "cron(0 3 ? * MON *)"}}, ("schedule", "cron")),
        ({"schedule": {"cron": "0 3 1 * 1"}}, ("schedule", "cron")),
        ({"schedule": {"cron": "0 0 * * *", "time_zone": "Mars/Olympus_Mons"}}, ("schedule", "time_zone")),
        (
            {"schedule": {"cron": "0 0 * * *", "flexible_time_window": "FLEXIBLE"}},
            ("schedule", "maximum_window_minutes"),
        ),
        (
            {"schedule": {"cron": "0 0 * * *", "maximum_retry_attempts": 186}},
            ("schedule", "maximum_retry_attempts"),
        ),
        (
            {"schedule": {"cron": "0 0 * * *", "maximum_event_age_seconds": 59}},
            ("schedule", "maximum_event_age_seconds"),
        ),
        ({"training_image_uri": TRAIN_IMAGE.replace("1.4.2", "latest")}, ("training_image_uri",)),
        (
            {"processing_image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-process"},
            ("processing_image_uri",),
        ),
        ({"training_image_uri": "docker.io/library/python:3.11"}, ("training_image_uri",)),
        ({"training_instance_type": "m5.xlarge"}, ("training_instance_type",)),
        ({"processing_instance_type": "ml.m5"}, ("processing_instance_type",)),
        ({"gate": {"name": "auc"}}, ("gate", "threshold")),
        ({"gate": {"name": "auc", "threshold": float("nan")}}, ("gate", "threshold")),
        ({"gate": {"name": "auc", "threshold": 0.8, "direction": "up"}}, ("gate", "direction")),
        ({"volume_size_gb": 0}, ("volume_size_gb",)),
        ({"max_runtime_seconds": 28 * 24 * 3600 + 1}, ("max_runtime_seconds",)),
        ({"use_spot": True, "max_wait_seconds": 3600}, ("max_wait_seconds",)),
        ({"max_wait_seconds": 7200}, ("max_wait_seconds",)),
        ({"vpc_subnet_ids": ["subnet-1"]}, ("vpc_security_group_ids",)),
        ({"artifact_bucket_name": "shared"}, ("artifact_bucket_arn",)),
        ({"artifact_prefix": "/leading"}, ("artifact_prefix",)),
        ({"retrain_on_alarm_arns": ["arn:aws:sns:us-east-1:123456789012:topic"]}, ("retrain_on_alarm_arns",)),
        ({"input_data_s3_uri": "https://bucket/key"}, ("input_data_s3_uri",)),
    ],
)
def test_invalid_args_name_the_field_and_register_nothing(overrides, location):
    values = args(**overrides)
    with pytest.raises(ValidationError) as caught:
        TrainingPipelineArgs.model_validate(values)
    assert caught.value.errors()[0]["loc"][: len(location)] == location
    with pytest.raises(ProgramError, match=re.escape(".".join(location))) as failed:
        plan(lambda: TrainingPipeline("churn", values))
    assert failed.value.registered == []


@settings(max_examples=25, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.integers(min_value=60, max_value=999).map(lambda m: f"{m} 3 * * 1"),
        st.integers(min_value=24, max_value=99).map(lambda h: f"0 {h} * * *"),
        st.integers(min_value=32, max_value=99).map(lambda d: f"0 3 {d} * *"),
        st.integers(min_value=1, max_value=31).map(lambda d: f"0 3 {d} * 1"),  # both days set: EventBridge cannot
        st.integers(min_value=1, max_value=4).map(lambda n: " ".join(["*"] * n)),
        st.just("0 3 ? * MON *"),  # EventBridge's own 6-field form is not a cron
    )
)
def test_invalid_schedules_always_name_the_field(cron):
    with pytest.raises(ValidationError) as caught:
        TrainingScheduleArgs.model_validate({"cron": cron})
    assert caught.value.errors()[0]["loc"] == ("cron",)


@settings(max_examples=25, deadline=None)
@given(
    minute=st.integers(0, 59),
    hour=st.integers(0, 23),
    day=st.sampled_from(["1", "1-5", "0", "7", "6,0", "MON-FRI", "*"]),
    every=st.integers(1, 30),
)
def test_valid_schedules_are_written_for_eventbridge(minute, hour, day, every):
    for cron in (f"{minute} {hour} * * {day}", f"*/{every} {hour} * * *"):
        schedule = TrainingScheduleArgs.model_validate({"cron": cron})
        expression = eventbridge_cron(schedule)
        fields = expression.removeprefix("cron(").removesuffix(")").split(" ")
        assert len(fields) == 6 and fields[5] == "*"
        assert (fields[2] == "?") != (fields[4] == "?"), expression  # '?' in exactly one day field
        assert fields[0] == (f"0/{every}" if cron.startswith("*/") else str(minute))


def test_schedule_days_of_week_are_converted_from_cron_numbering():
    assert eventbridge_cron(TrainingScheduleArgs(cron="0 3 * * 0")) == "cron(0 3 ? * SUN *)"
    assert eventbridge_cron(TrainingScheduleArgs(cron="0 3 * * 7")) == "cron(0 3 ? * SUN *)"
    assert eventbridge_cron(TrainingScheduleArgs(cron="0 3 * * 1-5")) == "cron(0 3 ? * MON-FRI *)"


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_example_program_plans_in_dev_and_prod(environment):
    stack = run_program("examples/aws/training_pipeline.py", "dev", [f"environment={environment}"])
    assert required_tags_present(stack) == []
    definition = definition_of(stack)
    parameters = {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}
    assert parameters["ModelApprovalStatus"] == ("PendingManualApproval" if environment == "prod" else "Approved")
    assert security_findings(definition) == []
    assert stack.outputs["pipelineName"] == f"training-pipeline-{environment}-churn"
    assert stack.outputs["approvalStatus"] == parameters["ModelApprovalStatus"]
    assert stack.outputs["scheduleArn"].startswith("arn:aws:scheduler:")
    assert stack.outputs["dlqArn"].startswith("arn:aws:sqs:")
    assert stack.outputs["executionRoleArn"] == one(stack, PIPELINE).inputs["roleArn"]
    [artifacts] = [b for b in stack.by_type("aws:s3/bucket:Bucket") if b.name == "churn-artifacts-bucket"]
    assert artifacts.protect is (environment == "prod")
    assert bool(stack.by_type("aws:cloudtrail/trail:Trail")) is (environment == "prod")  # policy audit-logging


def test_alarm_name_patterns_scale_retraining_to_any_number_of_monitors():
    import json as _json

    from mlops_infra.aws.training_schedule import alarm_event_pattern

    only_names = alarm_event_pattern([], ["churn-prod-*-drift-*"])
    assert only_names["detail"] == {"state": {"value": ["ALARM"]}, "alarmName": [{"wildcard": "churn-prod-*-drift-*"}]}
    assert "resources" not in only_names
    arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:quality"
    both = alarm_event_pattern([arn], ["churn-prod-*-drift-*"])
    assert both["$or"] == [{"resources": [arn]}, {"detail": {"alarmName": [{"wildcard": "churn-prod-*-drift-*"}]}}]
    assert both["detail"] == {"state": {"value": ["ALARM"]}}
    assert len(_json.dumps(only_names)) < 2048  # EventBridge's default pattern size limit


@pytest.mark.parametrize("shared", [False, True], ids=["own-bucket", "shared-bucket"])
def test_the_artifact_bucket_arn_is_exported_for_the_rest_of_the_stack(shared: bool) -> None:
    overrides = {"artifact_bucket_name": "shared", "artifact_bucket_arn": "arn:aws:s3:::shared"} if shared else {}

    def program() -> None:
        pipeline = TrainingPipeline("churn", args(**overrides))
        pulumi.export("arn", pipeline.artifact_bucket_arn)
        pulumi.export("name", pipeline.artifact_bucket_name)

    stack = plan(program)
    if shared:
        assert not stack.by_type("aws:s3/bucket:Bucket") and stack.outputs["arn"] == "arn:aws:s3:::shared"
    else:
        assert stack.outputs["arn"] == f"arn:aws:s3:::{one(stack, 'aws:s3/bucket:Bucket').inputs['bucket']}"
    assert stack.outputs["arn"].endswith(f":::{stack.outputs['name']}")
