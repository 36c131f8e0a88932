"""A canary rollback pages someone: a rule on the endpoints' rollback events targets the critical topic."""

from __future__ import annotations

import json
from pathlib import Path

import botocore.session
import pytest

from mlops_infra.aws.rollback_alert import DETAIL_TYPES, ROLLBACK_STATUSES, page_on_rollback
from mlops_infra.conventions import current_platform
from mlops_infra.engine import run_program
from mlops_infra.testing import one, plan

STACKS = Path(__file__).resolve().parents[2] / "stacks"
TOPIC = "arn:aws:sns:us-east-1:123456789012:churn-prod-alerts-critical"


def _snake(status: str) -> str:
    return "".join(f"_{c}" if c.isupper() and i else c for i, c in enumerate(status)).upper()


def test_the_statuses_are_sagemakers_rollback_statuses_in_both_spellings():
    # botocore's sagemaker model (DescribeEndpoint EndpointStatus); the events write statuses in upper snake case.
    enum = botocore.session.get_session().get_service_model("sagemaker").shape_for("EndpointStatus").enum
    rollback = [s for s in enum if "Rollback" in s or "RollingBack" in s]
    assert sorted(rollback) == ["RollingBack", "UpdateRollbackFailed"]
    assert set(ROLLBACK_STATUSES) == {*rollback, *map(_snake, rollback)}


def test_rule_matches_the_endpoints_rollbacks_and_targets_the_critical_topic():
    def program():
        page_on_rollback(
            "endpoint-rollback",
            platform=current_platform(),
            endpoint_names=["churn-prod-scoring"],
            topic_arns=[TOPIC],
        )

    stack = plan(program, environment="prod")
    rule = one(stack, "aws:cloudwatch/eventRule:EventRule")
    assert rule.inputs["name"] == "churn-prod-endpoint-rollback"
    assert json.loads(rule.inputs["eventPattern"]) == {
        "source": ["aws.sagemaker"],
        "detail-type": list(DETAIL_TYPES),
        "detail": {"EndpointName": ["churn-prod-scoring"], "EndpointStatus": list(ROLLBACK_STATUSES)},
    }
    target = one(stack, "aws:cloudwatch/eventTarget:EventTarget")
    assert (target.inputs["arn"], target.inputs["rule"]) == (TOPIC, "churn-prod-endpoint-rollback")


@pytest.mark.parametrize(("names", "topics", "match"), [([], [TOPIC], "endpoint"), (["e"], [], "person")])
def test_a_rule_without_endpoints_or_topics_is_refused(names, topics, match):
    def program():
        page_on_rollback("r", platform=current_platform(), endpoint_names=names, topic_arns=topics)

    with pytest.raises(Exception, match=match):
        plan(program)


def test_the_platform_pages_the_critical_topic_when_a_canary_rolls_back():
    stack = run_program(STACKS / "platform", "aws-prod")
    rule = next(r for r in stack.by_type("aws:cloudwatch/eventRule:EventRule") if r.name == "aws-endpoint-rollback")
    pattern = json.loads(rule.inputs["eventPattern"])
    canaries = [
        e.inputs["name"] for e in stack.by_type("aws:sagemaker/endpoint:Endpoint") if e.inputs.get("deploymentConfig")
    ]
    assert canaries and pattern["detail"]["EndpointName"] == canaries
    (target,) = [
        t for t in stack.by_type("aws:cloudwatch/eventTarget:EventTarget") if t.inputs["rule"] == rule.inputs["name"]
    ]
    critical = next(t for t in stack.by_type("aws:sns/topic:Topic") if t.name == "aws-alerts-critical-topic")
    assert target.inputs["arn"] == f"arn:aws:sns:us-east-1:123456789012:{critical.inputs['name']}"
    # The critical topic lets only this rule publish (not any rule of the account), and it reaches people.
    policy = next(p for p in stack.by_type("aws:sns/topicPolicy:TopicPolicy") if p.name == "aws-alerts-critical-policy")
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert statements["EventBridgeRulesPublish"]["Principal"] == {"Service": "events.amazonaws.com"}
    assert statements["EventBridgeRulesPublish"]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnEquals": {"aws:SourceArn": [f"arn:aws:events:us-east-1:123456789012:rule/{rule.inputs['name']}"]},
    }
    protocols = {
        s.inputs["protocol"]
        for s in stack.by_type("aws:sns/topicSubscription:TopicSubscription")
        if s.inputs["topic"] == target.inputs["arn"]
    }
    assert {"https", "email"} <= protocols


def test_the_warning_topic_takes_eventbridge_publishes_from_the_failed_run_rule_only():
    stack = run_program(STACKS / "platform", "aws-prod")
    rule = next(r for r in stack.by_type("aws:cloudwatch/eventRule:EventRule") if r.name == "aws-training-failed")
    (target,) = [
        t for t in stack.by_type("aws:cloudwatch/eventTarget:EventTarget") if t.inputs["rule"] == rule.inputs["name"]
    ]
    warning = next(t for t in stack.by_type("aws:sns/topic:Topic") if t.name == "aws-alerts-topic")
    assert target.inputs["arn"] == f"arn:aws:sns:us-east-1:123456789012:{warning.inputs['name']}"
    policy = next(p for p in stack.by_type("aws:sns/topicPolicy:TopicPolicy") if p.name == "aws-alerts-policy")
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert statements["EventBridgeRulesPublish"]["Condition"]["ArnEquals"] == {
        "aws:SourceArn": [f"arn:aws:events:us-east-1:123456789012:rule/{rule.inputs['name']}"]
    }
    # CloudWatch alarms and Budgets stay account-scoped: they have no rule to name.
    assert "ArnEquals" not in statements["CloudWatchAlarmsPublish"]["Condition"]
