"""ModelRegistry under mocks: children, wiring, policies, approval policy, protection and validation."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

import pulumi
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_infra.aws.model_registry import ModelRegistry, ModelRegistryArgs
from mlops_infra.engine import ProgramError, run_program
from mlops_infra.engine.captured import CapturedStack
from mlops_infra.testing import child_resources, iam_statements, one, plan, required_tags_present

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "aws" / "model_registry.py"
TOKEN = "mlops-infra:aws:ModelRegistry"
GROUP = "aws:sagemaker/modelPackageGroup:ModelPackageGroup"
GROUP_POLICY = "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
PERMISSION = "aws:lambda/permission:Permission"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
STATE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:deploy"
SHORT_ACCOUNT_STATE_MACHINE = "arn:aws:states:us-east-1:1:stateMachine:x"
PIPELINE = "arn:aws:codepipeline:us-east-1:123456789012:churn-deploy"
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:deploy"
CONSUMERS = ["210987654321", "333333333333"]


def registry_plan(args: dict[str, Any] | None = None, environment: str = "dev") -> CapturedStack:
    """Plan one registry; its output ARNs are exported so tests compare against what the engine resolved."""

    def program() -> None:
        registry = ModelRegistry("models", args or {})
        pulumi.export("ruleArn", registry.rule_arn)
        pulumi.export("topicArn", registry.topic_arn)

    return plan(program, environment=environment)


def registry_children(stack: CapturedStack) -> list[Any]:
    return child_resources(stack, one(stack, TOKEN).urn)


def rule_target(stack: CapturedStack, target_id: str) -> Any:
    (target,) = [t for t in stack.by_type(TARGET) if t.inputs["targetId"] == target_id]
    return target


def rule_arn(stack: CapturedStack) -> str:
    arn = stack.outputs["ruleArn"]
    assert arn.endswith(one(stack, RULE).inputs["name"])
    return str(arn)


@pytest.fixture(scope="module")
def full_prod() -> CapturedStack:
    return registry_plan(
        {
            "consumer_account_ids": CONSUMERS,
            "deploy_hook": {"kind": "step_functions", "arn": STATE_MACHINE},
            "notification_emails": ["team@example.com"],
            "notification_https_endpoints": ["https://hooks.example.com/approved"],
        },
        environment="prod",
    )


def test_minimal_registry_children_types_and_parents() -> None:
    stack = registry_plan()
    component = one(stack, TOKEN)
    children = registry_children(stack)
    assert sorted(r.type for r in children) == sorted([GROUP, RULE, TARGET, TOPIC, TOPIC_POLICY])
    assert all(r.parent == component.urn for r in children)
    # Nothing optional appears by omission.
    assert stack.by_type(GROUP_POLICY) == []
    assert stack.by_type(SUBSCRIPTION) == []
    assert stack.by_type(ROLE) == []


def test_full_registry_children_counts_and_parents(full_prod: CapturedStack) -> None:
    component = one(full_prod, TOKEN)
    children = registry_children(full_prod)
    counts: dict[str, int] = {}
    for child in children:
        counts[child.type] = counts.get(child.type, 0) + 1
        assert child.parent == component.urn
    assert counts == {
        GROUP: 1,
        GROUP_POLICY: 1,
        RULE: 1,
        TARGET: 2,
        TOPIC: 1,
        TOPIC_POLICY: 1,
        SUBSCRIPTION: 2,
        ROLE: 1,
        ROLE_POLICY: 1,
    }


def test_group_name_and_description() -> None:
    stack = registry_plan({"group_name": "churn", "description": "churn models"}, environment="staging")
    group = one(stack, GROUP)
    assert group.inputs["modelPackageGroupName"] == "churn-staging-churn"
    assert group.inputs["modelPackageGroupDescription"] == "churn models"


def test_topic_is_encrypted_with_the_platform_key_by_default() -> None:
    stack = registry_plan()
    key_id = one(stack, "aws:kms/alias:Alias").inputs["targetKeyId"]
    assert one(stack, TOPIC).inputs["kmsMasterKeyId"] == f"arn:aws:kms:us-east-1:123456789012:key/{key_id}"
    assert one(stack, TOPIC).inputs["signatureVersion"] == 2


def test_topic_uses_an_explicit_key_and_creates_no_shared_key() -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    stack = registry_plan({"kms_key_arn": key})
    assert one(stack, TOPIC).inputs["kmsMasterKeyId"] == key
    assert stack.by_type("aws:kms/key:Key") == []


def test_event_pattern_matches_approvals_of_this_group_only() -> None:
    stack = registry_plan({"group_name": "churn"}, environment="prod")
    pattern = json.loads(one(stack, RULE).inputs["eventPattern"])
    assert pattern == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": ["churn-prod-churn"], "ModelApprovalStatus": ["Approved"]},
    }
    assert one(stack, RULE).inputs["name"] == "churn-prod-churn-approved"
    assert one(stack, RULE).inputs["state"] == "ENABLED"


def test_rule_targets_the_topic() -> None:
    stack = registry_plan()
    rule = one(stack, RULE)
    topic_target = one(stack, TARGET)
    assert topic_target.inputs["rule"] == rule.inputs["name"]
    assert topic_target.inputs["arn"] == stack.outputs["topicArn"]
    # The target waits for the topic policy, or the first events would be refused.
    assert one(stack, TOPIC_POLICY).urn in topic_target.dependencies


def test_topic_policy_lets_only_the_rule_publish_over_tls() -> None:
    stack = registry_plan()
    topic_arn = stack.outputs["topicArn"]
    policy = one(stack, TOPIC_POLICY)
    assert policy.inputs["arn"] == topic_arn
    allow, deny = iam_statements(policy)
    assert allow["Effect"] == "Allow"
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Action"] == ["sns:Publish"]
    assert allow["Resource"] == [topic_arn]
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": rule_arn(stack)}}
    assert deny["Effect"] == "Deny"
    assert deny["Action"] == ["sns:Publish"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_cross_account_policy_grants_read_only_to_the_given_accounts(full_prod: CapturedStack) -> None:
    group_name = one(full_prod, GROUP).inputs["modelPackageGroupName"]
    policy = one(full_prod, GROUP_POLICY)
    assert policy.inputs["modelPackageGroupName"] == group_name
    statements = iam_statements(policy, "resourcePolicy")
    allowed: set[str] = set()
    for stmt in statements:
        assert stmt["Effect"] == "Allow"
        assert stmt["Principal"] == {"AWS": [f"arn:aws:iam::{a}:root" for a in CONSUMERS]}
        assert all("*" not in action for action in stmt["Action"])
        assert all(r != "*" and r.startswith("arn:aws:sagemaker:us-east-1:123456789012:") for r in stmt["Resource"])
        allowed.update(stmt["Action"])
    assert allowed == {
        "sagemaker:DescribeModelPackage",
        "sagemaker:DescribeModelPackageGroup",
        "sagemaker:ListModelPackages",
    }
    resources = {r for stmt in statements for r in stmt["Resource"]}
    assert resources == {
        f"arn:aws:sagemaker:us-east-1:123456789012:model-package-group/{group_name}",
        f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{group_name}/*",
    }
    # The package pattern covers this group's versions and no other group's.
    package_pattern = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{group_name}/*"
    assert fnmatch.fnmatch(f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{group_name}/3", package_pattern)
    assert not fnmatch.fnmatch(
        f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{group_name}-other/3", package_pattern
    )


def test_cross_account_policy_covers_the_lowercase_arn_spelling() -> None:
    stack = registry_plan({"consumer_account_ids": ["210987654321"], "group_name": "Churn"})
    resources = {r for stmt in iam_statements(one(stack, GROUP_POLICY), "resourcePolicy") for r in stmt["Resource"]}
    assert "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-dev-churn/*" in resources
    assert "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-dev-Churn/*" in resources


def test_lambda_hook_gets_a_permission_scoped_to_the_rule() -> None:
    stack = registry_plan({"deploy_hook": {"kind": "lambda", "arn": LAMBDA}})
    permission = one(stack, PERMISSION)
    assert permission.inputs["action"] == "lambda:InvokeFunction"
    assert permission.inputs["function"] == LAMBDA
    assert permission.inputs["principal"] == "events.amazonaws.com"
    assert permission.inputs["sourceArn"] == rule_arn(stack)
    target = rule_target(stack, "deploy-hook")
    assert target.inputs["arn"] == LAMBDA
    assert "roleArn" not in target.inputs
    assert permission.urn in target.dependencies
    assert stack.by_type(ROLE) == []


@pytest.mark.parametrize(
    ("kind", "arn", "action"),
    [
        ("step_functions", STATE_MACHINE, "states:StartExecution"),
        ("codepipeline", PIPELINE, "codepipeline:StartPipelineExecution"),
    ],
)
def test_role_hook_may_start_only_that_target(kind: str, arn: str, action: str) -> None:
    stack = registry_plan({"deploy_hook": {"kind": kind, "arn": arn}})
    role = one(stack, ROLE)
    (trust,) = iam_statements(role, "assumeRolePolicy")
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    (grant,) = iam_statements(one(stack, ROLE_POLICY))
    assert grant["Action"] == [action]
    assert grant["Resource"] == [arn]
    target = rule_target(stack, "deploy-hook")
    assert target.inputs["arn"] == arn
    assert target.inputs["roleArn"] == f"arn:aws:iam::123456789012:role/{role.inputs['name']}"
    assert one(stack, ROLE_POLICY).urn in target.dependencies
    assert stack.by_type(PERMISSION) == []


def test_subscriptions_are_email_and_https(full_prod: CapturedStack) -> None:
    topic_arn = full_prod.outputs["topicArn"]
    subscriptions = {(s.inputs["protocol"], s.inputs["endpoint"]) for s in full_prod.by_type(SUBSCRIPTION)}
    assert subscriptions == {("email", "team@example.com"), ("https", "https://hooks.example.com/approved")}
    assert all(s.inputs["topic"] == topic_arn for s in full_prod.by_type(SUBSCRIPTION))


def approval_of(stack: CapturedStack) -> tuple[str, bool]:
    outputs = stack.outputs
    return outputs["status"], outputs["manual"]


def approval_plan(args: dict[str, Any], environment: str) -> CapturedStack:
    def program() -> None:
        registry = ModelRegistry("models", args)
        pulumi.export("status", registry.initial_approval_status)
        pulumi.export("manual", registry.requires_manual_approval)

    return plan(program, environment=environment)


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ("prod", ("PendingManualApproval", True)),
        ("staging", ("PendingManualApproval", True)),
        ("dev", ("Approved", False)),
    ],
)
def test_default_approval_mode_follows_protection(environment: str, expected: tuple[str, bool]) -> None:
    assert approval_of(approval_plan({}, environment)) == expected


def test_manual_approval_can_be_chosen_in_dev() -> None:
    assert approval_of(approval_plan({"approval_mode": "manual"}, "dev")) == ("PendingManualApproval", True)


def test_auto_approval_in_prod_needs_the_explicit_opt_in() -> None:
    with pytest.raises(ProgramError) as refused:
        approval_plan({"approval_mode": "automatic"}, "prod")
    assert "approval_mode" in str(refused.value)
    assert "allow_auto_approval_in_protected_env" in str(refused.value)
    allowed = approval_plan({"approval_mode": "automatic", "allow_auto_approval_in_protected_env": True}, "prod")
    assert approval_of(allowed) == ("Approved", False)


def test_refused_auto_approval_raises_a_validation_error_naming_the_field() -> None:
    assert refused_and_registered({"approval_mode": "automatic"}, "prod") == (("approval_mode",), [])


def refused_and_registered(args: dict[str, Any], environment: str = "dev") -> tuple[tuple[Any, ...], list[str]]:
    """The error location of a refused ModelRegistry, and the URNs registered despite the refusal."""
    errors: list[pydantic.ValidationError] = []

    def program() -> None:
        try:
            ModelRegistry("models", args)
        except pydantic.ValidationError as exc:
            errors.append(exc)

    stack = plan(program, environment=environment)
    assert len(errors) == 1
    return tuple(errors[0].errors()[0]["loc"]), [r.urn for r in stack.resources]


def test_model_package_group_is_protected_in_prod_not_dev(full_prod: CapturedStack) -> None:
    group = one(full_prod, GROUP)
    assert group.protect and group.retain_on_delete
    dev_group = one(registry_plan(), GROUP)
    assert not dev_group.protect and not dev_group.retain_on_delete


def test_required_tags_on_every_taggable_child(full_prod: CapturedStack) -> None:
    assert required_tags_present(full_prod) == []
    assert one(full_prod, GROUP).inputs["tags"]["environment"] == "prod"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"consumer_account_ids": ["12345"]}, "consumer_account_ids"),
        ({"notification_https_endpoints": ["http://hooks.example.com/x"]}, "notification_https_endpoints"),
        ({"notification_emails": ["not-an-email"]}, "notification_emails"),
        ({"deploy_hook": {"kind": "lambda", "arn": STATE_MACHINE}}, "deploy_hook"),
        (
            {"deploy_hook": {"kind": "step_functions", "arn": "arn:aws:states:us-east-1:1:stateMachine:x"}},
            "deploy_hook",
        ),
        ({"deploy_hook": {"kind": "sqs", "arn": LAMBDA}}, "deploy_hook"),
        ({"kms_key_arn": "alias/mine"}, "kms_key_arn"),
        ({"approval_mode": "sometimes"}, "approval_mode"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_invalid_args_name_the_field_and_register_nothing(args: dict[str, Any], field: str) -> None:
    with pytest.raises(pydantic.ValidationError) as invalid:
        ModelRegistryArgs.model_validate(args)
    assert invalid.value.errors()[0]["loc"][0] == field
    location, registered = refused_and_registered(args)
    assert location[0] == field
    assert registered == []
    with pytest.raises(ProgramError) as refused:
        registry_plan(args)
    assert field in str(refused.value)


@settings(max_examples=25, deadline=None)
@given(st.text(max_size=20).filter(lambda s: not (len(s) == 12 and s.isascii() and s.isdigit())))
def test_any_non_account_id_is_rejected_naming_the_field(bad: str) -> None:
    with pytest.raises(pydantic.ValidationError) as invalid:
        ModelRegistryArgs(consumer_account_ids=["210987654321", bad])
    assert invalid.value.errors()[0]["loc"][0] == "consumer_account_ids"


def test_account_ids_are_deduplicated_and_sorted_for_a_stable_policy() -> None:
    args = ModelRegistryArgs(consumer_account_ids=["333333333333", "210987654321", "333333333333"])
    assert args.consumer_account_ids == ["210987654321", "333333333333"]


@settings(max_examples=25, deadline=None)
@given(st.from_regex(r"[0-9]{12}", fullmatch=True))
def test_any_twelve_digit_account_id_is_accepted(good: str) -> None:
    assert ModelRegistryArgs(consumer_account_ids=[good]).consumer_account_ids == [good]


@pytest.mark.parametrize(("config", "status"), [([], "Approved"), (["environment=prod"], "PendingManualApproval")])
def test_example_plans_in_dev_and_prod(config: list[str], status: str) -> None:
    stack = run_program(EXAMPLE, "dev", config)
    environment = "prod" if config else "dev"
    assert stack.outputs["initialApprovalStatus"] == status
    assert stack.outputs["requiresManualApproval"] is (environment == "prod")
    group = one(stack, GROUP)
    assert group.protect is (environment == "prod")
    assert stack.outputs["modelPackageGroupName"] == group.inputs["modelPackageGroupName"]
    assert f"-{environment}-" in group.inputs["modelPackageGroupName"]
    assert required_tags_present(stack) == []
    (grant,) = iam_statements(one(stack, ROLE_POLICY))
    assert grant["Action"] == ["states:StartExecution"]
    assert len(stack.by_type(GROUP_POLICY)) == 1
