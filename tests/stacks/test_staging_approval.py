"""The shipped platform aws-staging stack follows the newest approved version, and an approval deploys it.

Offline, ``offlineApprovedVersions`` in Pulumi.aws-staging.yaml is what the SageMaker registry answers;
the stack file's secret ``deployWebhookToken`` is what the approval rule's API destination calls with.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_infra.engine import CapturedStack, ProgramError, run_program

PLATFORM = Path(__file__).resolve().parents[2] / "stacks" / "platform"


@pytest.fixture(scope="module")
def staging() -> CapturedStack:
    return run_program(PLATFORM, "aws-staging")


def test_the_endpoint_serves_the_configured_approved_version(staging: CapturedStack) -> None:
    (model,) = staging.by_type("aws:sagemaker/model:Model")
    package = model.inputs["primaryContainer"]["modelPackageName"]
    assert package == "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-platform-staging-churn/7"


def test_an_approval_calls_the_ci_dispatch_for_this_stack(staging: CapturedStack) -> None:
    (destination,) = staging.by_type("aws:cloudwatch/eventApiDestination:EventApiDestination")
    assert destination.inputs["invocationEndpoint"] == "https://api.github.com/repos/acme/churn-platform/dispatches"
    targets = staging.by_type("aws:cloudwatch/eventTarget:EventTarget")
    (target,) = [t for t in targets if t.name == "aws-deploy-on-approval-target"]
    body = json.loads(target.inputs["inputTransformer"]["inputTemplate"])
    assert body["client_payload"]["stack"] == "aws-staging"
    (connection,) = staging.by_type("aws:cloudwatch/eventConnection:EventConnection")
    assert connection.inputs["authParameters"] == "[secret]"


def test_another_approved_version_is_served_after_the_next_run() -> None:
    stack = run_program(PLATFORM, "aws-staging", ['offlineApprovedVersions={"scoring": 8}'])
    (model,) = stack.by_type("aws:sagemaker/model:Model")
    assert model.inputs["primaryContainer"]["modelPackageName"].endswith("/churn-platform-staging-churn/8")


def test_staging_without_an_approved_version_stops() -> None:
    with pytest.raises(ProgramError, match="no approved version"):
        run_program(PLATFORM, "aws-staging", ["offlineApprovedVersions={}"])
