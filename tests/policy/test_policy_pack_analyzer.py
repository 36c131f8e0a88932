"""The policy pack, launched as the Pulumi CLI launches it and spoken to over gRPC, reports what `check` reports.

For the raw test programs and every shipped stack, with and without ``environment`` in the stack
config, with and without ``--policy-pack-config``: the pack's violations (policy, level, URN,
message) equal ``mlops-infra check``'s, and its skipped-check notes name the same policies.
One pack process per stack config (levels are fixed when a pack starts), started once per module.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import preview_programs
import pytest
import raw_programs
from google.protobuf import json_format
from pack_analyzer import Diagnostic, PackConfigRefused, PackProcess

from mlops_infra.engine import run_program
from mlops_infra.engine.captured import CapturedStack
from mlops_infra.policy.config import PolicyConfig, from_pack_config
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.policy.model import Violation
from mlops_infra.policy.pack import PACK_NAME, PROPERTY_SCHEMAS
from mlops_infra.policy.values import UNKNOWN_STRING
from mlops_infra.testing import plan

STACKS_ROOT = Path(__file__).resolve().parents[2] / "stacks"
PROGRAMS = [
    raw_programs.aws_violations,
    raw_programs.aws_compliant,
    raw_programs.gcp_violations,
    raw_programs.gcp_compliant,
    raw_programs.k8s_violations,
    raw_programs.k8s_compliant,
]
# Every shipped stack project, in a protected environment (platform: the stack that composes all three clouds).
SHIPPED = [("aws-sagemaker", "prod"), ("gcp-vertex", "prod"), ("k8s-kserve", "prod"), ("platform", "multi-prod")]
# A --policy-pack-config that changes properties (set on a policy and its -stack policy alike) and levels.
PACK_CONFIG: dict[str, Any] = {
    "required-tags": {"requiredTagKeys": ["project", "owner", "team"]},
    "allowed-instance-types": {"enforcementLevel": "advisory", "allowedInstanceTypes": ["ml.m5.*", "e2-*", "m5.*"]},
    "key-rotation": {"maxKeyRotationDays": 90},
    "no-public-access": {"allowPublicMarker": "example.com/public"},
    "no-public-access-stack": {"allowPublicMarker": "example.com/public"},
    "least-privilege-iam": "disabled",
    "budget-required": {"enforcementLevel": "advisory"},
}
Packs = Callable[[CapturedStack], PackProcess]
Row = tuple[str, str, str, str]


@pytest.fixture(scope="module")
def packs() -> Iterator[Packs]:
    """``packs(stack)`` -> the pack process for that stack's project, name and config (started once)."""
    started: dict[str, PackProcess] = {}

    def pack_for(stack: CapturedStack) -> PackProcess:
        key = json.dumps([stack.project, stack.stack, stack.config], sort_keys=True)
        if key not in started:
            started[key] = PackProcess(stack.project, stack.stack, stack.config)
        return started[key]

    yield pack_for
    for process in started.values():
        process.close()


_SHIPPED: dict[tuple[str, str], CapturedStack] = {}


def shipped(stack_dir: str, stack: str) -> CapturedStack:
    if (stack_dir, stack) not in _SHIPPED:
        _SHIPPED[(stack_dir, stack)] = run_program(STACKS_ROOT / stack_dir, stack, [])
    return copy.deepcopy(_SHIPPED[(stack_dir, stack)])


def without_environment(stack: CapturedStack) -> CapturedStack:
    """The same resources, with no ``environment`` key in the stack config (what the pack then receives)."""
    stack.config = {k: v for k, v in stack.config.items() if k.split(":")[-1] != "environment"}
    return stack


def _check_rows(violations: list[Violation]) -> list[Row]:
    return sorted((v.policy_id, v.enforcement.value, v.urn, v.message) for v in violations if not v.note)


def _pack_rows(diagnostics: list[Diagnostic]) -> list[Row]:
    return sorted((d.policy.removesuffix("-stack"), d.level, d.urn, d.message) for d in diagnostics if not d.note)


def assert_same(stack: CapturedStack, pack: PackProcess, pack_config: dict[str, Any] | None) -> list[Row]:
    config = from_pack_config(pack_config) if pack_config else PolicyConfig()
    checked = evaluate_stack(stack, config)
    pack.configure(pack_config)
    diagnostics = pack.analyze(stack)
    assert _pack_rows(diagnostics) == _check_rows(checked)
    check_notes = [v for v in checked if v.note]
    pack_notes = [d for d in diagnostics if d.note]
    for note in check_notes:
        assert any(d.policy.removesuffix("-stack") == note.policy_id and note.message in d.message for d in pack_notes)
    assert {d.policy.removesuffix("-stack") for d in pack_notes} == {v.policy_id for v in check_notes}
    assert all(d.level == "advisory" for d in pack_notes)
    return _check_rows(checked)


@pytest.mark.parametrize("pack_config", [None, PACK_CONFIG], ids=["defaults", "pack-config"])
@pytest.mark.parametrize("environment", ["prod", "dev", None], ids=["prod", "dev", "no-environment"])
@pytest.mark.parametrize("program", PROGRAMS, ids=[p.__name__ for p in PROGRAMS])
def test_raw_programs_get_the_same_violations_from_the_pack_as_from_check(
    packs: Packs, program: Any, environment: str | None, pack_config: dict[str, Any] | None
) -> None:
    stack = raw_programs.planned(program, environment or "prod")
    if environment is None:
        stack = without_environment(stack)
    rows = assert_same(stack, packs(stack), pack_config)
    if "violations" in program.__name__:
        assert rows, "the violating program must produce violations for the comparison to mean something"
        if environment != "dev":
            assert any(level == "mandatory" for _, level, _, _ in rows)


@pytest.mark.parametrize("pack_config", [None, PACK_CONFIG], ids=["defaults", "pack-config"])
@pytest.mark.parametrize("with_environment", [True, False], ids=["environment", "no-environment"])
@pytest.mark.parametrize(("stack_dir", "stack_name"), SHIPPED, ids=[f"{d}-{s}" for d, s in SHIPPED])
def test_shipped_stacks_get_the_same_violations_from_the_pack_as_from_check(
    packs: Packs, stack_dir: str, stack_name: str, with_environment: bool, pack_config: dict[str, Any] | None
) -> None:
    stack = shipped(stack_dir, stack_name)
    if not with_environment:
        stack = without_environment(stack)
    rows = assert_same(stack, packs(stack), pack_config)
    if pack_config is not None:
        assert any(policy == "required-tags" and "team" in message for policy, _, _, message in rows)


def test_without_environment_both_block_where_a_dev_stack_only_warns(packs: Packs) -> None:
    """The measured disagreement: no ``environment`` config was advisory in check and mandatory in the pack."""
    dev = raw_programs.planned(raw_programs.gcp_violations, "dev")
    unset = without_environment(raw_programs.planned(raw_programs.gcp_violations, "dev"))
    dev_rows = assert_same(dev, packs(dev), None)
    unset_rows = assert_same(unset, packs(unset), None)
    least_privilege = [level for policy, level, _, _ in dev_rows if policy == "least-privilege-iam"]
    assert least_privilege and set(least_privilege) == {"advisory"}
    assert {level for policy, level, _, _ in unset_rows if policy == "least-privilege-iam"} == {"mandatory"}


def test_the_pack_publishes_its_policies_and_generated_config_schema(packs: Packs) -> None:
    stack = raw_programs.planned(raw_programs.aws_compliant)
    pack = packs(stack)
    info = pack.info()
    assert info.name == PACK_NAME and info.supportsConfig
    schemas = {
        p.name: json_format.MessageToDict(p.configSchema.properties) for p in info.policies if p.configSchema.properties
    }
    for name, properties in schemas.items():
        for prop, schema in properties.items():
            assert _json(schema) == _json(PROPERTY_SCHEMAS[prop]), (name, prop)
    assert set(schemas["no-public-access"]) == {"allowPublicMarker"}
    assert pack.plugin_version()


def _json(value: Any) -> Any:
    """Struct values come back as floats; compare as JSON numbers."""
    return json.loads(json.dumps(value, default=str), parse_int=float)


@pytest.mark.parametrize(
    "bad",
    [{"no-public-access": {"allowPublicMarker": "Allow-Public"}}, {"required-tags": {"requiredTagKeys": [" "]}}],
)
def test_a_pack_config_the_model_refuses_is_refused_by_the_published_schema(packs: Packs, bad: dict) -> None:
    stack = raw_programs.planned(raw_programs.aws_compliant)
    with pytest.raises(PackConfigRefused):
        packs(stack).configure(bad)
    with pytest.raises(ValueError, match=next(iter(next(iter(bad.values())))) or ""):
        from_pack_config(bad)


def test_an_unknown_value_in_analyze_props_is_a_note_in_both(packs: Packs) -> None:
    stack = raw_programs.planned(raw_programs.aws_compliant)
    role = next(r for r in stack.resources if r.type == "aws:iam/role:Role")
    role.inputs["inlinePolicies"][0]["policy"] = UNKNOWN_STRING
    assert_same(stack, packs(stack), None)
    notes = [d for d in packs(stack).analyze(stack) if d.note]
    assert [d.policy for d in notes] == ["least-privilege-iam"] and "inlinePolicies[0].policy" in notes[0].message


@pytest.mark.parametrize(
    "program", [preview_programs.aws_unknowns, preview_programs.k8s_unknowns], ids=["aws-unknowns", "k8s-unknowns"]
)
def test_values_unknown_at_preview_are_notes_in_the_pack_as_in_check(packs: Packs, program: Any) -> None:
    """Planned as ``pulumi preview`` sends them (same stack config as the raw programs: same pack process)."""
    stack = plan(program, environment="prod", preview=True)
    assert_same(stack, packs(stack), None)
    notes = {d.policy.removesuffix("-stack") for d in packs(stack).analyze(stack) if d.note}
    expected = (
        {"encryption-at-rest", "data-capture"}
        if "aws" in program.__name__
        else {"k8s-pod-security", "no-public-access"}
    )
    assert expected <= notes
