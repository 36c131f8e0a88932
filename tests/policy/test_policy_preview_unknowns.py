"""Values unknown during ``pulumi preview`` skip the check that needs them, with an advisory note.

The programs in ``preview_programs`` are planned as a preview of a new stack (``plan(preview=True)``):
inputs computed from other resources' outputs are the engine's unknown placeholder, as the pack
receives them. Each would pass its rule once known; none may be reported as a violation.
"""

from __future__ import annotations

import copy

import preview_programs
import pytest

from mlops_infra.engine.captured import CapturedStack
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.policy.model import Violation
from mlops_infra.policy.values import UNKNOWN_STRING
from mlops_infra.testing import plan

_PLANNED: dict[str, CapturedStack] = {}


def planned(program_name: str) -> CapturedStack:
    if program_name not in _PLANNED:
        _PLANNED[program_name] = plan(getattr(preview_programs, program_name), environment="prod", preview=True)
    return _PLANNED[program_name]


def on(violations: list[Violation], policy_id: str, name: str) -> tuple[list[Violation], list[Violation]]:
    """(findings, notes) of ``policy_id`` on the resource named ``name``."""
    mine = [v for v in violations if v.policy_id == policy_id and v.urn.endswith(f"::{name}")]
    return [v for v in mine if not v.note], [v for v in mine if v.note]


def test_preview_captures_unknown_placeholders_where_outputs_are_not_known_yet() -> None:
    stack = planned("aws_unknowns")
    sse = next(r for r in stack.resources if r.name == "data-sse")
    assert sse.inputs["rules"] == [UNKNOWN_STRING] and sse.inputs["bucket"] == UNKNOWN_STRING
    config = next(r for r in stack.resources if r.name == "serving-config")
    assert config.inputs["dataCaptureConfig"]["captureOptions"] == [UNKNOWN_STRING, UNKNOWN_STRING]
    assert config.inputs["dataCaptureConfig"]["initialSamplingPercentage"] == 100  # plain inputs stay known


@pytest.mark.parametrize(
    ("program", "policy_id", "name", "paths"),
    [
        ("aws_unknowns", "encryption-at-rest", "data-sse", [".rules[0]"]),
        ("aws_unknowns", "data-capture", "serving-config", [".dataCaptureConfig.captureOptions[0]"]),
        (
            "k8s_unknowns",
            "k8s-pod-security",
            "api",
            [
                ".spec.template.spec.containers[0].securityContext.capabilities ",
                ".spec.template.spec.containers[0].securityContext.seccompProfile.type ",
                ".spec.template.spec.containers[0].resources.limits ",
            ],
        ),
        ("k8s_unknowns", "no-public-access", "churn", [".metadata.labels.networking.kserve.io/visibility "]),
    ],
    ids=["s3-sse-rules", "sagemaker-capture-options", "k8s-limits-capabilities-seccomp", "kserve-visibility"],
)
def test_an_unknown_value_is_a_note_not_a_violation(program: str, policy_id: str, name: str, paths: list[str]) -> None:
    findings, notes = on(evaluate_stack(planned(program)), policy_id, name)
    assert findings == []
    assert len(notes) == len(paths)
    for path in paths:
        assert any(f"value at {path}" in n.message and "can't be known during preview" in n.message for n in notes)
    assert all(n.enforcement.value == "advisory" for n in notes)


def test_the_other_container_checks_still_run_beside_a_skipped_one() -> None:
    """Each container sub-check skips alone: a known bad setting next to an unknown one is still reported."""
    stack = copy.deepcopy(planned("k8s_unknowns"))
    deployment = next(r for r in stack.resources if r.name == "api")
    container = deployment.inputs["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"]["readOnlyRootFilesystem"] = False
    container["image"] = "registry.example.com/api:latest"
    findings, notes = on(evaluate_stack(stack), "k8s-pod-security", "api")
    assert len(notes) == 3
    assert len(findings) == 2
    assert any("can write to its root filesystem" in f.message for f in findings)
    assert any("uses the mutable 'latest' tag" in f.message for f in findings)
