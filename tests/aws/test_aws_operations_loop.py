"""Acceptance of the operations loop in the AWS prod plans (stacks/aws-sagemaker prod, stacks/platform aws-prod).

Every alarm routes to a person (alarm and OK actions are SNS topics of the stack with a subscriber or an AWS
Chatbot channel), a drift monitor exists, drift starts a pipeline run with no person in between, and the
endpoint's rollout rolls back on its own alarms.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import pytest

from mlops_infra.engine import run_program
from mlops_infra.engine.captured import CapturedStack

STACKS = Path(__file__).resolve().parents[2] / "stacks"
PROD_PLANS = {"aws-sagemaker": ("aws-sagemaker", "prod"), "platform": ("platform", "aws-prod")}


@pytest.fixture(scope="module", params=sorted(PROD_PLANS))
def prod(request) -> CapturedStack:
    directory, stack = PROD_PLANS[request.param]
    return run_program(STACKS / directory, stack)


def _topic_arn(topic) -> str:
    return f"arn:aws:sns:us-east-1:123456789012:{topic.inputs['name']}"


def _people(stack: CapturedStack) -> dict[str, set[str]]:
    """Topic ARN -> who it reaches (subscription protocols, and "chatbot" for a Slack channel)."""
    reach: dict[str, set[str]] = {_topic_arn(t): set() for t in stack.by_type("aws:sns/topic:Topic")}
    for subscription in stack.by_type("aws:sns/topicSubscription:TopicSubscription"):
        reach[subscription.inputs["topic"]].add(subscription.inputs["protocol"])
    for channel in stack.by_type("aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration"):
        for arn in channel.inputs["snsTopicArns"]:
            reach[arn].add("chatbot")
    return reach


def test_every_alarm_reaches_a_person_on_alarm_and_on_ok(prod):
    reach = _people(prod)
    alarms = prod.by_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert len(alarms) == 6
    for alarm in alarms:
        for actions in ("alarmActions", "okActions"):
            topics = alarm.inputs.get(actions) or []
            assert topics, (alarm.name, actions)
            assert all(reach.get(t) for t in topics), (alarm.name, actions, topics)


def test_critical_alarms_page_and_warnings_go_to_slack(prod):
    reach = _people(prod)
    for alarm in prod.by_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        (topic,) = alarm.inputs["alarmActions"]
        critical = alarm.inputs["name"].endswith(("-5xx-rate", "-model-errors"))
        # prod configures PagerDuty (an HTTPS subscription) and Slack (a Chatbot channel), plus e-mail.
        assert reach[topic] == ({"email", "https"} if critical else {"email", "chatbot"}), alarm.name


def test_drift_is_monitored_and_starts_a_pipeline_run_without_a_person(prod):
    (schedule,) = prod.by_type("aws:sagemaker/monitoringSchedule:MonitoringSchedule")
    assert schedule.inputs["monitoringScheduleConfig"]["monitoringType"] == "DataQuality"
    drift = [a.inputs["name"] for a in prod.by_type("aws:cloudwatch/metricAlarm:MetricAlarm") if "-drift-" in a.name]
    assert len(drift) == 3
    rule = next(r for r in prod.by_type("aws:cloudwatch/eventRule:EventRule") if "retrain" in r.name)
    pattern = json.loads(rule.inputs["eventPattern"])
    assert pattern["detail"]["state"]["value"] == ["ALARM"]
    assert all(fnmatch.fnmatchcase(name, pattern["detail"]["alarmName"][0]["wildcard"]) for name in drift)
    target = next(t for t in prod.by_type("aws:cloudwatch/eventTarget:EventTarget") if "retrain" in t.name)
    (pipeline,) = prod.by_type("aws:sagemaker/pipeline:Pipeline")
    assert target.inputs["arn"].endswith(f":pipeline/{pipeline.inputs['pipelineName']}")


def test_the_endpoint_rolls_back_on_its_own_alarms(prod):
    (endpoint,) = prod.by_type("aws:sagemaker/endpoint:Endpoint")
    deployment = endpoint.inputs["deploymentConfig"]
    assert deployment["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]["type"] in ("CANARY", "LINEAR")
    watched = {a["alarmName"] for a in deployment["autoRollbackConfiguration"]["alarms"]}
    endpoint_alarms = {
        a.inputs["name"] for a in prod.by_type("aws:cloudwatch/metricAlarm:MetricAlarm") if "-drift-" not in a.name
    }
    assert watched == endpoint_alarms
