"""json_text renders what Output.json_dumps renders, with the same secrecy, dependencies and unknowns."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi.runtime.rpc import UNKNOWN

from mlops_infra.engine import run_function
from mlops_infra.outputs import json_text


def _documents(key: aws.kms.Key) -> dict[str, Any]:
    secret = pulumi.Output.secret("s3cr3t")
    return {
        "plain": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"]}]},
        "wired": {"Statement": [{"Resource": [key.arn, "arn:aws:s3:::b/*"], "Nested": {"Id": key.key_id}}], "N": 3},
        "secret": {"Token": secret, "List": (1, 2.5, None, True)},
    }


def _program() -> None:
    key = aws.kms.Key("key")
    for name, document in _documents(key).items():
        ours, sdk = json_text(document), pulumi.Output.json_dumps(document)
        pulumi.export(f"{name}-ours", ours)
        pulumi.export(f"{name}-sdk", sdk)
        # Each text goes into a resource, so its dependencies are visible in the plan.
        aws.iam.Policy(f"{name}-ours", policy=ours)
        aws.iam.Policy(f"{name}-sdk", policy=sdk)


def test_text_secrecy_and_dependencies_match_the_sdk() -> None:
    stack = run_function(_program)
    for name in ("plain", "wired", "secret"):
        assert stack.outputs[f"{name}-ours"] == stack.outputs[f"{name}-sdk"]
    assert '"Resource": ["arn:aws:kms:' in stack.outputs["wired-ours"]
    assert stack.outputs["secret-ours"] == "[secret]"  # an export of a secret Output is masked
    policies = {r.name: r for r in stack.by_type("aws:iam/policy:Policy")}
    for name in ("plain", "wired", "secret"):
        assert policies[f"{name}-ours"].dependencies == policies[f"{name}-sdk"].dependencies
        assert policies[f"{name}-ours"].inputs == policies[f"{name}-sdk"].inputs
    assert policies["wired-ours"].dependencies and not policies["plain-ours"].dependencies


def test_unknown_at_preview_as_the_sdk() -> None:
    stack = run_function(_program, preview=True)
    policies = {r.name: r for r in stack.by_type("aws:iam/policy:Policy")}
    assert policies["wired-ours"].inputs["policy"] == policies["wired-sdk"].inputs["policy"]
    assert policies["wired-ours"].inputs["policy"] == UNKNOWN
    assert policies["plain-ours"].inputs["policy"] == policies["plain-sdk"].inputs["policy"]
    assert policies["plain-ours"].inputs["policy"].startswith('{"Version"')
