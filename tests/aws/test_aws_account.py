"""Account, region and partition are read once per stack run and provider, and stay per provider."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from mlops_infra.aws.account import account_id, arn, partition, region_name
from mlops_infra.engine import run_function
from mlops_infra.engine.monitor import DeterministicMocks


class _Holder(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("test:index:Holder", name, None, opts)
        self.register_outputs({})


@pytest.fixture
def invokes(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    counted: Counter[str] = Counter()
    call = DeterministicMocks.call

    def counting(self: DeterministicMocks, args: Any) -> Any:
        counted[args.token] += 1
        return call(self, args)

    monkeypatch.setattr(DeterministicMocks, "call", counting)
    return counted


def _program() -> None:
    eu = aws.Provider("eu", region="eu-west-1")
    home = [_Holder(f"home-{index}") for index in range(5)]
    abroad = _Holder("abroad", pulumi.ResourceOptions(providers=[eu]))
    for index, holder in enumerate(home):
        opts = pulumi.InvokeOutputOptions(parent=holder)
        pulumi.export(f"home{index}", pulumi.Output.all(account_id(opts), region_name(opts), partition(opts)))
    pulumi.export("default", region_name())
    pulumi.export("abroad", region_name(pulumi.InvokeOutputOptions(parent=abroad)))
    pulumi.export("explicit", region_name(pulumi.InvokeOutputOptions(provider=eu)))


def test_one_invoke_of_each_kind_per_provider(invokes: Counter[str]) -> None:
    stack = run_function(_program, config={"aws:region": "us-east-2"})
    assert {stack.outputs[f"home{index}"][1] for index in range(5)} == {"us-east-2"}
    assert stack.outputs["default"] == "us-east-2"
    assert stack.outputs["abroad"] == stack.outputs["explicit"] == "eu-west-1"
    # Default provider (5 holders + top level) and the eu provider (inherited or explicit): one read each.
    assert invokes["aws:index/getRegion:getRegion"] == 2
    assert invokes["aws:index/getCallerIdentity:getCallerIdentity"] == 1
    assert invokes["aws:index/getPartition:getPartition"] == 1


def test_each_run_reads_again(invokes: Counter[str]) -> None:
    run_function(_program, config={"aws:region": "us-east-2"})
    stack = run_function(_program, config={"aws:region": "ap-south-1"})
    assert stack.outputs["default"] == "ap-south-1"
    assert invokes["aws:index/getRegion:getRegion"] == 4


def test_options_with_dependencies_are_not_shared(invokes: Counter[str]) -> None:
    def program() -> None:
        key = aws.kms.Key("key")
        region_name()
        region_name(pulumi.InvokeOutputOptions(depends_on=[key]))
        region_name(pulumi.InvokeOutputOptions(depends_on=[key]))

    run_function(program)
    assert invokes["aws:index/getRegion:getRegion"] == 3


def test_arns_in_the_providers_partition_region_and_account(invokes: Counter[str]) -> None:
    def program() -> None:
        eu = aws.Provider("eu", region="eu-west-1", allowed_account_ids=["111122223333"])
        key = aws.kms.Key("key")
        abroad = pulumi.InvokeOutputOptions(provider=eu)
        pulumi.export("logs", arn("logs", "log-group:/aws/sagemaker/Endpoints/churn"))
        pulumi.export("bucket", arn("s3", "models/churn/*", region="", account=""))
        pulumi.export("consumer", arn("iam", "root", region="", account="210987654321"))
        pulumi.export("trails", arn("cloudtrail", "trail/*", region="*"))
        pulumi.export("wired", arn("kms", key.key_id.apply(lambda k: f"key/{k}")))
        pulumi.export("abroad", arn("sagemaker", "endpoint/churn", abroad))

    stack = run_function(program, config={"aws:region": "us-east-2"})
    account = stack.outputs["logs"].split(":")[4]
    assert stack.outputs["logs"] == f"arn:aws:logs:us-east-2:{account}:log-group:/aws/sagemaker/Endpoints/churn"
    assert stack.outputs["bucket"] == "arn:aws:s3:::models/churn/*"
    assert stack.outputs["consumer"] == "arn:aws:iam::210987654321:root"
    assert stack.outputs["trails"] == f"arn:aws:cloudtrail:*:{account}:trail/*"
    key = next(r for r in stack.resources if r.name == "key")
    assert stack.outputs["wired"].startswith(f"arn:aws:kms:us-east-2:{account}:key/") and key.urn
    assert stack.outputs["abroad"].startswith("arn:aws:sagemaker:eu-west-1:")
    # Six ARNs under two providers: one read of each kind per provider.
    assert invokes["aws:index/getCallerIdentity:getCallerIdentity"] == 2
    assert invokes["aws:index/getPartition:getPartition"] == 2


def test_an_arn_depends_on_the_resource_it_names() -> None:
    def program() -> None:
        key = aws.kms.Key("key")
        aws.iam.Policy("use-key", policy=arn("kms", key.key_id.apply(lambda k: f"key/{k}")))

    stack = run_function(program)
    key = next(r for r in stack.resources if r.name == "key")
    policy = next(r for r in stack.resources if r.name == "use-key")
    assert key.urn in policy.dependencies
