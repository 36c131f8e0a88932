"""Endpoint under mocks: children, key wiring, capture, variants, rollout, alarms, scaling, IAM and validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_infra.aws.endpoint import VPC_DESCRIBE_ACTIONS, Endpoint
from mlops_infra.aws.endpoint_args import EndpointArgs, VariantArgs
from mlops_infra.aws.iam import UNSCOPABLE_ACTIONS
from mlops_infra.engine import ProgramError, run_program
from mlops_infra.engine.captured import CapturedResource, CapturedStack
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.testing import child_resources, iam_statements, one, plan, required_tags_present

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "aws" / "endpoint.py"
TOKEN = "mlops-infra:aws:Endpoint"
MODEL = "aws:sagemaker/model:Model"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SECURE_BUCKET = "mlops-infra:aws:SecureBucket"
BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
TOPIC = "arn:aws:sns:us-east-1:123456789012:churn-oncall"
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
IMAGE = f"{REGISTRY}/churn/serve:1.4.2"
DIGEST_IMAGE = f"{REGISTRY}/churn/shadow@sha256:{'a' * 64}"
# Load the (lazily imported) provider packages before any plan: the offline engine drops modules first
# imported during a run when they live under the program's directory, and the repository holds .venv.
PROVIDER_CLASSES = (
    aws.appautoscaling.Policy,
    aws.cloudwatch.MetricAlarm,
    aws.iam.Role,
    aws.kms.Key,
    aws.s3.Bucket,
    aws.sagemaker.EndpointConfiguration,
)
PROD_FLEET = {"initial_instance_count": 2, "autoscaling": {"min_replicas": 2, "max_replicas": 6}}


def variant(name: str, artifact: str = "v1", image: str = IMAGE, **overrides: Any) -> dict[str, Any]:
    return {
        "name": name,
        "model": {"image": image, "model_data_url": f"s3://churn-models/{artifact}/model.tar.gz"},
        "instance_type": "ml.m5.large",
        **overrides,
    }


MULTI_MODEL = {"image": IMAGE, "model_data_url": "s3://churn-models/per-region/", "mode": "MultiModel"}


def endpoint_plan(args: dict[str, Any], environment: str = "dev") -> CapturedStack:
    return plan(lambda: Endpoint("scoring", args), environment=environment)


def ab_args(**extra: Any) -> dict[str, Any]:
    return {
        "variants": [
            variant("champion", "v1", weight=90, **PROD_FLEET),
            variant("challenger", "v2", weight=10, **PROD_FLEET),
        ],
        "alarms": {"alarm_actions": [TOPIC], "p95_latency_ms": 250, "error_rate_percent": 2.5},
        **extra,
    }


def serverless_args(**extra: Any) -> dict[str, Any]:
    return {
        "variants": [
            {
                "name": "main",
                "model": {"image": IMAGE, "model_data_url": "s3://churn-models/v1/model.tar.gz"},
                "serverless": {"memory_size_mb": 3072, "max_concurrency": 20},
            }
        ],
        "enable_network_isolation": False,
        "data_capture": None,
        "deployment": None,
        **extra,
    }


def shadow_args(**extra: Any) -> dict[str, Any]:
    return {
        "variants": [variant("champion", **PROD_FLEET)],
        "shadow_variant": variant("candidate", "v3", image=DIGEST_IMAGE, weight=0.5),
        "deployment": None,
        **extra,
    }


@pytest.fixture(scope="module")
def ab_prod() -> CapturedStack:
    return endpoint_plan(ab_args(kms_key_arn=KEY), environment="prod")


def by_name(stack: CapturedStack, type_token: str) -> dict[str, CapturedResource]:
    return {r.name: r for r in stack.by_type(type_token)}


def config_inputs(stack: CapturedStack) -> dict[str, Any]:
    return one(stack, CONFIG).inputs


# --- graph shape ---------------------------------------------------------------------------------


def test_children_types_counts_and_parents(ab_prod: CapturedStack) -> None:
    component = one(ab_prod, TOKEN)
    direct = ab_prod.children_of(component.urn)
    counts: dict[str, int] = {}
    for child in direct:
        counts[child.type] = counts.get(child.type, 0) + 1
    assert counts == {
        MODEL: 2,
        CONFIG: 1,
        ENDPOINT: 1,
        ALARM: 6,
        TARGET: 2,
        POLICY: 2,
        ROLE: 1,
        ROLE_POLICY: 1,
        LOG_GROUP: 1,
        SECURE_BUCKET: 1,
    }
    # The capture bucket's own resources hang below the SecureBucket, which hangs below the endpoint.
    bucket_component = one(ab_prod, SECURE_BUCKET)
    assert one(ab_prod, BUCKET).parent == bucket_component.urn
    every = child_resources(ab_prod, component.urn)
    assert {r.urn for r in every} >= {r.urn for r in child_resources(ab_prod, bucket_component.urn)}
    # An explicit key: no shared platform key is created.
    assert ab_prod.by_type("aws:kms/key:Key") == []


def test_minimal_dev_endpoint_has_one_of_each_and_no_extras() -> None:
    stack = endpoint_plan({"variants": [variant("main")]})
    component = one(stack, TOKEN)
    types = sorted(r.type for r in stack.children_of(component.urn))
    assert types == sorted(
        [MODEL, CONFIG, ENDPOINT, ALARM, ALARM, ALARM, TARGET, POLICY, ROLE, ROLE_POLICY, LOG_GROUP, SECURE_BUCKET]
    )
    # No key given: the stack's shared platform key is created at the root, not below the endpoint.
    key = one(stack, "mlops-infra:aws:PlatformKey")
    assert key.parent != component.urn


def test_required_tags_on_every_resource(ab_prod: CapturedStack) -> None:
    assert required_tags_present(ab_prod) == []
    assert required_tags_present(endpoint_plan(serverless_args())) == []


def test_outputs_match_the_resources() -> None:
    def program() -> None:
        endpoint = Endpoint("scoring", ab_args())
        pulumi.export("name", endpoint.endpoint_name)
        pulumi.export("config", endpoint.endpoint_config_name)
        pulumi.export("models", endpoint.model_names)
        pulumi.export("alarms", endpoint.alarm_names)
        pulumi.export("alarmArns", endpoint.alarm_arns)
        pulumi.export("capture", endpoint.capture_s3_uri)
        pulumi.export("role", endpoint.role_arn)

    stack = plan(program)
    assert stack.outputs["name"] == one(stack, ENDPOINT).inputs["name"] == "churn-dev-scoring"
    assert stack.outputs["config"] == config_inputs(stack)["name"]
    assert stack.outputs["models"] == {
        m.name.removeprefix("scoring-model-"): m.inputs["name"] for m in stack.by_type(MODEL)
    }
    assert sorted(stack.outputs["alarms"]) == sorted(a.inputs["name"] for a in stack.by_type(ALARM))
    assert all(arn.startswith("arn:aws:cloudwatch:us-east-1:123456789012:") for arn in stack.outputs["alarmArns"])
    assert stack.outputs["capture"] == config_inputs(stack)["dataCaptureConfig"]["destinationS3Uri"]
    assert stack.outputs["role"] == "arn:aws:iam::123456789012:role/churn-dev-us-east-1-scoring-endpoint"


# --- keys and data capture ----------------------------------------------------------------------------


def test_explicit_key_reaches_config_capture_bucket_and_logs(ab_prod: CapturedStack) -> None:
    config = config_inputs(ab_prod)
    assert config["kmsKeyArn"] == KEY
    assert config["dataCaptureConfig"]["kmsKeyId"] == KEY
    (rule,) = one(ab_prod, SSE).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY}
    assert one(ab_prod, LOG_GROUP).inputs["kmsKeyId"] == KEY


def test_shared_platform_key_is_used_everywhere_by_default() -> None:
    stack = endpoint_plan({"variants": [variant("main")]})
    key_id = one(stack, "aws:kms/alias:Alias").inputs["targetKeyId"]
    shared = f"arn:aws:kms:us-east-1:123456789012:key/{key_id}"
    config = config_inputs(stack)
    assert config["kmsKeyArn"] == shared
    assert config["dataCaptureConfig"]["kmsKeyId"] == shared
    assert one(stack, SSE).inputs["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == shared
    (kms,) = [s for s in iam_statements(one(stack, ROLE_POLICY)) if s["Sid"] == "UseEndpointKey"]
    assert kms["Resource"] == [shared]


def test_data_capture_goes_to_the_new_bucket_with_sampling_and_both_directions() -> None:
    stack = endpoint_plan({"variants": [variant("main")], "data_capture": {"sampling_percent": 35}})
    bucket = one(stack, BUCKET).inputs["bucket"]
    capture = config_inputs(stack)["dataCaptureConfig"]
    assert capture["enableCapture"] is True
    assert capture["initialSamplingPercentage"] == 35
    assert capture["destinationS3Uri"] == f"s3://{bucket}/data-capture"
    assert capture["captureOptions"] == [{"captureMode": "Input"}, {"captureMode": "Output"}]
    assert capture["captureContentTypeHeader"] == {
        "jsonContentTypes": ["application/json"],
        "csvContentTypes": ["text/csv"],
    }
    (write,) = [s for s in iam_statements(one(stack, ROLE_POLICY)) if s["Sid"] == "WriteCapturedData"]
    assert write["Action"] == ["s3:PutObject"]
    assert write["Resource"] == [f"arn:aws:s3:::{bucket}/data-capture/*"]


def test_existing_capture_uri_creates_no_bucket_and_scopes_writes_to_its_prefix() -> None:
    args = {
        "variants": [variant("main")],
        "data_capture": {"destination_uri": "s3://audit-capture/churn/scoring/", "capture_response": False},
    }
    stack = endpoint_plan(args)
    assert stack.by_type(SECURE_BUCKET) == []
    assert stack.by_type(BUCKET) == []
    capture = config_inputs(stack)["dataCaptureConfig"]
    assert capture["destinationS3Uri"] == "s3://audit-capture/churn/scoring"
    assert capture["captureOptions"] == [{"captureMode": "Input"}]
    (write,) = [s for s in iam_statements(one(stack, ROLE_POLICY)) if s["Sid"] == "WriteCapturedData"]
    assert write["Resource"] == ["arn:aws:s3:::audit-capture/churn/scoring/*"]


def test_no_capture_in_dev_leaves_no_bucket_and_no_write_grant() -> None:
    stack = endpoint_plan({"variants": [variant("main")], "data_capture": None})
    assert "dataCaptureConfig" not in config_inputs(stack)
    assert stack.by_type(SECURE_BUCKET) == []
    assert all(s["Sid"] != "WriteCapturedData" for s in iam_statements(one(stack, ROLE_POLICY)))


def test_no_capture_in_prod_with_the_explicit_opt_in() -> None:
    stack = endpoint_plan(ab_args(data_capture=None, allow_no_data_capture=True), environment="prod")
    assert "dataCaptureConfig" not in config_inputs(stack)


# --- variants ------------------------------------------------------------------------------------------


def test_ab_variants_carry_weights_instances_and_their_own_models(ab_prod: CapturedStack) -> None:
    models = {m.name: m.inputs for m in ab_prod.by_type(MODEL)}
    variants = {v["variantName"]: v for v in config_inputs(ab_prod)["productionVariants"]}
    assert set(variants) == {"champion", "challenger"}
    assert variants["champion"]["initialVariantWeight"] == 90
    assert variants["challenger"]["initialVariantWeight"] == 10
    for name, spec in variants.items():
        assert spec["instanceType"] == "ml.m5.large"
        assert spec["initialInstanceCount"] == 2
        assert "serverlessConfig" not in spec
        model = models[f"scoring-model-{name}"]
        assert spec["modelName"] == model["name"]
        assert model["name"].startswith(f"churn-prod-scoring-{name}-")
    assert models["scoring-model-champion"]["primaryContainer"]["modelDataUrl"] == "s3://churn-models/v1/model.tar.gz"
    assert models["scoring-model-challenger"]["primaryContainer"]["modelDataUrl"] == "s3://churn-models/v2/model.tar.gz"


def test_shadow_variant_gets_a_model_and_mirrored_traffic_but_no_rollout() -> None:
    stack = endpoint_plan(shadow_args())
    config = config_inputs(stack)
    (production,) = config["productionVariants"]
    (shadow,) = config["shadowProductionVariants"]
    assert production["variantName"] == "champion"
    assert shadow["variantName"] == "candidate"
    assert shadow["initialVariantWeight"] == 0.5
    shadow_model = by_name(stack, MODEL)["scoring-model-candidate"].inputs
    assert shadow["modelName"] == shadow_model["name"]
    assert shadow_model["primaryContainer"]["image"] == DIGEST_IMAGE
    assert "deploymentConfig" not in one(stack, ENDPOINT).inputs
    # Scaling is for production variants unless the shadow asks for it; alarms watch both variants.
    assert [t.inputs["resourceId"] for t in stack.by_type(TARGET)] == ["endpoint/churn-dev-scoring/variant/champion"]
    names = sorted(a.inputs["name"] for a in stack.by_type(ALARM))
    assert sum(n.startswith("churn-dev-scoring-champion-") for n in names) == 3
    assert sum(n.startswith("churn-dev-scoring-candidate-") for n in names) == 3
    assert {a.inputs["dimensions"]["VariantName"] for a in stack.by_type(ALARM) if "dimensions" in a.inputs} == {
        "champion",
        "candidate",
    }
    # The role may read the shadow's artifact and pull its image.
    statements = {s["Sid"]: s for s in iam_statements(one(stack, ROLE_POLICY))}
    assert "arn:aws:s3:::churn-models/v3/model.tar.gz" in statements["ReadModelArtifacts"]["Resource"]
    assert "arn:aws:ecr:us-east-1:123456789012:repository/churn/shadow" in statements["PullModelImages"]["Resource"]


def test_shadow_variant_autoscaling_is_opt_in() -> None:
    args = shadow_args()
    args["shadow_variant"] = {**args["shadow_variant"], "autoscaling": {"min_replicas": 1, "max_replicas": 2}}
    stack = endpoint_plan(args)
    assert sorted(t.inputs["resourceId"] for t in stack.by_type(TARGET)) == [
        "endpoint/churn-dev-scoring/variant/candidate",
        "endpoint/churn-dev-scoring/variant/champion",
    ]


def test_a_shadow_given_as_a_model_also_scales_only_when_asked() -> None:
    parsed = EndpointArgs.model_validate(
        {**shadow_args(), "shadow_variant": VariantArgs.model_validate(shadow_args()["shadow_variant"])}
    )
    assert parsed.shadow_variant is not None
    assert parsed.shadow_variant.autoscaling is None
    scaled = VariantArgs.model_validate({**shadow_args()["shadow_variant"], "autoscaling": {"max_replicas": 3}})
    parsed = EndpointArgs.model_validate({**shadow_args(), "shadow_variant": scaled})
    assert parsed.shadow_variant is not None
    assert parsed.shadow_variant.autoscaling is not None


def test_shadow_in_prod_needs_the_all_at_once_opt_in() -> None:
    stack = endpoint_plan(shadow_args(allow_all_at_once=True), environment="prod")
    assert "deploymentConfig" not in one(stack, ENDPOINT).inputs
    with pytest.raises(ProgramError, match="deployment"):
        endpoint_plan(shadow_args(), environment="prod")


def test_shadow_endpoint_rolls_out_by_canary_with_both_variants_alarms() -> None:
    # Blue/green guardrails exclude Marketplace containers and Inf1 only (rolling: also multi-variant).
    stack = endpoint_plan({**shadow_args(), "deployment": {"strategy": "canary"}}, environment="prod")
    config = one(stack, ENDPOINT).inputs["deploymentConfig"]
    assert config["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]["type"] == "CANARY"
    watched = {a["alarmName"] for a in config["autoRollbackConfiguration"]["alarms"]}
    assert len(watched) == 6
    assert any("-candidate-" in name for name in watched) and any("-champion-" in name for name in watched)


def test_serverless_variant_has_memory_and_concurrency_and_nothing_it_cannot_use() -> None:
    stack = endpoint_plan(serverless_args())
    (spec,) = config_inputs(stack)["productionVariants"]
    assert spec["serverlessConfig"] == {"memorySizeInMb": 3072, "maxConcurrency": 20}
    assert "instanceType" not in spec
    assert "initialInstanceCount" not in spec
    assert stack.by_type(TARGET) == []
    assert stack.by_type(POLICY) == []
    assert "dataCaptureConfig" not in config_inputs(stack)
    assert "deploymentConfig" not in one(stack, ENDPOINT).inputs
    assert one(stack, MODEL).inputs["enableNetworkIsolation"] is False
    # Alarms still watch a serverless variant.
    assert len(stack.by_type(ALARM)) == 3


def test_serverless_provisioned_concurrency() -> None:
    args = serverless_args()
    args["variants"][0]["serverless"]["provisioned_concurrency"] = 4
    stack = endpoint_plan(args)
    assert config_inputs(stack)["productionVariants"][0]["serverlessConfig"]["provisionedConcurrency"] == 4


# --- models --------------------------------------------------------------------------------------------


def test_models_are_network_isolated_by_default_and_use_the_role(ab_prod: CapturedStack) -> None:
    role_arn = "arn:aws:iam::123456789012:role/churn-prod-us-east-1-scoring-endpoint"
    assert one(ab_prod, ROLE).inputs["name"] == "churn-prod-us-east-1-scoring-endpoint"
    for model in ab_prod.by_type(MODEL):
        assert model.inputs["enableNetworkIsolation"] is True
        assert model.inputs["executionRoleArn"] == role_arn
        assert model.inputs["primaryContainer"]["image"] == IMAGE
        assert "vpcConfig" not in model.inputs
        # IAM is eventually consistent: each model waits for the role's policy.
        assert one(ab_prod, ROLE_POLICY).urn in model.dependencies


def test_network_isolation_opt_out_is_explicit() -> None:
    stack = endpoint_plan({"variants": [variant("main")], "enable_network_isolation": False})
    assert one(stack, MODEL).inputs["enableNetworkIsolation"] is False


def test_model_environment_is_passed_to_the_container() -> None:
    spec = variant("main")
    spec["model"]["environment"] = {"SAGEMAKER_PROGRAM": "inference.py"}
    stack = endpoint_plan({"variants": [spec]})
    assert one(stack, MODEL).inputs["primaryContainer"]["environment"] == {"SAGEMAKER_PROGRAM": "inference.py"}


def test_an_approved_model_package_version_is_deployed_and_its_artifacts_granted() -> None:
    package = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-prod-churn/7"
    spec = variant("main", "v7")
    spec["model"] = {**spec["model"], "model_package_arn": package, "environment": {"LOG_LEVEL": "info"}}
    stack = endpoint_plan({"variants": [spec]})
    container = one(stack, MODEL).inputs["primaryContainer"]
    assert container == {"modelPackageName": package, "environment": {"LOG_LEVEL": "info"}}
    statements = {s["Sid"]: s for s in iam_statements(one(stack, ROLE_POLICY))}
    assert statements["ReadModelArtifacts"]["Resource"] == ["arn:aws:s3:::churn-models/v7/model.tar.gz"]
    assert statements["PullModelImages"]["Resource"] == ["arn:aws:ecr:us-east-1:123456789012:repository/churn/serve"]


def test_vpc_config_and_its_scoped_network_grants() -> None:
    vpc = {"subnet_ids": ["subnet-0a", "subnet-0b"], "security_group_ids": ["sg-01"]}
    stack = endpoint_plan({"variants": [variant("main")], "vpc": vpc})
    assert one(stack, MODEL).inputs["vpcConfig"] == {
        "subnets": ["subnet-0a", "subnet-0b"],
        "securityGroupIds": ["sg-01"],
    }
    statements = {s["Sid"]: s for s in iam_statements(one(stack, ROLE_POLICY))}
    prefix = "arn:aws:ec2:us-east-1:123456789012:"
    assert statements["AttachToVpc"]["Resource"] == [
        f"{prefix}network-interface/*",
        f"{prefix}subnet/subnet-0a",
        f"{prefix}subnet/subnet-0b",
        f"{prefix}security-group/sg-01",
    ]
    assert statements["ManageNetworkInterfaces"]["Resource"] == [f"{prefix}network-interface/*"]
    # EC2 Describe* calls cannot be scoped; they are the only extra "*" a VPC adds.
    for stmt in statements.values():
        if stmt["Resource"] == ["*"]:
            assert set(stmt["Action"]) <= UNSCOPABLE_ACTIONS | set(VPC_DESCRIBE_ACTIONS)


# --- IAM ----------------------------------------------------------------------------------------------


def test_role_trusts_sagemaker_of_this_account_only(ab_prod: CapturedStack) -> None:
    (trust,) = iam_statements(one(ab_prod, ROLE), "assumeRolePolicy")
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_role_policy_is_least_privilege(ab_prod: CapturedStack) -> None:
    statements = iam_statements(one(ab_prod, ROLE_POLICY))
    for stmt in statements:
        assert stmt["Effect"] == "Allow"
        assert all("*" not in action for action in stmt["Action"]), stmt
        if "*" in stmt["Resource"]:
            assert stmt["Resource"] == ["*"]
            assert set(stmt["Action"]) <= UNSCOPABLE_ACTIONS, stmt
    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["ReadModelArtifacts"] == {
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": ["arn:aws:s3:::churn-models/v1/model.tar.gz", "arn:aws:s3:::churn-models/v2/model.tar.gz"],
        "Sid": "ReadModelArtifacts",
    }
    assert by_sid["PullModelImages"]["Resource"] == ["arn:aws:ecr:us-east-1:123456789012:repository/churn/serve"]
    assert by_sid["PullModelImages"]["Action"] == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
    ]
    assert by_sid["LogInToEcr"] == {
        "Effect": "Allow",
        "Action": ["ecr:GetAuthorizationToken"],
        "Resource": ["*"],
        "Sid": "LogInToEcr",
    }
    assert by_sid["UseEndpointKey"]["Resource"] == [KEY]
    group = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/churn-prod-scoring"
    assert by_sid["WriteEndpointLogs"]["Resource"] == [group, f"{group}:log-stream:*"]
    assert by_sid["PublishEndpointMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/Endpoints"}
    }


def test_extra_ecr_repositories_are_added_to_the_pull_grant() -> None:
    extra = "arn:aws:ecr:eu-west-1:210987654321:repository/shared/base"
    stack = endpoint_plan({"variants": [variant("main")], "ecr_repository_arns": [extra]})
    (pull,) = [s for s in iam_statements(one(stack, ROLE_POLICY)) if s["Sid"] == "PullModelImages"]
    assert pull["Resource"] == ["arn:aws:ecr:us-east-1:123456789012:repository/churn/serve", extra]


def test_endpoint_waits_for_its_log_group_and_the_finished_capture_bucket(ab_prod: CapturedStack) -> None:
    # Otherwise SageMaker creates the log group itself (no retention, no KMS) or captures into a bare bucket.
    dependencies = set(one(ab_prod, ENDPOINT).dependencies)
    assert one(ab_prod, LOG_GROUP).urn in dependencies
    assert one(ab_prod, SSE).urn in dependencies
    assert one(ab_prod, "aws:s3/bucketPolicy:BucketPolicy").urn in dependencies


def test_log_group_has_finite_retention_and_the_sagemaker_name() -> None:
    stack = endpoint_plan({"variants": [variant("main")], "log_retention_days": 30})
    logs = one(stack, LOG_GROUP).inputs
    assert logs["name"] == "/aws/sagemaker/Endpoints/churn-dev-scoring"
    assert logs["retentionInDays"] == 30


# --- rollout -------------------------------------------------------------------------------------------


def test_canary_deployment_rolls_back_on_the_component_alarms(ab_prod: CapturedStack) -> None:
    endpoint = one(ab_prod, ENDPOINT).inputs
    assert endpoint["name"] == "churn-prod-scoring"
    assert endpoint["endpointConfigName"] == config_inputs(ab_prod)["name"]
    deployment = endpoint["deploymentConfig"]
    policy = deployment["blueGreenUpdatePolicy"]
    assert policy["trafficRoutingConfiguration"] == {
        "type": "CANARY",
        "waitIntervalInSeconds": 600,
        "canarySize": {"type": "CAPACITY_PERCENT", "value": 10},
    }
    assert policy["terminationWaitInSeconds"] == 300
    assert "maximumExecutionTimeoutInSeconds" not in policy
    rollback = [a["alarmName"] for a in deployment["autoRollbackConfiguration"]["alarms"]]
    alarms = [a.inputs["name"] for a in ab_prod.by_type(ALARM)]
    assert sorted(rollback) == sorted(alarms)
    assert len(rollback) == 6
    # The endpoint is updated only after the alarms it references exist.
    endpoint_resource = one(ab_prod, ENDPOINT)
    assert {a.urn for a in ab_prod.by_type(ALARM)} <= set(endpoint_resource.dependencies)


def test_canary_by_instance_count_and_custom_waits() -> None:
    deployment = {
        "strategy": "canary",
        "canary_size": {"type": "INSTANCE_COUNT", "value": 1},
        "wait_interval_seconds": 900,
        "termination_wait_seconds": 120,
        "maximum_execution_timeout_seconds": 3600,
    }
    stack = endpoint_plan(ab_args(deployment=deployment))
    policy = one(stack, ENDPOINT).inputs["deploymentConfig"]["blueGreenUpdatePolicy"]
    assert policy["trafficRoutingConfiguration"] == {
        "type": "CANARY",
        "waitIntervalInSeconds": 900,
        "canarySize": {"type": "INSTANCE_COUNT", "value": 1},
    }
    assert policy["terminationWaitInSeconds"] == 120
    assert policy["maximumExecutionTimeoutInSeconds"] == 3600


def test_linear_deployment_steps() -> None:
    deployment = {"strategy": "linear", "linear_step_size": {"type": "CAPACITY_PERCENT", "value": 25}}
    stack = endpoint_plan(ab_args(deployment=deployment), environment="staging")
    routing = one(stack, ENDPOINT).inputs["deploymentConfig"]["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]
    assert routing == {
        "type": "LINEAR",
        "waitIntervalInSeconds": 600,
        "linearStepSize": {"type": "CAPACITY_PERCENT", "value": 25},
    }


def test_dev_defaults_to_all_at_once_with_rollback_alarms() -> None:
    stack = endpoint_plan({"variants": [variant("main")]})
    deployment = one(stack, ENDPOINT).inputs["deploymentConfig"]
    assert deployment["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"] == {
        "type": "ALL_AT_ONCE",
        "waitIntervalInSeconds": 600,
    }
    assert len(deployment["autoRollbackConfiguration"]["alarms"]) == 3


def test_all_at_once_in_prod_with_the_explicit_opt_in() -> None:
    args = {"variants": [variant("main")], "deployment": {"strategy": "all_at_once"}, "allow_all_at_once": True}
    stack = endpoint_plan(args, environment="prod")
    routing = one(stack, ENDPOINT).inputs["deploymentConfig"]["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]
    assert routing["type"] == "ALL_AT_ONCE"


# --- alarms --------------------------------------------------------------------------------------------


def test_alarms_watch_each_variant_with_the_right_metrics(ab_prod: CapturedStack) -> None:
    alarms = {a.inputs["name"]: a.inputs for a in ab_prod.by_type(ALARM)}
    for name in ("champion", "challenger"):
        dimensions = {"EndpointName": "churn-prod-scoring", "VariantName": name}
        latency = alarms[f"churn-prod-scoring-{name}-p95-latency"]
        assert latency["namespace"] == "AWS/SageMaker"
        assert latency["metricName"] == "ModelLatency"
        assert latency["extendedStatistic"] == "p95"
        assert "statistic" not in latency
        assert latency["threshold"] == 250_000  # 250 ms in microseconds
        assert latency["dimensions"] == dimensions

        rate = alarms[f"churn-prod-scoring-{name}-5xx-rate"]
        assert rate["threshold"] == 2.5
        queries = {q["id"]: q for q in rate["metricQueries"]}
        assert queries["error_rate"]["returnData"] is True
        assert queries["error_rate"]["expression"] == "IF(invocations > 0, 100 * errors / invocations, 0)"
        for query_id, metric in (("invocations", "Invocations"), ("errors", "Invocation5XXErrors")):
            assert queries[query_id]["returnData"] is False
            assert queries[query_id]["metric"] == {
                "namespace": "AWS/SageMaker",
                "metricName": metric,
                "dimensions": dimensions,
                "period": 60,
                "stat": "Sum",
            }

        errors = alarms[f"churn-prod-scoring-{name}-model-errors"]
        assert errors["metricName"] == "InvocationModelErrors"
        assert errors["statistic"] == "Sum"
        assert errors["threshold"] == 5
        assert errors["dimensions"] == dimensions

    for alarm in alarms.values():
        assert alarm["comparisonOperator"] == "GreaterThanThreshold"
        assert alarm["treatMissingData"] == "notBreaching"
        assert alarm["evaluationPeriods"] == 3
        assert alarm["datapointsToAlarm"] == 2
        assert alarm["alarmActions"] == [TOPIC]
        assert alarm["okActions"] == [TOPIC]


def test_alarm_settings_change_periods() -> None:
    args = {
        "variants": [variant("main")],
        "alarms": {"period_seconds": 120, "evaluation_periods": 5, "datapoints_to_alarm": 4},
        "deployment": {"wait_interval_seconds": 480},
    }
    stack = endpoint_plan(args)
    for alarm in stack.by_type(ALARM):
        assert alarm.inputs["evaluationPeriods"] == 5
        assert alarm.inputs["datapointsToAlarm"] == 4
        assert alarm.inputs["alarmActions"] == []
        periods = [q["metric"]["period"] for q in alarm.inputs.get("metricQueries", []) if "metric" in q]
        assert (periods or [alarm.inputs["period"]]) in ([120], [120, 120])


# --- autoscaling ---------------------------------------------------------------------------------------


def test_autoscaling_targets_each_variant_after_the_endpoint(ab_prod: CapturedStack) -> None:
    endpoint = one(ab_prod, ENDPOINT)
    targets = {t.inputs["resourceId"]: t for t in ab_prod.by_type(TARGET)}
    assert set(targets) == {
        "endpoint/churn-prod-scoring/variant/champion",
        "endpoint/churn-prod-scoring/variant/challenger",
    }
    for target in targets.values():
        assert target.inputs["serviceNamespace"] == "sagemaker"
        assert target.inputs["scalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
        assert target.inputs["minCapacity"] == 2
        assert target.inputs["maxCapacity"] == 6
        assert endpoint.urn in target.dependencies
    for policy in ab_prod.by_type(POLICY):
        assert policy.inputs["policyType"] == "TargetTrackingScaling"
        assert policy.inputs["resourceId"] in targets
        assert policy.inputs["serviceNamespace"] == "sagemaker"
        assert policy.inputs["scalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
        assert policy.inputs["targetTrackingScalingPolicyConfiguration"] == {
            "targetValue": 70,
            "predefinedMetricSpecification": {"predefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
            "scaleInCooldown": 300,
            "scaleOutCooldown": 60,
        }


def test_autoscaling_settings_and_opt_out() -> None:
    scaled = variant(
        "main",
        autoscaling={
            "min_replicas": 1,
            "max_replicas": 3,
            "target_invocations_per_instance": 250,
            "scale_in_cooldown_seconds": 900,
            "scale_out_cooldown_seconds": 30,
        },
    )
    fixed = variant("fixed", "v2", autoscaling=None)
    stack = endpoint_plan({"variants": [scaled, fixed]})
    (target,) = stack.by_type(TARGET)
    assert target.inputs["resourceId"] == "endpoint/churn-dev-scoring/variant/main"
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (1, 3)
    config = one(stack, POLICY).inputs["targetTrackingScalingPolicyConfiguration"]
    assert (config["targetValue"], config["scaleInCooldown"], config["scaleOutCooldown"]) == (250, 900, 30)


# --- protection ----------------------------------------------------------------------------------------


def test_prod_protects_the_capture_bucket_not_the_endpoint_and_retains_replaced_versions(
    ab_prod: CapturedStack,
) -> None:
    assert one(ab_prod, BUCKET).protect is True
    assert one(ab_prod, ENDPOINT).protect is False
    assert one(ab_prod, CONFIG).protect is False
    assert all(m.protect is False for m in ab_prod.by_type(MODEL))
    # Replaced models/configs stay in AWS, so a SageMaker-side rollback finds its configuration.
    assert one(ab_prod, CONFIG).retain_on_delete is True
    assert all(m.retain_on_delete is True for m in ab_prod.by_type(MODEL))
    assert one(ab_prod, ENDPOINT).retain_on_delete is False


def test_dev_protects_nothing_and_deletes_replaced_versions() -> None:
    stack = endpoint_plan({"variants": [variant("main")]})
    assert not any(r.protect for r in stack.resources if r.type != "aws:kms/key:Key")
    assert one(stack, CONFIG).retain_on_delete is False
    assert one(stack, MODEL).retain_on_delete is False


def test_retaining_replaced_versions_can_be_turned_off_explicitly() -> None:
    stack = endpoint_plan(ab_args(retain_replaced_versions=False), environment="prod")
    assert one(stack, CONFIG).retain_on_delete is False


# --- our own policies on the same program ---------------------------------------------------------------

# A stack budget, drift-monitoring schedules and the stack's audit trail are other components' job.
# An endpoint alone has alarms but no alert topic: AlertRouting (another component) gives them receivers.
OTHER_COMPONENTS_POLICIES = {"budget-required", "monitoring-required", "alert-routing", "audit-logging"}


def approved(args: dict[str, Any]) -> dict[str, Any]:
    """``args`` with every variant deploying an approved registry version of its model."""
    variants = []
    for index, spec in enumerate(args["variants"]):
        package = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-prod-churn/{index + 1}"
        variants.append({**spec, "model": {**spec["model"], "model_package_arn": package}})
    return {**args, "variants": variants}


def test_policies_pass_on_a_prod_endpoint_of_approved_versions() -> None:
    stack = endpoint_plan(approved(ab_args()), environment="prod")
    violations = evaluate_stack(stack)
    assert {v.policy_id for v in violations} <= OTHER_COMPONENTS_POLICIES, [v.message for v in violations]


def test_policies_flag_unregistered_artifacts_in_prod(ab_prod: CapturedStack) -> None:
    flagged = {v.urn for v in evaluate_stack(ab_prod) if v.policy_id == "model-approval"}
    assert flagged == {m.urn for m in ab_prod.by_type(MODEL)}


# --- validation ----------------------------------------------------------------------------------------

INVALID: list[tuple[str, dict[str, Any], str, tuple[Any, ...]]] = [
    ("weights all zero", {"variants": [variant("a", weight=0), variant("b", weight=0)]}, "dev", ("variants",)),
    ("duplicate names", {"variants": [variant("a"), variant("a", "v2")]}, "dev", ("variants",)),
    (
        "min above max",
        {"variants": [variant("a", autoscaling={"min_replicas": 5, "max_replicas": 2})]},
        "dev",
        ("variants", 0, "autoscaling"),  # the shared Scaling checks the pair
    ),
    (
        "sampling 150",
        {"variants": [variant("a")], "data_capture": {"sampling_percent": 150}},
        "dev",
        ("data_capture", "sampling_percent"),
    ),
    (
        "latest image",
        {"variants": [variant("a", image=f"{REGISTRY}/churn/serve:latest")]},
        "dev",
        ("variants", 0, "model", "image"),
    ),
    (
        "untagged image",
        {"variants": [variant("a", image=f"{REGISTRY}/churn/serve")]},
        "dev",
        ("variants", 0, "model", "image"),
    ),
    (
        "not ECR",
        {"variants": [variant("a", image="docker.io/library/python:3.11")]},
        "dev",
        ("variants", 0, "model", "image"),
    ),
    ("serverless with blue/green", {**serverless_args(), "deployment": {}}, "dev", ("deployment",)),
    (
        "multi-model on Inferentia",
        {"variants": [{**variant("a", instance_type="ml.inf1.xlarge"), "model": MULTI_MODEL}]},
        "dev",
        ("variants", 0, "instance_type"),
    ),
    (
        "multi-model given one archive",
        {
            "variants": [
                {**variant("a"), "model": {**MULTI_MODEL, "model_data_url": "s3://churn-models/v1/model.tar.gz"}}
            ]
        },
        "dev",
        ("variants", 0, "model", "model_data_url"),
    ),
    (
        "scale to zero without a queue",
        {"variants": [variant("a", autoscaling={"min_replicas": 0, "max_replicas": 2})]},
        "dev",
        ("variants", 0, "autoscaling"),
    ),
    (
        "backlog scaling without async",
        {"variants": [variant("a", autoscaling={"min_replicas": 0, "max_replicas": 2, "backlog_per_replica": 5})]},
        "dev",
        (),
    ),
    ("no capture in prod", ab_args(data_capture=None), "prod", ("data_capture",)),
    ("all at once in prod", ab_args(deployment={"strategy": "all_at_once"}), "prod", ("deployment",)),
    ("no rollout in prod", ab_args(deployment=None), "prod", ("deployment",)),
    ("canary on one instance", {"variants": [variant("a")]}, "prod", ("variants", 0, "initial_instance_count")),
    (
        "canary bigger than half the fleet",
        ab_args(deployment={"canary_size": {"type": "INSTANCE_COUNT", "value": 2}}),
        "prod",
        ("deployment", "canary_size"),
    ),
    ("instance type", {"variants": [variant("a", instance_type="m5.large")]}, "dev", ("variants", 0, "instance_type")),
    (
        "serverless memory",
        serverless_args(variants=[{**serverless_args()["variants"][0], "serverless": {"memory_size_mb": 1500}}]),
        "dev",
        ("variants", 0, "serverless", "memory_size_mb"),
    ),
    (
        "serverless with an instance type",
        serverless_args(variants=[{**serverless_args()["variants"][0], "instance_type": "ml.m5.large"}]),
        "dev",
        ("variants", 0, "instance_type"),
    ),
    (
        "serverless with autoscaling",
        serverless_args(variants=[{**serverless_args()["variants"][0], "autoscaling": {}}]),
        "dev",
        ("variants", 0, "autoscaling"),
    ),
    (
        "serverless isolated",
        {**serverless_args(), "enable_network_isolation": True},
        "dev",
        ("enable_network_isolation",),
    ),
    ("serverless capture", {**serverless_args(), "data_capture": {}}, "dev", ("data_capture",)),
    (
        "serverless A/B",
        serverless_args(variants=[serverless_args()["variants"][0], variant("b")]),
        "dev",
        ("variants",),
    ),
    (
        "too many variants to roll back",
        {"variants": [variant(f"v{i}", f"a{i}") for i in range(4)]},
        "dev",
        ("deployment",),
    ),
    (
        "baking shorter than the alarms",
        {"variants": [variant("a")], "deployment": {"wait_interval_seconds": 60}},
        "dev",
        ("deployment",),
    ),
    (
        "kms alias",
        {"variants": [variant("a")], "kms_key_arn": "arn:aws:kms:us-east-1:123456789012:alias/x"},
        "dev",
        ("kms_key_arn",),
    ),
    (
        "artifact prefix",
        {"variants": [{**variant("a"), "model": {"image": IMAGE, "model_data_url": "s3://churn-models/v1/"}}]},
        "dev",
        ("variants", 0, "model", "model_data_url"),
    ),
    (
        "timeout below the waits",
        {"variants": [variant("a")], "deployment": {"maximum_execution_timeout_seconds": 800}},
        "dev",
        ("deployment", "maximum_execution_timeout_seconds"),
    ),
    (
        "canary over half",
        {"variants": [variant("a")], "deployment": {"canary_size": {"value": 60}}},
        "dev",
        ("deployment", "canary_size"),
    ),
    (
        "shadow with two production variants",
        {**ab_args(), "shadow_variant": variant("c", "v3"), "deployment": None},
        "dev",
        ("shadow_variant",),
    ),
    ("unknown field", {"variants": [variant("a")], "public": True}, "dev", ("public",)),
    (
        "package group instead of a version",
        {
            "variants": [
                {
                    **variant("a"),
                    "model": {
                        "image": IMAGE,
                        "model_data_url": "s3://churn-models/v1/model.tar.gz",
                        "model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/churn",
                    },
                }
            ]
        },
        "dev",
        ("variants", 0, "model", "model_package_arn"),
    ),
    (
        "repository that is not an ECR ARN",
        {"variants": [variant("a")], "ecr_repository_arns": ["arn:aws:s3:::bucket"]},
        "dev",
        ("ecr_repository_arns", 0),
    ),
    ("log retention", {"variants": [variant("a")], "log_retention_days": 10}, "dev", ("log_retention_days",)),
]


@pytest.mark.parametrize(("case", "args", "environment", "loc"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_args_name_the_field_and_register_nothing(
    case: str, args: dict[str, Any], environment: str, loc: tuple[Any, ...]
) -> None:
    caught: list[pydantic.ValidationError] = []

    def program() -> None:
        try:
            Endpoint("scoring", args)
        except pydantic.ValidationError as exc:
            caught.append(exc)

    stack = plan(program, environment=environment)
    assert len(caught) == 1, case
    assert caught[0].errors()[0]["loc"] == loc
    assert stack.resources == []


def test_invalid_args_stop_a_plan_with_a_message_naming_the_field() -> None:
    with pytest.raises(ProgramError) as error:
        endpoint_plan({"variants": [variant("a")], "data_capture": {"sampling_percent": 150}})
    assert "data_capture.sampling_percent" in str(error.value)
    with pytest.raises(ProgramError) as error:
        endpoint_plan(ab_args(data_capture=None), environment="prod")
    assert "data_capture" in str(error.value)
    assert "allow_no_data_capture=True" in str(error.value)
    with pytest.raises(ProgramError) as error:
        endpoint_plan({**serverless_args(), "deployment": {}})
    assert "deployment" in str(error.value)
    assert "serverless" in str(error.value)


def test_digest_and_tag_pinned_images_are_accepted() -> None:
    for image in (DIGEST_IMAGE, f"{REGISTRY}/churn/serve:2024.06.01", f"{REGISTRY}/churn/serve:1.0@sha256:{'b' * 64}"):
        EndpointArgs.model_validate({"variants": [variant("a", image=image)]})


@settings(max_examples=25, deadline=None)
@given(st.one_of(st.integers(max_value=-1), st.integers(min_value=101)))
def test_sampling_outside_0_to_100_is_refused(percentage: int) -> None:
    with pytest.raises(pydantic.ValidationError) as error:
        EndpointArgs.model_validate({"variants": [variant("a")], "data_capture": {"sampling_percent": percentage}})
    assert error.value.errors()[0]["loc"] == ("data_capture", "sampling_percent")


@settings(max_examples=25, deadline=None)
@given(st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False), st.integers(min_value=0, max_value=2))
def test_negative_weights_are_refused(weight: float, position: int) -> None:
    variants = [variant(f"v{i}", f"a{i}") for i in range(3)]
    variants[position]["weight"] = weight
    with pytest.raises(pydantic.ValidationError) as error:
        EndpointArgs.model_validate({"variants": variants})
    assert error.value.errors()[0]["loc"] == ("variants", position, "weight")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1000, allow_nan=False), min_size=1, max_size=3))
def test_weights_are_valid_exactly_when_one_is_positive(weights: list[float]) -> None:
    variants = [variant(f"v{i}", f"a{i}", weight=w) for i, w in enumerate(weights)]
    if any(w > 0 for w in weights):
        parsed = EndpointArgs.model_validate({"variants": variants})
        assert [v.weight for v in parsed.variants] == weights
    else:
        with pytest.raises(pydantic.ValidationError) as error:
            EndpointArgs.model_validate({"variants": variants})
        assert error.value.errors()[0]["loc"] == ("variants",)


# --- example -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("config", "environment"), [([], "dev"), (["environment=prod"], "prod")])
def test_example_plans_in_dev_and_prod(config: list[str], environment: str) -> None:
    stack = run_program(EXAMPLE, "dev", config)
    endpoint = one(stack, ENDPOINT)
    assert stack.outputs["endpointName"] == endpoint.inputs["name"] == f"endpoint-{environment}-scoring"
    assert stack.outputs["endpointConfigName"] == config_inputs(stack)["name"]
    assert set(stack.outputs["modelNames"]) == {"champion", "challenger"}
    endpoint_alarms = [a for a in stack.by_type(ALARM) if a.parent == one(stack, "mlops-infra:aws:Endpoint").urn]
    assert sorted(stack.outputs["alarmNames"]) == sorted(a.inputs["name"] for a in endpoint_alarms)
    routing = endpoint.inputs["deploymentConfig"]["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]
    assert routing["type"] == "CANARY"
    assert config_inputs(stack)["dataCaptureConfig"]["initialSamplingPercentage"] == 25
    [capture] = [b for b in stack.by_type(BUCKET) if b.name == "scoring-capture-bucket"]
    assert capture.protect is (environment == "prod")
    assert bool(stack.by_type("aws:cloudtrail/trail:Trail")) is (environment == "prod")  # policy audit-logging
    assert endpoint.protect is False
    assert required_tags_present(stack) == []
    assert json.loads(json.dumps(stack.outputs)) == stack.outputs
    assert {v.policy_id for v in evaluate_stack(stack)} <= OTHER_COMPONENTS_POLICIES


# --- asynchronous inference and multi-model containers ----------------------------------------------------


def async_args(**extra: Any) -> dict[str, Any]:
    return {
        "variants": [variant("champion", autoscaling={"min_replicas": 0, "max_replicas": 3, "backlog_per_replica": 8})],
        "kms_key_arn": KEY,
        "async_inference": {
            "output_s3_uri": "s3://churn-results/async/scoring/results/",
            "error_topic_arn": TOPIC,
            "max_concurrent_per_replica": 6,
        },
        "alarms": {"alarm_actions": [TOPIC]},
        "deployment": None,
        **extra,
    }


def test_async_endpoint_writes_encrypted_results_and_notifies_both_outcomes() -> None:
    stack = endpoint_plan(async_args())
    config = config_inputs(stack)["asyncInferenceConfig"]
    output = config["outputConfig"]
    assert output["s3OutputPath"] == "s3://churn-results/async/scoring/results"
    assert output["kmsKeyId"] == KEY
    assert "s3FailurePath" not in output
    assert output["notificationConfig"]["errorTopic"] == TOPIC
    success = one(stack, "aws:sns/topic:Topic").inputs
    assert success["name"] == "churn-dev-scoring-async-success" and success["kmsMasterKeyId"] == KEY
    assert output["notificationConfig"]["successTopic"].endswith(":churn-dev-scoring-async-success")
    assert config["clientConfig"] == {"maxConcurrentInvocationsPerInstance": 6}
    # The own topic takes TLS publishes only; the role publishes to exactly the two topics.
    policy = json.loads(one(stack, "aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["DenyInsecureTransport"]
    statements = {s["Sid"]: s for s in iam_statements(one(stack, ROLE_POLICY))}
    assert statements["WriteAsyncResults"]["Resource"] == ["arn:aws:s3:::churn-results/async/scoring/results/*"]
    assert sorted(statements["NotifyAsyncOutcomes"]["Resource"]) == sorted(
        [TOPIC, output["notificationConfig"]["successTopic"]]
    )


def test_async_endpoint_scales_on_backlog_and_out_of_zero() -> None:
    stack = endpoint_plan(async_args())
    assert one(stack, TARGET).inputs["minCapacity"] == 0
    policies = {p.name: p.inputs for p in stack.by_type(POLICY)}
    tracking = policies["scoring-champion-scaling-policy"]["targetTrackingScalingPolicyConfiguration"]
    assert tracking["targetValue"] == 8
    assert tracking["customizedMetricSpecification"]["metricName"] == "ApproximateBacklogSizePerInstance"
    assert policies["scoring-champion-scale-from-zero"]["policyType"] == "StepScaling"
    (wake,) = [a.inputs for a in stack.by_type(ALARM) if a.inputs.get("metricName") == "HasBacklogWithoutCapacity"]
    assert wake["alarmActions"][1:] == [TOPIC] and wake["okActions"] == [TOPIC]
    # The wake-up alarm is a scaling trigger, never a rollback alarm.
    assert "deploymentConfig" not in one(stack, ENDPOINT).inputs


def test_async_endpoint_with_a_fleet_floor_has_no_scale_from_zero() -> None:
    args = async_args()
    args["variants"] = [
        variant("champion", autoscaling={"min_replicas": 1, "max_replicas": 3, "backlog_per_replica": 8})
    ]
    stack = endpoint_plan(args)
    assert [p.name for p in stack.by_type(POLICY)] == ["scoring-champion-scaling-policy"]


def test_multi_model_container_mode_and_prefix_grant() -> None:
    stack = endpoint_plan({"variants": [{**variant("a"), "model": MULTI_MODEL}], "deployment": None})
    container = one(stack, MODEL).inputs["primaryContainer"]
    assert container["mode"] == "MultiModel"
    assert container["modelDataUrl"] == "s3://churn-models/per-region/"
    statements = {s["Sid"]: s for s in iam_statements(one(stack, ROLE_POLICY))}
    assert statements["ReadModelArtifacts"]["Resource"] == ["arn:aws:s3:::churn-models/per-region/*"]


def test_single_model_containers_send_no_mode() -> None:
    stack = endpoint_plan({"variants": [variant("a")], "deployment": None})
    assert "mode" not in one(stack, MODEL).inputs["primaryContainer"]
