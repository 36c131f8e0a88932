"""Check output for scripts (the documented JSON section) and for people (tables grouped by policy)."""

from __future__ import annotations

from rich.console import Console

from mlops_infra.policy.model import Enforcement, Violation
from mlops_infra.policy.report import add_violations, render_text, violations_json

VIOLATIONS = [
    Violation("encryption-at-rest", Enforcement.MANDATORY, "urn:pulumi:prod::p::aws:sqs/queue:Queue::q",
              "aws:sqs/queue:Queue", "Queue 'q': no customer-managed key for queued messages."),
    Violation("key-rotation", Enforcement.ADVISORY, "urn:pulumi:dev::p::aws:kms/key:Key::k", "aws:kms/key:Key",
              "Key 'k': automatic rotation is off."),
    Violation("key-rotation", Enforcement.ADVISORY, "urn:pulumi:dev::p::aws:kms/key:Key::k2", "aws:kms/key:Key",
              "string value at .policy can't be known during preview", note=True),
]  # fmt: skip


def test_json_section_has_exactly_the_documented_keys() -> None:
    section = violations_json(VIOLATIONS)
    assert [set(v) for v in section] == [{"policy_id", "enforcement", "urn", "resource_type", "message"}] * 3
    assert section[0] == {
        "policy_id": "encryption-at-rest",
        "enforcement": "mandatory",
        "urn": "urn:pulumi:prod::p::aws:sqs/queue:Queue::q",
        "resource_type": "aws:sqs/queue:Queue",
        "message": "Queue 'q': no customer-managed key for queued messages.",
    }
    document = add_violations({"project": "p", "stack": "prod", "resources": [], "outputs": {}}, VIOLATIONS)
    assert set(document) == {"project", "stack", "resources", "outputs", "violations"}


def test_text_groups_by_policy_with_counts() -> None:
    console = Console(record=True, width=200, no_color=True)
    console.print(render_text(VIOLATIONS))
    text = console.export_text()
    assert "3 findings, 1 mandatory" in text
    names = ("encryption-at-rest", "key-rotation")
    cells = [line.split("│") for line in text.splitlines() if line.startswith("│ ")]
    rows = {c[1].strip(): [x.strip() for x in c[2:5]] for c in cells if c[1].strip() in names}
    assert rows == {"encryption-at-rest": ["1", "0", "0"], "key-rotation": ["0", "1", "1"]}
    assert "key-rotation (2)" in text and "encryption-at-rest (1)" in text and "skipped" in text
    console = Console(record=True, width=100, no_color=True)
    console.print(render_text([]))
    assert "No policy violations." in console.export_text()
