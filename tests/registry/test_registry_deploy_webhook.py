"""AWS: the registry's approval rule calls the deploy webhook through an API destination (offline plan).

Also, on every cloud: the webhook's token config key is checked (set, and a secret) before anything registers.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_registry_realize import LATEST, realize

from mlops_infra.engine import ProgramError
from mlops_infra.spec.load import deep_merge
from mlops_infra.testing import iam_statements, one

WEBHOOK = {"url": "https://api.github.com/repos/acme/churn-platform/dispatches", "token_secret": "ciDispatchToken"}
# What `pulumi config set --secret` writes (the offline engine's placeholder ciphertext of "ghp-test").
SECRET_TOKEN = {"ciDispatchToken": {"secure": "v1:cGxhY2Vob2xkZXI=:Z2hwLXRlc3Q="}}


def with_webhook(kind: str = "repository_dispatch") -> dict[str, Any]:
    return deep_merge(LATEST, {"registry": {"approval": {"deploy_webhook": {**WEBHOOK, "kind": kind}}}})


@pytest.fixture(scope="module")
def stack() -> Any:
    return realize("aws", "prod", {"scoring": 9}, config=SECRET_TOKEN, **with_webhook())


def test_the_approval_rule_targets_the_webhook(stack: Any) -> None:
    rule = next(r for r in stack.by_type("aws:cloudwatch/eventRule:EventRule") if r.name.endswith("approved"))
    pattern = json.loads(rule.inputs["eventPattern"])
    assert pattern["detail-type"] == ["SageMaker Model Package State Change"]
    assert pattern["detail"]["ModelApprovalStatus"] == ["Approved"]
    assert pattern["detail"]["ModelPackageGroupName"] == ["churn-prod-churn"]

    destination = one(stack, "aws:cloudwatch/eventApiDestination:EventApiDestination").inputs
    assert destination["invocationEndpoint"] == WEBHOOK["url"]
    assert destination["httpMethod"] == "POST"
    target = next(
        t
        for t in stack.by_type("aws:cloudwatch/eventTarget:EventTarget")
        if t.name.endswith("deploy-on-approval-target")
    )
    assert target.inputs["rule"] == rule.inputs["name"]
    body = json.loads(target.inputs["inputTransformer"]["inputTemplate"])
    # The shared vocabulary (mlops_infra.registry.deploy_request), filled from the event's fields.
    assert body == {
        "event_type": "model-approved",
        "client_payload": {
            "cloud": "aws",
            "stack": "prod",
            "registry": "<group>",
            "version": "<version>",
            "reference": "<arn>",
        },
    }
    assert target.inputs["inputTransformer"]["inputPaths"] == {
        "arn": "$.detail.ModelPackageArn",
        "group": "$.detail.ModelPackageGroupName",
        "version": "$.detail.ModelPackageVersion",
    }
    assert target.inputs["retryPolicy"]["maximumRetryAttempts"] == 10


def test_the_token_is_a_secret_encrypted_with_the_platform_key(stack: Any) -> None:
    connection = one(stack, "aws:cloudwatch/eventConnection:EventConnection").inputs
    assert connection["authorizationType"] == "API_KEY"
    assert connection["authParameters"] == "[secret]"  # the Authorization header's token is never in clear
    assert "ghp-test" not in json.dumps(stack.outputs)
    assert "ghp-test" not in json.dumps([r.inputs for r in stack.resources])
    key = one(stack, "aws:kms/key:Key")
    assert connection["kmsKeyIdentifier"].startswith("arn:aws:kms:") and key.name.endswith("key")


def test_eventbridge_may_invoke_that_destination_only(stack: Any) -> None:
    role = next(r for r in stack.by_type("aws:iam/role:Role") if r.name.endswith("deploy-on-approval-role"))
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]
    policy = next(
        p for p in stack.by_type("aws:iam/rolePolicy:RolePolicy") if p.name.endswith("deploy-on-approval-invoke")
    )
    (granted,) = iam_statements(policy)
    assert granted["Action"] == ["events:InvokeApiDestination"]
    assert len(granted["Resource"]) == 1 and granted["Resource"][0].endswith("deploy-on-approval-destination")


def test_pulumi_deployments_asks_for_an_update() -> None:
    stack = realize("aws", "dev", {"scoring": 9}, config=SECRET_TOKEN, **with_webhook("pulumi_deployments"))
    target = next(
        t
        for t in stack.by_type("aws:cloudwatch/eventTarget:EventTarget")
        if t.name.endswith("deploy-on-approval-target")
    )
    assert json.loads(target.inputs["inputTransformer"]["inputTemplate"]) == {"operation": "update"}


@pytest.mark.parametrize("cloud", ["aws", "gcp", "k8s"])
def test_a_missing_token_stops_before_anything_registers(cloud: str) -> None:
    with pytest.raises(ProgramError) as error:
        realize(cloud, "dev", {"scoring": 9}, **with_webhook())

    assert "churn:ciDispatchToken" in str(error.value)
    assert "pulumi config set --secret ciDispatchToken" in str(error.value)
    assert not [u for u in error.value.registered if "::aws:" in u or "::gcp:" in u or "::kubernetes:" in u]


@pytest.mark.parametrize("cloud", ["aws", "gcp", "k8s"])
def test_a_plain_text_token_is_refused(cloud: str) -> None:
    with pytest.raises(ProgramError) as error:
        realize(cloud, "dev", {"scoring": 9}, config={"ciDispatchToken": "ghp-in-clear"}, **with_webhook())

    message = str(error.value)
    assert "churn:ciDispatchToken" in message and "plain text" in message
    assert "ghp-in-clear" not in message
    assert not [u for u in error.value.registered if "::aws:" in u or "::gcp:" in u or "::kubernetes:" in u]


def test_no_webhook_no_api_destination() -> None:
    assert (
        realize("aws", "dev", {"scoring": 9}, **LATEST).by_type(
            "aws:cloudwatch/eventApiDestination:EventApiDestination"
        )
        == []
    )
