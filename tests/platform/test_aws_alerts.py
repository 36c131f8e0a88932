"""The spec's alerts section on AWS: severity topics, receivers, failed-run alerts, and what check refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_infra.engine import ProgramError
from mlops_infra.engine.captured import CapturedStack
from mlops_infra.platform import MlPlatform
from mlops_infra.spec.load import deep_merge
from mlops_infra.testing import plan

SPEC_FILE = Path(__file__).resolve().parents[2] / "stacks" / "platform" / "platform.yaml"


def churn_spec(**overrides: Any) -> dict[str, Any]:
    document = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    return deep_merge(document, deep_merge({"clouds": ["aws"]}, overrides))


def realize(environment: str, config: dict[str, Any] | None = None, **overrides: Any) -> CapturedStack:
    if environment != "dev":
        overrides = deep_merge({"aws": {"approved_model_packages": {"scoring": 7}}}, overrides)
    spec = churn_spec(**overrides)
    return plan(lambda: MlPlatform("churn", spec), environment=environment, config=config)


PAGED = {
    "emails": ["ml-oncall@example.com"],
    "pagerduty": {"integration_key_secret": "pagerdutyIntegrationKey"},
    "slack": {"channel": "#ml-alerts", "channel_id": "C0ACMEML01", "workspace_id": "T0ACMEML01"},
}


def test_pagerduty_and_slack_in_prod():
    stack = realize("prod", config={"pagerdutyIntegrationKey": "pdkey"}, alerts=PAGED)
    pagerduty = next(s for s in stack.by_type("aws:sns/topicSubscription:TopicSubscription") if "pagerduty" in s.name)
    assert pagerduty.name == "aws-alerts-critical-pagerduty"
    assert pagerduty.inputs["topic"] == "arn:aws:sns:us-east-1:123456789012:churn-prod-aws-alerts-critical"
    assert pagerduty.inputs["endpoint"] == "[secret]"
    (channel,) = stack.by_type("aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration")
    assert channel.inputs["snsTopicArns"] == ["arn:aws:sns:us-east-1:123456789012:churn-prod-aws-alerts"]


def test_failed_training_runs_are_a_warning():
    stack = realize("dev")
    rule = next(r for r in stack.by_type("aws:cloudwatch/eventRule:EventRule") if r.name == "aws-training-failed")
    pattern = json.loads(rule.inputs["eventPattern"])
    assert pattern["detail-type"] == ["SageMaker Model Building Pipeline Execution Status Change"]
    assert pattern["detail"]["currentPipelineExecutionStatus"] == ["Failed", "Stopped"]
    (pipeline,) = stack.by_type("aws:sagemaker/pipeline:Pipeline")
    assert pattern["detail"]["pipelineArn"] == [
        f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/{pipeline.inputs['pipelineName']}"
    ]
    (target,) = [t for t in stack.by_type("aws:cloudwatch/eventTarget:EventTarget") if t.name.startswith(rule.name)]
    assert target.inputs["rule"] == rule.inputs["name"]
    assert target.inputs["arn"] == "arn:aws:sns:us-east-1:123456789012:churn-dev-aws-alerts"


@pytest.mark.parametrize(
    ("alerts", "named"),
    [
        ({"emails": []}, r"settings: alerts: prod is a protected environment"),
        (PAGED, r"churn:pagerdutyIntegrationKey"),
        ({"slack": {"channel": "#ml-alerts", "channel_id": "C0ACMEML01"}}, r"alerts\.slack\.workspace_id"),
    ],
)
def test_check_refuses_alerts_aws_cannot_route_before_registering(alerts, named):
    with pytest.raises(ProgramError, match=named) as error:
        realize("prod", alerts=alerts)
    assert not [urn for urn in error.value.registered if "aws:" in urn.split("::")[2]]
