"""The shared platform key: rotation, deletion window, and a policy scoped to the platform's roles."""

import json

import pytest

from mlops_infra.aws import PlatformKey, key_arn_or_shared, shared_platform_key
from mlops_infra.engine import ProgramError
from mlops_infra.testing import iam_statements, one, plan, required_tags_present


def test_key_rotates_and_waits_thirty_days_before_deletion():
    stack = plan(lambda: PlatformKey("platform"), environment="prod")
    key = one(stack, "aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["rotationPeriodInDays"] == 365
    assert key.inputs["deletionWindowInDays"] == 30
    assert key.parent == one(stack, "mlops-infra:aws:PlatformKey").urn
    assert one(stack, "aws:kms/alias:Alias").inputs["name"] == "alias/churn-prod-platform"
    assert required_tags_present(stack) == []


def test_key_policy_scopes_use_to_platform_roles_without_wildcard_actions():
    stack = plan(lambda: PlatformKey("platform"), environment="dev")
    statements = {s["Sid"]: s for s in iam_statements(one(stack, "aws:kms/key:Key"))}
    assert set(statements) == {"KeyAdministration", "PlatformRolesUseKey", "AwsServicesUseKey", "CloudWatchLogsUseKey"}
    for statement in statements.values():
        assert all("*" not in action for action in statement["Action"])
    use = statements["PlatformRolesUseKey"]
    assert use["Condition"] == {"ArnLike": {"aws:PrincipalArn": ["arn:aws:iam::123456789012:role/churn-dev-*"]}}
    assert "kms:Decrypt" in use["Action"] and "kms:ScheduleKeyDeletion" not in use["Action"]
    assert "kms:Decrypt" not in statements["KeyAdministration"]["Action"]
    services = statements["AwsServicesUseKey"]
    assert services["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


@pytest.mark.parametrize(("environment", "protected"), [("dev", False), ("prod", True)])
def test_key_is_protected_in_prod_only(environment, protected):
    stack = plan(lambda: PlatformKey("platform"), environment=environment)
    key = one(stack, "aws:kms/key:Key")
    assert (key.protect, key.retain_on_delete) == (protected, protected)


def test_shared_key_is_created_once_and_explicit_keys_win():
    arns = []

    def program():
        import pulumi

        holder = pulumi.ComponentResource("mlops-infra:test:Holder", "holder")
        arns.append(key_arn_or_shared("arn:aws:kms:us-east-1:123456789012:key/explicit", requester=holder))
        assert shared_platform_key() is shared_platform_key()
        key_arn_or_shared(None, requester=holder)

    stack = plan(program)
    assert arns == ["arn:aws:kms:us-east-1:123456789012:key/explicit"]
    assert len(stack.by_type("mlops-infra:aws:PlatformKey")) == 1


def test_invalid_deletion_window_names_the_field_and_registers_nothing():
    with pytest.raises(
        ProgramError, match="deletion_window_days: Input should be greater than or equal to 7"
    ) as caught:
        plan(lambda: PlatformKey("platform", {"deletion_window_days": 3}))
    assert caught.value.registered == []


def test_policy_document_is_valid_json():
    stack = plan(lambda: PlatformKey("platform"))
    document = json.loads(one(stack, "aws:kms/key:Key").inputs["policy"])
    assert document["Version"] == "2012-10-17"


def test_components_with_an_explicit_provider_get_a_key_in_that_provider():
    import pulumi
    import pulumi_aws as aws

    from mlops_infra.aws.budget import Budget

    def program():
        eu = aws.Provider("eu", region="eu-west-1")
        Budget("default-region", {"monthly_limit_usd": 10})
        Budget("eu-budget", {"monthly_limit_usd": 10}, opts=pulumi.ResourceOptions(provider=eu))

    stack = plan(program)
    keys = {r.name: r for r in stack.by_type("aws:kms/key:Key")}
    assert set(keys) == {"platform-key", "platform-eu-key"}
    assert keys["platform-key"].provider is None
    assert "eu" in keys["platform-eu-key"].provider
    topics = {r.parent.split("::")[-1]: r.inputs["kmsMasterKeyId"] for r in stack.by_type("aws:sns/topic:Topic")}
    assert topics["eu-budget"] != topics["default-region"]
