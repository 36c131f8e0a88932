"""The wrappers under the offline engine: the real component with the same children, validation first."""

from pathlib import Path

import pulumi
import pytest
from pydantic import ValidationError

from mlops_infra.k8s import Tenancy
from mlops_infra.platform import MlPlatform as RealPlatform
from mlops_infra.spec.load import load_spec

PLATFORM_YAML = Path(__file__).resolve().parents[2] / "stacks" / "platform" / "platform.yaml"
TENANCY = {
    "team": "churn-ml",
    "quota": {"gpus": 2, "requests_cpu": "24", "limits_cpu": "48"},
    "groups": {"data_scientists": ["churn-ml-data-scientists"], "viewers": ["churn-ml-viewers"]},
    "service_accounts": ["notebooks"],
}


def _below(stack, urn):
    """(type, name, inputs) of every custom resource under ``urn``, in registration order."""
    by_urn = stack.by_urn()

    def under(resource):
        parent = resource.parent
        while parent is not None:
            if parent == urn:
                return True
            parent = by_urn[parent].parent if parent in by_urn else None
        return False

    return [(r.type, r.name, r.inputs) for r in stack.resources if r.custom and under(r)]


def test_a_wrapper_builds_the_real_component_as_its_child_with_the_same_resources(offline_plan):
    from mlops_infra_components.wrappers import K8sTenancy

    def wrapped():
        team = K8sTenancy("team", TENANCY)
        pulumi.export("namespace", team.namespace)

    def direct():
        Tenancy("team", TENANCY)

    stack = offline_plan(wrapped, environment="prod")
    reference = offline_plan(direct, environment="prod")

    [wrapper] = stack.by_type("mlops-infra:index:K8sTenancy")
    [real] = stack.by_type("mlops-infra:k8s:Tenancy")
    assert real.parent == wrapper.urn and real.name == wrapper.name == "team"
    # The real component keeps its own token and inputs (environment, protected), so policies see it.
    assert real.inputs["environment"] == "prod"
    assert real.inputs["protected"] is True
    [reference_real] = reference.by_type("mlops-infra:k8s:Tenancy")
    assert _below(stack, real.urn) == _below(reference, reference_real.urn)
    assert len(_below(stack, real.urn)) >= 5
    # The wrapper re-exports what the real component registers.
    assert stack.outputs["namespace"] == reference.by_type("kubernetes:core/v1:Namespace")[0].inputs["metadata"]["name"]


def test_wire_values_become_model_values(offline_plan):
    """Numbers arrive as floats and Literals as enum members; the model gets ints and strings."""
    from mlops_infra_components.args import AwsBudgetArgs
    from mlops_infra_components.wrappers import AwsBudget

    args: AwsBudgetArgs = {"monthly_limit_usd": 1500.0, "subscriber_emails": ["ml-platform@example.com"]}
    stack = offline_plan(lambda: AwsBudget("platform", args))
    [budget] = stack.by_type("aws:budgets/budget:Budget")
    assert float(budget.inputs["limitAmount"]) == 1500


def test_a_bad_value_names_the_field_and_registers_nothing(offline_plan):
    from mlops_infra_components.wrappers import K8sTenancy

    errors = []

    def program():
        try:
            K8sTenancy("team", {**TENANCY, "quota": {"gpus": -1}})
        except ValidationError as error:
            errors.append(error)

    stack = offline_plan(program)
    [error] = errors
    assert "quota.gpus" in str(error) and "greater than or equal to 0" in str(error)
    assert not [r for r in stack.resources if r.type.startswith(("mlops-infra", "kubernetes"))]
    # The same error a Python user of the real component gets.
    with pytest.raises(ValidationError) as direct:
        Tenancy.ARGS.model_validate({**TENANCY, "quota": {"gpus": -1}})
    assert str(direct.value) == str(error)


def test_a_bad_value_stops_before_the_wrapper_registers(offline_plan):
    from mlops_infra_components.wrappers import K8sTenancy

    def program():
        K8sTenancy("ok", TENANCY)
        try:
            K8sTenancy("bad", {**TENANCY, "team": "Not A DNS Label"})
        except ValidationError:
            pulumi.export("failed", True)

    stack = offline_plan(program)
    assert stack.outputs["failed"] is True
    assert [r.name for r in stack.by_type("mlops-infra:index:K8sTenancy")] == ["ok"]


def test_mlplatform_is_the_same_component_with_the_same_urns(offline_plan):
    from mlops_infra_components import MlPlatform

    spec = load_spec(PLATFORM_YAML, {"clouds": ["aws"]})
    args = spec.model_dump(mode="json", exclude_unset=True)

    stack = offline_plan(lambda: MlPlatform("churn", args))
    reference = offline_plan(lambda: RealPlatform("churn", spec))

    assert [r.urn for r in stack.resources] == [r.urn for r in reference.resources]
    assert [r.inputs for r in stack.custom_resources()] == [r.inputs for r in reference.custom_resources()]
    assert stack.by_type("mlops-infra:index:MlPlatform")
