"""Rules never crash on odd wire values: wrong shapes, unknown placeholders, JSON strings that are not JSON."""

from __future__ import annotations

import copy
import dataclasses
import random
from typing import Any

import raw_programs
from hypothesis import given, settings
from hypothesis import strategies as st
from policy_factories import check, check_stack, view

from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.evaluate import evaluate_view, stack_view
from mlops_infra.policy.model import POLICY_IDS, StackView
from mlops_infra.policy.rules import REGISTRY
from mlops_infra.policy.values import UNKNOWN_SENTINELS
from mlops_infra.testing import plan

TOKENS = sorted(
    {
        t
        for spec in REGISTRY.values()
        for tokens in spec.resource_types.values()
        for t in tokens
        if t.count(":") == 2 and " " not in t and "*" not in t
    }
    | {"pulumi-python:dynamic/vertex:VertexModelDeployment"}
)
KEYS = [
    "spec",
    "metadata",
    "template",
    "containers",
    "securityContext",
    "policy",
    "tags",
    "labels",
    "kmsKeyArn",
    "productionVariants",
    "instanceType",
    "dataCaptureConfig",
    "encryptionSpec",
    "kmsKeyName",
    "rules",
    "Statement",
    "pipelineDefinition",
    "gceSetup",
    "predictor",
    "model",
    "image",
    "resources",
    "bucket",
    "role",
    "member",
    "deploymentConfig",
    "networkConfig",
    "hard",
    "podSelector",
    "ingress",
    "name",
    "type",
    "enableCapture",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from([*UNKNOWN_SENTINELS, "", "*", "latest", "aws:kms", '{"Statement": "x"}', "{not json", "0.0.0.0/0"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=25, deadline=None)
@given(token=st.sampled_from(TOKENS), props=st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=6))
def test_resource_rules_never_raise(token: str, props: dict[str, Any]) -> None:
    resource = view(token, props)
    for policy_id in REGISTRY:
        for violation in check(policy_id, resource):
            assert violation.policy_id == policy_id and violation.message


@settings(max_examples=25, deadline=None)
@given(
    resources=st.lists(
        st.tuples(st.sampled_from(TOKENS), st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=5)), max_size=5
    )
)
def test_stack_rules_never_raise(resources: list[tuple[str, dict[str, Any]]]) -> None:
    views = [view(token, props, name=f"r{i}") for i, (token, props) in enumerate(resources)]
    for policy_id in (p for p in POLICY_IDS if p in REGISTRY):
        assert all(v.message for v in check_stack(policy_id, *views))


WEIRD: list[Any] = [None, True, 0, -1, "", "*", [], {}, [None], {"a": None}, "{bad", *UNKNOWN_SENTINELS]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        found += [p for k, v in value.items() for p in _paths(v, (*path, k))]
    elif isinstance(value, list):
        found += [p for i, v in enumerate(value) for p in _paths(v, (*path, i))]
    return found


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copied = copy.deepcopy(value)
    target = copied
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copied


def test_mutated_real_programs_never_crash_a_rule() -> None:
    """Replace one value at a time, anywhere in real captured inputs, by a wrong-shaped or unknown value."""
    stacks = [
        stack_view(plan(p, environment="prod"))
        for p in (raw_programs.aws_compliant, raw_programs.gcp_compliant, raw_programs.k8s_compliant)
    ]
    chooser = random.Random(20240601)
    for _ in range(300):
        stack = chooser.choice(stacks)
        resources = list(stack.resources)
        index = chooser.randrange(len(resources))
        props = dict(resources[index].props)
        mutated = _replaced(props, chooser.choice(_paths(props)), chooser.choice(WEIRD))
        resources[index] = dataclasses.replace(resources[index], props=mutated if isinstance(mutated, dict) else {})
        for violation in evaluate_view(StackView(tuple(resources), stack.config, stack.stack_urn), PolicyConfig()):
            assert violation.message
