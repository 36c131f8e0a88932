"""Enforcement follows the environment: stack config first, then the resource's tag or label."""

from __future__ import annotations

import json

import pytest
from policy_factories import view

from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.enforcement import ALWAYS_MANDATORY, enforcement_for, environment_of, stack_environment
from mlops_infra.policy.model import POLICY_IDS, Enforcement


@pytest.mark.parametrize("policy_id", POLICY_IDS)
def test_mandatory_in_protected_environments_advisory_in_dev_except_three(policy_id: str) -> None:
    config = PolicyConfig()
    assert enforcement_for(policy_id, "prod", config) is Enforcement.MANDATORY
    assert enforcement_for(policy_id, "staging", config) is Enforcement.MANDATORY
    expected_dev = Enforcement.MANDATORY if policy_id in ALWAYS_MANDATORY else Enforcement.ADVISORY
    assert enforcement_for(policy_id, "dev", config) is expected_dev


def test_unknown_environment_is_treated_as_protected() -> None:
    assert enforcement_for("least-privilege-iam", None, PolicyConfig()) is Enforcement.MANDATORY


def test_configured_protected_environments_and_overrides() -> None:
    config = PolicyConfig.model_validate(
        {"protectedEnvironments": ["prod"], "enforcement": {"no-public-access": "advisory"}}
    )
    assert enforcement_for("key-rotation", "staging", config) is Enforcement.ADVISORY
    assert enforcement_for("no-public-access", "prod", config) is Enforcement.ADVISORY


def test_environment_from_stack_config_in_any_namespace_wins_over_tags() -> None:
    assert stack_environment({"aws:region": "us-east-1", "platform:environment": "staging"}) == "staging"
    tagged = view("aws:s3/bucket:Bucket", {"tags": {"environment": "dev"}})
    assert environment_of(tagged, {"churn:environment": "prod"}) == "prod"
    assert environment_of(tagged, {}) == "dev"


@pytest.mark.parametrize(
    ("type_token", "props"),
    [
        ("aws:s3/bucket:Bucket", {"tags": {"environment": "dev"}}),
        ("gcp:storage/bucket:Bucket", {"labels": {"environment": "dev"}}),
        ("kubernetes:apps/v1:Deployment", {"metadata": {"labels": {"environment": "dev"}}}),
    ],
)
def test_environment_from_tags_and_labels_per_cloud(type_token: str, props: dict[str, object]) -> None:
    assert environment_of(view(type_token, props), {}) == "dev"


def test_environment_from_provider_default_tags() -> None:
    resource = view(
        "aws:sqs/queue:Queue", {}, provider_props={"defaultTags": json.dumps({"tags": {"environment": "dev"}})}
    )
    assert environment_of(resource, {}) == "dev"
    assert environment_of(view("aws:sqs/queue:Queue", {}), {}) is None
