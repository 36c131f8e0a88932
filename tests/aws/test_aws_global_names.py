"""IAM role and budget names are account-global: the region keeps two regions of one account apart."""

from __future__ import annotations

import pytest

from mlops_infra.aws import Budget, FeatureStore, PlatformKey
from mlops_infra.aws.global_names import regional_name
from mlops_infra.conventions import naming
from mlops_infra.engine.captured import CapturedStack
from mlops_infra.testing import one, plan

KEY = "arn:aws:kms:{region}:123456789012:key/11111111-2222-3333-4444-555555555555"


def platform_in(region: str) -> CapturedStack:
    def program() -> None:
        key = KEY.format(region=region)
        FeatureStore("features", {"kms_key_arn": key})
        Budget("platform", {"kms_key_arn": key, "monthly_limit_usd": 100})

    return plan(program, environment="prod", config={"aws:region": region})


@pytest.fixture(scope="module")
def two_regions() -> tuple[CapturedStack, CapturedStack]:
    return platform_in("us-east-1"), platform_in("eu-west-1")


def test_role_and_budget_names_carry_the_region(two_regions):
    east, west = two_regions
    assert one(east, "aws:iam/role:Role").inputs["name"] == "churn-prod-us-east-1-features-feature-store"
    assert one(west, "aws:iam/role:Role").inputs["name"] == "churn-prod-eu-west-1-features-feature-store"
    assert one(east, "aws:budgets/budget:Budget").inputs["name"] == "churn-prod-us-east-1-platform"
    assert one(west, "aws:budgets/budget:Budget").inputs["name"] == "churn-prod-eu-west-1-platform"


def test_urns_do_not_change_with_the_region(two_regions):
    east, west = two_regions
    assert sorted(r.urn for r in east.resources) == sorted(r.urn for r in west.resources)


def test_regional_names_fit_the_iam_limit_and_stay_distinct():
    long = "a-very-long-component-name-that-goes-on-and-on"
    east = regional_name("churn-platform", "staging", "ap-southeast-2", f"{long}-one", naming.IAM_ROLE)
    other = regional_name("churn-platform", "staging", "ap-southeast-2", f"{long}-two", naming.IAM_ROLE)
    assert len(east) == naming.IAM_ROLE.max_length and east != other
    assert east.startswith("churn-platform-staging-ap-southeast-2-")


def test_the_platform_key_still_admits_the_regional_role_names():
    def program() -> None:

        PlatformKey("platform")

    stack = plan(program, environment="prod")
    policy = one(stack, "aws:kms/key:Key").inputs["policy"]
    # Roles are {project}-{env}-{region}-*: the key's prefix pattern covers them.
    assert '"arn:aws:iam::123456789012:role/churn-prod-*"' in policy
