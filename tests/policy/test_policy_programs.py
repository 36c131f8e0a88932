"""Raw Pulumi programs through the offline engine: each rule flags violations and passes compliant code, per cloud."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import raw_programs

from mlops_infra.engine.captured import CapturedStack
from mlops_infra.policy.evaluate import evaluate_stack, has_mandatory
from mlops_infra.policy.model import Enforcement, Violation
from mlops_infra.testing import plan

# Policy ids each cloud's violating program must trigger (deployment-safety on GCP needs the platform's dynamic
# VertexModelDeployment resource and is covered by the direct rule tests).
EXPECTED: dict[str, set[str]] = {
    "aws": {
        "encryption-at-rest",
        "key-rotation",
        "encryption-in-transit",
        "required-tags",
        "no-public-access",
        "network-isolation",
        "least-privilege-iam",
        "data-capture",
        "model-approval",
        "deletion-protection",
        "deployment-safety",
        "monitoring-required",
        "allowed-instance-types",
        "budget-required",
        "log-retention",
        "audit-logging",
    },
    "gcp": {
        "encryption-at-rest",
        "key-rotation",
        "encryption-in-transit",
        "required-tags",
        "no-public-access",
        "network-isolation",
        "least-privilege-iam",
        "data-capture",
        "model-approval",
        "deletion-protection",
        "monitoring-required",
        "allowed-instance-types",
        "budget-required",
        "audit-logging",
    },
    "kubernetes": {
        "k8s-pod-security",
        "k8s-namespace-guardrails",
        "no-public-access",
        "required-tags",
        "least-privilege-iam",
        "encryption-in-transit",
        "encryption-at-rest",
        "data-capture",
        "model-approval",
        "deployment-safety",
        "monitoring-required",
        "allowed-instance-types",
        "deletion-protection",
        "budget-required",
        "helm-chart-pinned",
    },
}
PROGRAMS: dict[str, tuple[Callable[[], None], Callable[[], None]]] = {
    "aws": (raw_programs.aws_violations, raw_programs.aws_compliant),
    "gcp": (raw_programs.gcp_violations, raw_programs.gcp_compliant),
    "kubernetes": (raw_programs.k8s_violations, raw_programs.k8s_compliant),
}


def _run(program: Callable[[], None], environment: str = "prod") -> tuple[CapturedStack, list[Violation]]:
    stack = plan(program, environment=environment)
    return stack, evaluate_stack(stack)


def _on(violations: list[Violation], policy_id: str, name: str) -> list[Violation]:
    return [v for v in violations if v.policy_id == policy_id and v.urn.endswith(f"::{name}") and not v.note]


@pytest.mark.parametrize("cloud", sorted(PROGRAMS))
def test_violating_program_triggers_every_applicable_rule(cloud: str) -> None:
    stack, violations = _run(PROGRAMS[cloud][0])
    assert EXPECTED[cloud] <= {v.policy_id for v in violations}
    urns = {r.urn for r in stack.resources} | {"urn:pulumi:prod::churn::pulumi:pulumi:Stack::churn-prod"}
    assert all(v.urn in urns for v in violations)
    assert has_mandatory(violations)


@pytest.mark.parametrize("cloud", sorted(PROGRAMS))
def test_compliant_program_has_no_violation_at_all(cloud: str) -> None:
    _, violations = _run(PROGRAMS[cloud][1])
    assert violations == []


@pytest.mark.parametrize("cloud", sorted(PROGRAMS))
def test_compliant_program_stays_clean_in_dev(cloud: str) -> None:
    _, violations = _run(PROGRAMS[cloud][1], environment="dev")
    assert not has_mandatory(violations)


def test_aws_acceptance_unencrypted_endpoint_untagged_public_bucket_and_wildcard_policy() -> None:
    _, violations = _run(raw_programs.aws_violations)
    for policy_id, name in (
        ("encryption-at-rest", "serving-config"),
        ("required-tags", "raw-data"),
        ("no-public-access", "raw-data"),
        ("least-privilege-iam", "admin"),
    ):
        found = _on(violations, policy_id, name)
        assert found and all(v.enforcement is Enforcement.MANDATORY for v in found), (policy_id, name)
    assert any("kmsKeyArn" in v.message for v in _on(violations, "encryption-at-rest", "serving-config"))
    assert any("BucketPublicAccessBlock" in v.message for v in _on(violations, "no-public-access", "raw-data"))


def test_gcp_acceptance_endpoint_without_cmek_public_bucket_and_owner_role() -> None:
    _, violations = _run(raw_programs.gcp_violations)
    for policy_id, name in (
        ("encryption-at-rest", "endpoint"),
        ("encryption-at-rest", "features"),
        ("no-public-access", "raw-data"),
        ("least-privilege-iam", "owner"),
    ):
        found = _on(violations, policy_id, name)
        assert found and all(v.enforcement is Enforcement.MANDATORY for v in found), (policy_id, name)
    assert any("publicAccessPrevention" in v.message for v in _on(violations, "no-public-access", "raw-data"))
    assert any("roles/owner" in v.message for v in _on(violations, "least-privilege-iam", "owner"))


def test_k8s_acceptance_privileged_latest_no_quota_and_load_balancer() -> None:
    _, violations = _run(raw_programs.k8s_violations)
    pod = _on(violations, "k8s-pod-security", "trainer")
    assert any("privileged" in v.message for v in pod) and any("latest" in v.message for v in pod)
    assert any("ResourceQuota" in v.message for v in _on(violations, "k8s-namespace-guardrails", "team-a"))
    assert any("LoadBalancer" in v.message for v in _on(violations, "no-public-access", "public"))
    flagged = (
        pod + _on(violations, "k8s-namespace-guardrails", "team-a") + _on(violations, "no-public-access", "public")
    )
    assert all(v.enforcement is Enforcement.MANDATORY for v in flagged)


def test_dev_environment_makes_most_rules_advisory_but_keeps_the_three_mandatory() -> None:
    _, violations = _run(raw_programs.aws_violations, environment="dev")
    mandatory = {v.policy_id for v in violations if v.enforcement is Enforcement.MANDATORY}
    assert mandatory == {"encryption-at-rest", "required-tags", "no-public-access"}
    assert "data-capture" not in {v.policy_id for v in violations}
