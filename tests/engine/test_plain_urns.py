"""The engine's plain-string create_urn gives the SDK's URNs, only while a program runs."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
from pulumi.runtime import resource as sdk_resource

from mlops_infra.engine import run_function

PARENT = "urn:pulumi:dev::test::mlops-infra:aws:Endpoint::churn"


def _program() -> None:
    key = aws.kms.Key("key")
    pulumi.export("engine-path", sdk_resource.create_urn.__module__)
    cases = {
        "top": ("bucket", "aws:s3/bucket:Bucket", None, None, None),
        "child": ("bucket", "aws:s3/bucket:Bucket", PARENT, None, None),
        "elsewhere": ("bucket", "aws:s3/bucket:Bucket", None, "other-project", "prod"),
        "resource-parent": ("alias", "aws:kms/alias:Alias", key, None, None),
        "output-name": (key.key_id, "aws:kms/alias:Alias", PARENT, None, None),
    }
    for label, (name, type_, parent, project, stack) in cases.items():
        ours = sdk_resource.create_urn(name, type_, parent, project, stack)  # the engine's, during the run
        sdk = pulumi.create_urn(name, type_, parent, project, stack)  # bound at import: always the SDK's path
        pulumi.export(f"{label}-ours", ours)
        pulumi.export(f"{label}-sdk", sdk)


def test_urns_match_the_sdk_for_strings_resources_and_outputs() -> None:
    stack = run_function(_program)
    assert stack.outputs["engine-path"] == "mlops_infra.engine.plain_urns"
    for label in ("top", "child", "elsewhere", "resource-parent", "output-name"):
        assert stack.outputs[f"{label}-ours"] == stack.outputs[f"{label}-sdk"], label
    assert stack.outputs["child-ours"] == "urn:pulumi:dev::test::mlops-infra:aws:Endpoint$aws:s3/bucket:Bucket::bucket"
    assert stack.outputs["elsewhere-ours"] == "urn:pulumi:prod::other-project::aws:s3/bucket:Bucket::bucket"


def test_the_sdk_function_is_restored_after_the_run() -> None:
    original = sdk_resource.create_urn
    run_function(_program)
    assert sdk_resource.create_urn is original
