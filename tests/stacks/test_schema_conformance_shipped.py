"""Every shipped stack config and every example has 0 provider-schema errors: a real preview accepts their inputs.

Stacks come from the session's plan cache (conftest ``planned``), shared with the other stack tests.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mlops_infra.engine import CapturedStack, run_program
from mlops_infra.engine.conformance import check_stack

ROOT = Path(__file__).resolve().parents[2]
STACK_CONFIGS = sorted(
    (stack_dir.name, config.name.removeprefix("Pulumi.").removesuffix(".yaml"))
    for stack_dir in (ROOT / "stacks").iterdir()
    if (stack_dir / "Pulumi.yaml").is_file()
    for config in stack_dir.glob("Pulumi.*.yaml")
)
EXAMPLES = sorted((ROOT / "examples").glob("*/*.py"))
# Single-file examples carry no stack config; give them what a stack file would (as tests/examples does).
EXAMPLE_CONFIG = ["aws:region=us-east-1", "gcp:project=churn-ml-prod", "gcp:region=europe-west4"]
CASES = [pytest.param("stack", d, s, id=f"stacks/{d}:{s}") for d, s in STACK_CONFIGS] + [
    pytest.param("example", str(p), env, id=f"examples/{p.parent.name}/{p.stem}:{env}")
    for p in EXAMPLES
    for env in ("dev", "prod")
]


def test_every_stack_config_and_example_is_covered() -> None:
    assert len(STACK_CONFIGS) >= 17 and len(EXAMPLES) >= 15


@pytest.mark.parametrize(("kind", "where", "stack"), CASES)
def test_no_schema_errors(planned: Callable[[str, str], CapturedStack], kind: str, where: str, stack: str) -> None:
    if kind == "stack":
        captured = planned(where, stack)
    else:
        captured = run_program(where, stack, [*EXAMPLE_CONFIG, f"environment={stack}"])
    report = check_stack(captured)
    assert [error.line() for error in report.errors] == []
    assert report.checked > 0  # the check ran on the provider resources, not only skipped them
