"""Every shipped example and stack plans offline in dev and prod with 0 mandatory policy violations."""

from pathlib import Path

import pytest

from mlops_infra.engine import run_program
from mlops_infra.policy.config import load_policy_config
from mlops_infra.policy.evaluate import evaluate_stack

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*/*.py"))
STACKS = sorted(p.parent for p in (ROOT / "stacks").glob("*/Pulumi.yaml"))
# Single-file examples carry no stack config; give them what a stack file would.
EXAMPLE_CONFIG = ["aws:region=us-east-1", "gcp:project=churn-ml-prod", "gcp:region=europe-west4"]


def mandatory(stack):
    return [v for v in evaluate_stack(stack, load_policy_config(None)) if v.enforcement == "mandatory"]


def test_there_is_an_example_per_component():
    assert len(EXAMPLES) >= 15
    assert {p.parent.name for p in EXAMPLES} == {"aws", "gcp", "k8s"}


@pytest.mark.parametrize("environment", ["dev", "prod"])
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_example_plans_without_mandatory_violations(example, environment):
    stack = run_program(example, environment, [*EXAMPLE_CONFIG, f"environment={environment}"])
    assert any(r.type.startswith("mlops-infra:") for r in stack.resources)
    assert [v.to_json() for v in mandatory(stack)] == []


# Every stack config that ships: single-cloud stacks have dev/staging/prod, the generic platform
# stack has <cloud>-<environment> and multi-prod.
STACK_CONFIGS = sorted(
    (stack_dir, config.name.removeprefix("Pulumi.").removesuffix(".yaml"))
    for stack_dir in STACKS
    for config in stack_dir.glob("Pulumi.*.yaml")
)


def test_every_stack_ships_dev_and_a_protected_config():
    for stack_dir in STACKS:
        names = {name for directory, name in STACK_CONFIGS if directory == stack_dir}
        assert any(n.endswith("dev") for n in names), stack_dir.name
        assert any(n.endswith(("staging", "prod")) for n in names), stack_dir.name


@pytest.mark.parametrize(("stack_dir", "stack_name"), STACK_CONFIGS, ids=lambda v: v if isinstance(v, str) else v.name)
def test_stack_plans_without_mandatory_violations(stack_dir, stack_name):
    stack = run_program(stack_dir, stack_name)
    assert [v.to_json() for v in mandatory(stack)] == []
