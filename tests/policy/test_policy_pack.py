"""The policy pack's validate callbacks agree with the offline check, and every rule is exported.

PolicyPack is never constructed: the harness calls each policy's ``validate`` with real
``ResourceValidationArgs`` / ``StackValidationArgs`` and a collector, as the analyzer would.
"""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pulumi_policy
import pytest
import raw_programs
import yaml
from pack_harness import resource_args, run_pack
from pulumi_policy import EnforcementLevel

from mlops_infra.engine.captured import CapturedStack
from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.policy.model import POLICY_IDS
from mlops_infra.policy.pack import build_policies, pack_initial_config, stack_policy_name
from mlops_infra.policy.rules import REGISTRY
from mlops_infra.policy.values import UNKNOWN_STRING
from mlops_infra.testing import plan

PACK_DIR = Path(__file__).resolve().parents[2] / "policies" / "mlops-guardrails"
PROGRAMS = [
    raw_programs.aws_violations,
    raw_programs.aws_compliant,
    raw_programs.gcp_violations,
    raw_programs.gcp_compliant,
    raw_programs.k8s_violations,
    raw_programs.k8s_compliant,
]


def _policy_id(name: str) -> str:
    return name.removesuffix("-stack")


def _offline(stack: CapturedStack, config: PolicyConfig) -> set[tuple[str, str, str, str]]:
    return {(v.policy_id, v.enforcement.value, v.urn, v.message) for v in evaluate_stack(stack, config) if not v.note}


def _packed(stack: CapturedStack, config: PolicyConfig) -> set[tuple[str, str, str, str]]:
    resource_policies, stack_policies = build_policies(config, stack.config)
    diagnostics = run_pack(stack, resource_policies, stack_policies, pack_initial_config(config))
    return {(_policy_id(d.policy), d.level, d.urn, d.message) for d in diagnostics if not d.note}


@pytest.mark.parametrize("environment", ["prod", "dev"])
@pytest.mark.parametrize("program", PROGRAMS, ids=[p.__name__ for p in PROGRAMS])
def test_pack_and_offline_check_report_the_same_violations(program: Any, environment: str) -> None:
    stack = plan(program, environment=environment)
    config = PolicyConfig()
    offline = _offline(stack, config)
    assert _packed(stack, config) == offline
    if "violations" in program.__name__:
        assert offline, "the violating program must produce violations for the comparison to mean something"


def test_pack_config_properties_reach_the_rules_like_the_policy_config_file() -> None:
    stack = plan(raw_programs.aws_violations, environment="prod")
    config = PolicyConfig.model_validate({"allowedInstanceTypes": ["ml.*"], "requiredTagKeys": ["project", "team"]})
    offline = _offline(stack, config)
    assert not any(v[0] == "allowed-instance-types" for v in offline)
    assert any(v[0] == "required-tags" and "team" in v[3] for v in offline)
    assert _packed(stack, config) == offline


def test_every_rule_is_exported_with_its_metadata() -> None:
    resource_policies, stack_policies = build_policies(PolicyConfig(), {"churn:environment": "prod"})
    exported = {p.name for p in resource_policies} | {p.name for p in stack_policies}
    expected = {s.id for s in REGISTRY.values() if s.resource_check} | {
        stack_policy_name(s) for s in REGISTRY.values() if s.stack_check
    }
    assert exported == expected
    assert {_policy_id(n) for n in exported} == set(REGISTRY) == set(pulumi_policy_ids())
    for policy in [*resource_policies, *stack_policies]:
        assert policy.description and policy.remediation_steps and policy.url.endswith(f"#{_policy_id(policy.name)}")
        assert policy.enforcement_level is EnforcementLevel.MANDATORY
    schemas = {p.name: p.config_schema for p in resource_policies if p.config_schema is not None}
    assert set(schemas["allowed-instance-types"].properties) == {
        "allowedInstanceTypes",
        "allowedInstanceTypesByEnvironment",
    }
    assert set(schemas["required-tags"].properties) == {"requiredTagKeys"}
    stack_schemas = {p.name: p.config_schema for p in stack_policies if p.config_schema is not None}
    assert set(stack_schemas["cost-budget"].properties) == {"prices"}


def pulumi_policy_ids() -> list[str]:
    return list(POLICY_IDS)  # every documented id is a pack policy, cost-budget included


def test_levels_follow_the_stack_environment_and_overrides() -> None:
    config = PolicyConfig.model_validate({"enforcement": {"budget-required": "disabled", "required-tags": "advisory"}})
    resource_policies, stack_policies = build_policies(config, {"churn:environment": "dev"})
    levels = {p.name: p.enforcement_level for p in [*resource_policies, *stack_policies]}
    assert levels["encryption-at-rest"] is EnforcementLevel.MANDATORY
    assert levels["no-public-access-stack"] is EnforcementLevel.MANDATORY
    assert levels["least-privilege-iam"] is EnforcementLevel.ADVISORY
    assert levels["required-tags"] is EnforcementLevel.ADVISORY
    assert levels["budget-required"] is EnforcementLevel.DISABLED


def test_unknown_value_during_preview_skips_the_check_with_an_advisory_note() -> None:
    stack = plan(raw_programs.aws_compliant, environment="prod")
    role = next(r for r in stack.resources if r.type == "aws:iam/role:Role")
    role.inputs["inlinePolicies"][0]["policy"] = UNKNOWN_STRING
    resource_policies, _ = build_policies(PolicyConfig(), stack.config)
    iam = next(p for p in resource_policies if p.name == "least-privilege-iam")
    reported: list[str] = []
    with pytest.raises(pulumi_policy.proxy.UnknownValueError) as raised:
        iam.validate(resource_args(stack, role), lambda message, urn=None: reported.append(message))
    assert reported == [] and "inlinePolicies[0].policy" in raised.value.message
    notes = [v for v in evaluate_stack(stack) if v.note]
    assert len(notes) == 1 and notes[0].enforcement.value == "advisory" and notes[0].policy_id == "least-privilege-iam"


def test_unknown_key_reference_counts_as_set_and_findings_still_report_before_the_note() -> None:
    stack = plan(raw_programs.aws_violations, environment="prod")
    config_resource = next(r for r in stack.resources if r.type.endswith("EndpointConfiguration"))
    config_resource.inputs["kmsKeyArn"] = UNKNOWN_STRING  # a key created in the same update
    config_resource.inputs["tags"] = UNKNOWN_STRING
    violations = [v for v in evaluate_stack(stack) if v.urn == config_resource.urn]
    assert not [v for v in violations if v.policy_id == "encryption-at-rest" and not v.note]
    assert [v for v in violations if v.policy_id == "required-tags" and v.note]
    assert [v for v in violations if v.policy_id == "allowed-instance-types" and not v.note]


def test_pack_main_builds_the_pack_from_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run __main__.py with PolicyPack replaced by a recorder (the real one would serve gRPC forever)."""
    recorded: dict[str, Any] = {}

    class RecordingPack:
        def __init__(self, **kwargs: Any) -> None:
            recorded.update(kwargs)

    monkeypatch.setattr(pulumi_policy, "PolicyPack", RecordingPack)
    monkeypatch.setenv("PULUMI_CONFIG", '{"churn:environment": "dev"}')
    runpy.run_path(str(PACK_DIR / "__main__.py"), run_name="__main__")
    assert recorded["name"] == "mlops-guardrails"
    names = {p.name for p in recorded["policies"]}
    resource_policies, stack_policies = build_policies(PolicyConfig(), {"churn:environment": "dev"})
    assert names == {p.name for p in [*resource_policies, *stack_policies]}
    levels = {p.name: p.enforcement_level for p in recorded["policies"]}
    assert (
        levels["k8s-pod-security"] is EnforcementLevel.ADVISORY
        and levels["required-tags"] is EnforcementLevel.MANDATORY
    )
    assert recorded["initial_config"]["required-tags"] == {
        "requiredTagKeys": ["project", "environment", "owner", "cost-center"],
        "enforcementLevel": EnforcementLevel.MANDATORY,  # explicit: an unset level reaches the CLI as ADVISORY
    }
    assert recorded["initial_config"]["allowed-instance-types"]["enforcementLevel"] is EnforcementLevel.ADVISORY


def test_pack_project_files_are_valid() -> None:
    project = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python" and project["version"] and project["description"]
    assert set(project) <= {"runtime", "version", "main", "description", "author", "website", "license"}
    assert (PACK_DIR / "pyproject.toml").is_file() and (PACK_DIR / "uv.lock").is_file()
