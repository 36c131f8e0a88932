"""The estimator never raises on a graph: unknowns, secrets, wrong types and missing keys make a resource
unpriced with a reason naming the field, never an exception and never a silent 0."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from mlops_infra.cost.catalogue import load_catalogue
from mlops_infra.cost.estimate import estimate_stack
from mlops_infra.cost.model import Unreadable, read_count, read_number, read_text
from mlops_infra.engine import CapturedStack
from mlops_infra.policy.values import UNKNOWN_SENTINELS, UNKNOWN_STRING

NUMBER_UNKNOWN = next(k for k, v in UNKNOWN_SENTINELS.items() if v == "number")


def _replace_scalars(value: Any, replacement: Any) -> Any:
    if isinstance(value, dict):
        return {k: _replace_scalars(v, replacement) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_scalars(v, replacement) for v in value]
    return replacement


def _with_inputs(stack: CapturedStack, change: Callable[[dict[str, Any]], Any]) -> CapturedStack:
    resources = [dataclasses.replace(r, inputs=change(copy.deepcopy(r.inputs))) for r in stack.resources]
    return dataclasses.replace(stack, resources=resources)


@pytest.mark.parametrize("stack_name", ["aws-prod", "gcp-prod", "k8s-prod"])
@pytest.mark.parametrize("sentinel", [UNKNOWN_STRING, NUMBER_UNKNOWN, "[secret]"])
def test_every_scalar_unknown_lists_every_costly_resource_as_unpriced(
    planned: Callable[[str, str], CapturedStack], stack_name: str, sentinel: str
) -> None:
    catalogue = load_catalogue()
    original = planned("platform", stack_name)
    before = estimate_stack(original, catalogue)
    costly = {i.urn for i in before.items} | {u.urn for u in before.unpriced}
    assert costly, "the real plan prices something"
    unknown = _with_inputs(original, lambda inputs: _replace_scalars(inputs, sentinel))
    after = estimate_stack(unknown, catalogue)
    unpriced = {u.urn for u in after.unpriced}
    assert costly <= unpriced
    for entry in after.unpriced:
        assert entry.reason
    # Nothing that cost money before is priced now (no value could be read), and nothing is a silent 0.
    assert not {i.urn for i in after.items} & costly


@pytest.mark.parametrize("stack_name", ["aws-prod", "gcp-prod", "k8s-prod"])
@pytest.mark.parametrize("replacement", ["lots", -3, None, {"a": 1}])
def test_one_field_at_a_time_never_raises(
    planned: Callable[[str, str], CapturedStack], stack_name: str, replacement: Any
) -> None:
    """Each top-level input of each costly resource replaced in turn (wrong type, missing, negative...)."""
    catalogue = load_catalogue()
    original = planned("platform", stack_name)
    before = estimate_stack(original, catalogue)
    costly = {i.urn for i in before.items} | {u.urn for u in before.unpriced}
    for resource in original.resources:
        if resource.urn not in costly:
            continue
        for key in resource.inputs:
            stack = dataclasses.replace(
                original,
                resources=[
                    dataclasses.replace(r, inputs={**r.inputs, key: replacement}) if r.urn == resource.urn else r
                    for r in original.resources
                ],
            )
            estimate = estimate_stack(stack, catalogue)
            for item in estimate.items:
                assert item.monthly_max >= 0 and item.basis


def test_an_unknown_instance_count_is_unpriced_with_the_field_named(
    planned: Callable[[str, str], CapturedStack],
) -> None:
    original = planned("platform", "aws-prod")

    def change(inputs: dict[str, Any]) -> dict[str, Any]:
        for variant in inputs.get("productionVariants") or []:
            variant["initialInstanceCount"] = NUMBER_UNKNOWN
        if "maxCapacity" in inputs:
            inputs["maxCapacity"] = NUMBER_UNKNOWN
        return inputs

    estimate = estimate_stack(_with_inputs(original, change), load_catalogue())
    (endpoint,) = [u for u in estimate.unpriced if u.type == "aws:sagemaker/endpoint:Endpoint"]
    assert "max capacity unknown until apply" in endpoint.reason


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (UNKNOWN_STRING, "instance count unknown until apply"),
        ("[secret]", "instance count is a secret"),
        ("four", "instance count is 'four', not a whole number"),
        (None, "instance count is not set"),
        (2.5, "not a whole number"),
        (-1, "not a whole number >= 0"),
        (True, "not a whole number"),
    ],
)
def test_read_count_reasons_name_the_field(value: Any, reason: str) -> None:
    with pytest.raises(Unreadable, match=reason):
        read_count(value, "instance count")


def test_read_helpers_accept_numeric_strings_and_defaults() -> None:
    assert read_count("4", "replicas") == 4
    assert read_number(" 0.5 ", "hours") == 0.5
    assert read_count(None, "replicas", default=1) == 1
    assert read_text(None, "name", default="x") == "x"
    with pytest.raises(Unreadable, match="region unknown until apply"):
        read_text(UNKNOWN_STRING, "region")
