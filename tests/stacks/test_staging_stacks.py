"""Staging is a protected environment: every shipped stack plans there and passes the guardrails."""

import pytest

from mlops_infra.conventions import STATEFUL_TYPES
from mlops_infra.policy.evaluate import evaluate_stack, has_mandatory
from mlops_infra.testing import required_tags_present
from mlops_infra.testing.assertions import tags_of

STACK_DIRS = ["aws-sagemaker", "gcp-vertex", "k8s-kserve"]


@pytest.mark.parametrize("stack_dir", STACK_DIRS)
def test_staging_plans_as_a_protected_environment(planned, stack_dir):
    stack = planned(stack_dir, "staging")
    assert stack.environment() == "staging"
    assert required_tags_present(stack) == []
    tagged = [tags_of(r) for r in stack.custom_resources() if tags_of(r) is not None]
    assert tagged and all(tags["environment"] == "staging" for tags in tagged)
    stateful = [r for r in stack.resources if r.type in STATEFUL_TYPES]
    assert stateful, "a platform with no stateful resources? the protection check would prove nothing"
    assert [r.urn for r in stateful if not (r.protect and r.retain_on_delete)] == []


@pytest.mark.parametrize("stack_dir", STACK_DIRS)
def test_staging_has_no_mandatory_violation(planned, stack_dir):
    violations = evaluate_stack(planned(stack_dir, "staging"))
    assert not has_mandatory(violations), [str(v) for v in violations]
