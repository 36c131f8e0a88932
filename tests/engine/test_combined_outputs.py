"""combined, resolved and concat give what Output.all, Output.from_input and Output.concat give.

Values, secrecy, dependencies and unknowns at preview are compared in one program, each helper
beside the SDK's, each result going into a resource so the plan shows its dependencies.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime.rpc import UNKNOWN

from mlops_infra.engine import run_function
from mlops_infra.outputs import combined, concat, resolved


def _pairs() -> dict[str, tuple[pulumi.Output[Any], pulumi.Output[Any]]]:
    """name -> (ours, the SDK's) over two resources (so a dependency dropped on the way would show)."""
    key = aws.kms.Key("key")
    queue = aws.sqs.Queue("queue")
    known = pulumi.Output.from_input("known")
    secret = pulumi.Output.secret("s3cr3t")

    def render(*parts: Any) -> str:
        return "|".join(str(part) for part in parts)

    document = {"Resource": [key.arn, "arn:aws:s3:::b/*"], "Nested": {"Url": queue.url, "N": 3}, "T": ("a", None)}
    return {
        "combined": (
            combined(render, key.arn, "plain", queue.arn, known),
            pulumi.Output.all(key.arn, "plain", queue.arn, known).apply(lambda v: render(*v)),
        ),
        "combined-unknown-first": (
            combined(render, queue.arn, known),
            pulumi.Output.all(queue.arn, known).apply(lambda v: render(*v)),
        ),
        "combined-secret": (
            combined(render, known, secret, key.key_id),
            pulumi.Output.all(known, secret, key.key_id).apply(lambda v: render(*v)),
        ),
        "combined-plain": (combined(render, "a", 1), pulumi.Output.all("a", 1).apply(lambda v: render(*v))),
        "resolved": (resolved(document).apply(repr), pulumi.Output.from_input(document).apply(repr)),
        "resolved-plain": (resolved({"a": [1, 2]}).apply(repr), pulumi.Output.from_input({"a": [1, 2]}).apply(repr)),
        "concat": (concat("arn:", key.arn, "/", queue.name), pulumi.Output.concat("arn:", key.arn, "/", queue.name)),
    }


def _program() -> None:
    for name, (ours, sdk) in _pairs().items():
        pulumi.export(f"{name}-ours", ours)
        pulumi.export(f"{name}-sdk", sdk)
        aws.sns.Topic(f"{name}-ours", display_name=ours)
        aws.sns.Topic(f"{name}-sdk", display_name=sdk)


@pytest.mark.parametrize("preview", [False, True], ids=["plan", "preview"])
def test_values_secrecy_dependencies_and_unknowns_match_the_sdk(preview: bool) -> None:
    stack = run_function(_program, preview=preview)
    parameters = {r.name: r for r in stack.by_type("aws:sns/topic:Topic")}
    names = [name.removesuffix("-ours") for name in parameters if name.endswith("-ours")]
    assert len(names) == 7
    for name in names:
        ours, sdk = parameters[f"{name}-ours"], parameters[f"{name}-sdk"]
        assert ours.inputs == sdk.inputs, name
        assert ours.dependencies == sdk.dependencies, name
        if not preview:
            assert stack.outputs[f"{name}-ours"] == stack.outputs[f"{name}-sdk"], name
    key_urn = next(r.urn for r in stack.resources if r.name == "key")
    queue_urn = next(r.urn for r in stack.resources if r.name == "queue")
    # Both sources' resources reach the result, also at preview when the first one is unknown.
    assert parameters["combined-ours"].dependencies == sorted([key_urn, queue_urn])
    assert parameters["combined-unknown-first-ours"].dependencies == [queue_urn]
    if preview:
        assert parameters["combined-ours"].inputs["displayName"] == UNKNOWN
        assert parameters["combined-plain-ours"].inputs["displayName"] == "a|1"
    else:
        assert stack.outputs["combined-secret-ours"] == "[secret]"
        parts = stack.outputs["combined-ours"].split("|")
        assert parts[0].startswith("arn:aws:kms:") and parts[1] == "plain" and parts[3] == "known"
        assert stack.outputs["resolved-ours"].startswith("{'Resource': ['arn:aws:kms:")
