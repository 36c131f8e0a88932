"""Each resource's provider in the plan (text and JSON), and fake state in that provider's region/project."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
from rich.console import Console

from mlops_infra.engine import run_function
from mlops_infra.render.plan_text import render_plan


def _program() -> None:
    eu = aws.Provider("eu", region="eu-west-1", allowed_account_ids=["111122223333"])
    aws.kms.Key("eu-key", opts=pulumi.ResourceOptions(provider=eu))
    aws.kms.Key("home-key")
    queue = aws.sqs.Queue("eu-queue", opts=pulumi.ResourceOptions(provider=eu))
    pulumi.export("euQueueUrl", queue.url)
    pulumi.export("euRegion", aws.get_region_output(opts=pulumi.InvokeOutputOptions(provider=eu)).region)
    analytics = gcp.Provider("analytics", project="acme-analytics", region="europe-west4")
    gcp.kms.KeyRing("ring", location="europe-west4", opts=pulumi.ResourceOptions(provider=analytics))
    robot = gcp.serviceaccount.Account("robot", account_id="robot", opts=pulumi.ResourceOptions(provider=analytics))
    pulumi.export("robotEmail", robot.email)
    gcp.serviceaccount.Account("local", account_id="local")
    cluster = k8s.Provider("prod-cluster", context="prod-eks")
    k8s.core.v1.Namespace("ml", opts=pulumi.ResourceOptions(provider=cluster))


def _plan():
    return run_function(_program, config={"aws:region": "us-east-2", "gcp:project": "acme-ml"})


def test_an_explicit_provider_sets_the_region_of_arns_and_invokes():
    stack = _plan()
    keys = {r.name: r for r in stack.by_type("aws:kms/key:Key")}
    assert keys["eu-key"].placement is not None and keys["eu-key"].placement.region == "eu-west-1"
    assert stack.outputs["euQueueUrl"].startswith("https://sqs.eu-west-1.amazonaws.com/")
    assert stack.outputs["euRegion"] == "eu-west-1"
    robot = next(r for r in stack.by_type("gcp:serviceaccount/account:Account") if r.name == "robot")
    assert robot.placement is not None and robot.placement.account_or_project == "acme-analytics"
    assert stack.outputs["robotEmail"] == "robot@acme-analytics.iam.gserviceaccount.com"


def test_plan_json_carries_each_resources_provider():
    document = _plan().to_json()
    by_name = {r["name"]: r for r in document["resources"]}
    assert by_name["eu-key"]["provider"] == {
        "cloud": "aws",
        "region": "eu-west-1",
        "account_or_project": "111122223333",
        "name": "eu",
    }
    # The default provider reads the stack's config.
    assert by_name["home-key"]["provider"] == {
        "cloud": "aws",
        "region": "us-east-2",
        "account_or_project": None,
        "name": "default",
    }
    assert by_name["ring"]["provider"]["region"] == "europe-west4"
    assert by_name["local"]["provider"] == {
        "cloud": "gcp",
        "region": None,
        "account_or_project": "acme-ml",
        "name": "default",
    }
    assert by_name["ml"]["provider"]["cluster"] == "prod-eks"
    assert by_name["ml"]["provider"]["name"] == "prod-cluster"
    # Provider resources themselves, and the JSON keeps every documented field.
    assert "provider" not in by_name["eu"]
    assert set(by_name["eu-key"]) >= {"urn", "type", "name", "parent", "custom", "inputs", "protect"}
    json.dumps(document)


def test_fake_state_uses_the_provider_region():
    """Before: an explicit eu-west-1 provider planned with us-east-1 ARNs."""
    captured: dict[str, str] = {}

    def program() -> None:
        eu = aws.Provider("eu", region="eu-west-1")
        key = aws.kms.Key("eu-key", opts=pulumi.ResourceOptions(provider=eu))
        home = aws.kms.Key("home-key")
        pulumi.Output.all(key.arn, home.arn).apply(lambda arns: captured.update(eu=arns[0], home=arns[1]))

    run_function(program)
    assert captured["eu"].startswith("arn:aws:kms:eu-west-1:")
    assert captured["home"].startswith("arn:aws:kms:us-east-1:")  # default provider, no aws:region: the stand-in


def test_plan_text_shows_the_provider():
    console = Console(width=200, record=True, no_color=True)
    console.print(render_plan(_plan()))
    text = console.export_text()
    assert "eu-key @ aws eu-west-1 111122223333 (provider eu)" in text
    assert "home-key @ aws us-east-2" in text
    assert "ml @ kubernetes prod-eks (provider prod-cluster)" in text
    assert "local @ gcp acme-ml" in text
