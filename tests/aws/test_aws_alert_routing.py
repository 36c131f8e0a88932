"""Alerts by severity on AWS: per-severity KMS topics, e-mail and PagerDuty subscriptions, Slack via AWS Chatbot."""

from __future__ import annotations

import json

import pulumi
import pytest

from mlops_infra.aws.alert_routing import PAGERDUTY_CLOUDWATCH_URL, AlertRouting
from mlops_infra.aws.alert_topic import AlertTopic
from mlops_infra.aws.chatbot import SlackChatbot
from mlops_infra.aws.endpoint import Endpoint
from mlops_infra.aws.model_monitor import ModelMonitor
from mlops_infra.engine import ProgramError
from mlops_infra.engine.captured import CapturedStack
from mlops_infra.testing import iam_statements, one, plan, required_tags_present

KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
EMAILS = ["ml-platform@example.com", "ml-oncall@example.com"]
SLACK = {"channel": "#ml-alerts", "channel_id": "C0ACMEML01", "workspace_id": "T0ACMEML01"}
ALERTS = {"emails": EMAILS, "pagerduty": {}, "slack": SLACK}
SECRETS = {"pagerdutyIntegrationKey": "pd0123456789abcdef0123456789abcd"}
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
CHATBOT = "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
CRITICAL = "arn:aws:sns:us-east-1:123456789012:churn-prod-alerts-critical"
WARNING = "arn:aws:sns:us-east-1:123456789012:churn-prod-alerts-warning"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn/xgboost-serve:1.7.6-2"


def _routed_endpoint(alerts: dict[str, object]) -> None:
    routing = AlertRouting("alerts", {"kms_key_arn": KEY, "alerts": alerts})
    endpoint = Endpoint(
        "scoring",
        {
            "kms_key_arn": KEY,
            "variants": [
                {
                    "name": "champion",
                    "model": {
                        "image": IMAGE,
                        "model_data_url": "s3://churn-models/champion/model.tar.gz",
                        "model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/7",
                    },
                    "instance_type": "ml.m5.large",
                    "initial_instance_count": 2,
                    "autoscaling": {"min_replicas": 2, "max_replicas": 4},
                }
            ],
            "data_capture": {"sampling_percent": 20},
            "alarms": {"critical_actions": routing.actions("critical"), "warning_actions": routing.actions("warning")},
        },
    )
    assert endpoint.capture_s3_uri is not None
    ModelMonitor(
        "scoring-monitor",
        {
            "kms_key_arn": KEY,
            "endpoint_name": endpoint.endpoint_name,
            "capture_s3_uri": endpoint.capture_s3_uri,
            "baseline_statistics_s3_uri": "s3://churn-baselines/v7/statistics.json",
            "baseline_constraints_s3_uri": "s3://churn-baselines/v7/constraints.json",
            "drift_features": ["tenure_months", "monthly_charges"],
            "alarm_actions": routing.actions("warning"),
        },
    )


@pytest.fixture(scope="module")
def stack() -> CapturedStack:
    return plan(lambda: _routed_endpoint(ALERTS), environment="prod", config=SECRETS)


@pytest.fixture(scope="module")
def slack_only() -> CapturedStack:
    return plan(lambda: AlertRouting("alerts", {"kms_key_arn": KEY, "alerts": {"slack": SLACK}}), environment="dev")


def _subscriptions(stack: CapturedStack, topic: str) -> dict[str, str]:
    """protocol:endpoint -> logical name, of the subscriptions of ``topic`` (an ARN)."""
    return {
        f"{s.inputs['protocol']}:{s.inputs['endpoint']}": s.name
        for s in stack.by_type(SUBSCRIPTION)
        if s.inputs["topic"] == topic
    }


def test_one_kms_topic_per_severity(stack):
    topics = {t.inputs["name"]: t for t in stack.by_type(TOPIC)}
    assert set(topics) == {"churn-prod-alerts-critical", "churn-prod-alerts-warning"}
    assert all(t.inputs["kmsMasterKeyId"] == KEY for t in topics.values())
    assert all("mlops-infra:aws:AlertRouting$mlops-infra:aws:AlertTopic" in t.urn for t in topics.values())


def test_topic_policy_lets_only_this_accounts_alarms_rules_budgets_and_anomalies_publish_over_tls(stack):
    for policy in stack.by_type("aws:sns/topicPolicy:TopicPolicy"):
        statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
        publishers = {
            "CloudWatchAlarmsPublish": "cloudwatch",
            "EventBridgeRulesPublish": "events",
            "BudgetsPublish": "budgets",
            "CostAnomalyDetectionPublish": "costalerts",
        }
        assert set(statements) == {*publishers, "DenyInsecureTransport"}
        for sid, service in publishers.items():
            allow = statements[sid]
            assert allow["Effect"] == "Allow" and allow["Action"] == ["sns:Publish"]
            assert allow["Principal"] == {"Service": f"{service}.amazonaws.com"}
            assert allow["Resource"] == [policy.inputs["arn"]]
            assert allow["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
        deny = statements["DenyInsecureTransport"]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_emails_on_both_topics_pagerduty_on_critical_only(stack):
    critical, warning = _subscriptions(stack, CRITICAL), _subscriptions(stack, WARNING)
    emails = {f"email:{e}" for e in EMAILS}
    assert set(warning) == emails
    # The PagerDuty URL embeds the integration key: a secret, masked in the plan.
    assert set(critical) == {*emails, "https:[secret]"}
    pagerduty = next(s for s in stack.by_type(SUBSCRIPTION) if s.name == critical["https:[secret]"])
    assert pagerduty.name == "alerts-critical-pagerduty"
    assert pagerduty.inputs["endpointAutoConfirms"] is True
    assert pagerduty.inputs["rawMessageDelivery"] is False
    assert SECRETS["pagerdutyIntegrationKey"] not in json.dumps([r.inputs for r in stack.resources])


def test_pagerduty_endpoint_is_the_events_v2_cloudwatch_integration():
    assert PAGERDUTY_CLOUDWATCH_URL.format(key="K") == "https://events.pagerduty.com/integration/K/enqueue"


def test_slack_posts_warnings_through_chatbot_with_a_read_only_role(stack):
    channel = one(stack, CHATBOT)
    assert channel.inputs["snsTopicArns"] == [WARNING]  # critical pages PagerDuty instead
    assert channel.inputs["slackChannelId"] == "C0ACMEML01"
    assert channel.inputs["slackTeamId"] == "T0ACMEML01"
    assert channel.inputs["guardrailPolicyArns"] == ["arn:aws:iam::aws:policy/CloudWatchReadOnlyAccess"]
    assert channel.inputs["userAuthorizationRequired"] is True
    role = next(r for r in stack.by_type("aws:iam/role:Role") if "SlackChatbot" in r.urn)
    assert channel.inputs["iamRoleArn"].endswith(f":role/{role.inputs['name']}")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "chatbot.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        }
    ]
    policy = next(p for p in stack.by_type("aws:iam/rolePolicy:RolePolicy") if "SlackChatbot" in p.urn)
    (read,) = iam_statements(policy)
    assert read["Action"] == ["cloudwatch:DescribeAlarmHistory", "cloudwatch:DescribeAlarms"]
    assert read["Resource"] == ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:churn-prod-*"]


def test_without_pagerduty_critical_alerts_go_to_slack(slack_only):
    channel = one(slack_only, CHATBOT)
    assert channel.inputs["snsTopicArns"] == [
        "arn:aws:sns:us-east-1:123456789012:churn-dev-alerts-critical",
        "arn:aws:sns:us-east-1:123456789012:churn-dev-alerts-warning",
    ]
    assert slack_only.by_type(SUBSCRIPTION) == []


def test_every_alarm_notifies_its_severity_on_alarm_and_ok(stack):
    alarms = {a.inputs["name"].removeprefix("churn-prod-"): a.inputs for a in stack.by_type(ALARM)}
    expected = {
        "scoring-champion-5xx-rate": CRITICAL,
        "scoring-champion-model-errors": CRITICAL,
        "scoring-champion-p95-latency": WARNING,
        "scoring-monitor-drift-tenure_months": WARNING,
        "scoring-monitor-drift-monthly_charges": WARNING,
    }
    assert set(alarms) == set(expected)
    for name, topic in expected.items():
        assert alarms[name]["alarmActions"] == alarms[name]["okActions"] == [topic], name
        assert alarms[name]["actionsEnabled"] is True, name


def test_the_routed_stack_passes_alert_routing_and_is_tagged(stack):
    from mlops_infra.policy.evaluate import evaluate_stack

    assert "alert-routing" not in {v.policy_id for v in evaluate_stack(stack)}
    assert required_tags_present(stack) == []


def test_an_endpoint_with_one_alarm_list_keeps_it_for_every_alarm():
    topic = "arn:aws:sns:us-east-1:123456789012:oncall"

    def program() -> None:
        Endpoint(
            "scoring",
            {
                "kms_key_arn": KEY,
                "variants": [
                    {
                        "name": "champion",
                        "model": {"image": IMAGE, "model_data_url": "s3://churn-models/champion/model.tar.gz"},
                        "instance_type": "ml.m5.large",
                        "initial_instance_count": 1,
                    }
                ],
                "alarms": {"alarm_actions": [topic]},
            },
        )

    stack = plan(program, environment="dev")
    assert all(a.inputs["alarmActions"] == a.inputs["okActions"] == [topic] for a in stack.by_type(ALARM))


def _refused(alerts: dict[str, object], environment: str = "prod", config: dict[str, object] | None = None) -> str:
    def program() -> None:
        pulumi.ComponentResource("test:index:Marker", "before")
        AlertRouting("alerts", {"kms_key_arn": KEY, "alerts": alerts})

    with pytest.raises(ProgramError) as error:
        plan(program, environment=environment, config=config)
    assert not [urn for urn in error.value.registered if "AlertRouting" in urn or ":aws:" in urn]
    return str(error.value)


def test_a_missing_pagerduty_key_is_named_before_anything_is_registered():
    message = _refused({"pagerduty": {"integration_key_secret": "oncallKey"}})
    assert "churn:oncallKey" in message
    assert "pulumi config set --secret oncallKey" in message


@pytest.mark.parametrize("missing", ["channel_id", "workspace_id"])
def test_slack_without_the_ids_chatbot_needs_is_refused_naming_the_field(missing):
    slack = {k: v for k, v in SLACK.items() if k != missing}
    assert f"alerts.slack.{missing}" in _refused({"slack": slack}, environment="dev")


def test_a_protected_environment_needs_a_receiver():
    message = _refused({})
    assert "alerts" in message and "protected environment" in message


def test_guardrails_are_read_only_aws_managed_policies():
    def program() -> None:
        SlackChatbot(
            "slack",
            {
                "channel_id": "C0ACMEML01",
                "workspace_id": "T0ACMEML01",
                "sns_topic_arns": [WARNING],
                "guardrails": ["AdministratorAccess"],
            },
        )

    with pytest.raises(ProgramError, match="guardrails"):
        plan(program, environment="dev")


def test_pagerduty_endpoint_must_be_https():
    def program() -> None:
        AlertTopic("alerts", {"pagerduty_endpoint": "http://events.example/integration/x/enqueue"})

    with pytest.raises(ProgramError, match="pagerduty_endpoint"):
        plan(program, environment="dev")
