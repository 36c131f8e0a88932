"""The stack budget: scoped to the stack's tags, alerts to an encrypted topic only Budgets can publish to."""

from pathlib import Path

import pytest

from mlops_infra.aws.budget import Budget
from mlops_infra.engine import ProgramError, run_program
from mlops_infra.testing import iam_statements, one, plan, required_tags_present


def make(**overrides):
    return lambda: Budget("platform", {"monthly_limit_usd": 2500, **overrides})


def test_budget_limit_filter_and_alerts():
    stack = plan(make(subscriber_emails=["ml-oncall@example.com"]), environment="prod")
    budget = one(stack, "aws:budgets/budget:Budget")
    topic = one(stack, "aws:sns/topic:Topic")
    assert budget.inputs["limitAmount"] == "2500.00" and budget.inputs["limitUnit"] == "USD"
    assert budget.inputs["timeUnit"] == "MONTHLY" and budget.inputs["budgetType"] == "COST"
    assert budget.inputs["filterExpression"] == {
        "ands": [
            {"tags": {"key": "project", "values": ["churn"]}},
            {"tags": {"key": "environment", "values": ["prod"]}},
        ]
    }
    notifications = budget.inputs["notifications"]
    assert [(n["notificationType"], n["threshold"]) for n in notifications] == [
        ("ACTUAL", 80),
        ("ACTUAL", 90),
        ("ACTUAL", 100),
        ("FORECASTED", 90),
        ("FORECASTED", 100),
    ]
    assert all(
        n["subscriberSnsTopicArns"] == ["arn:aws:sns:us-east-1:123456789012:churn-prod-platform-budget-alerts"]
        for n in notifications
    )
    assert topic.inputs["kmsMasterKeyId"].startswith("arn:aws:kms:")
    subscription = one(stack, "aws:sns/topicSubscription:TopicSubscription")
    assert (subscription.inputs["protocol"], subscription.inputs["endpoint"]) == ("email", "ml-oncall@example.com")
    component = one(stack, "mlops-infra:aws:Budget")
    assert budget.parent == component.urn and topic.parent == component.urn
    assert required_tags_present(stack) == []


def test_only_aws_budgets_may_publish_and_only_over_tls():
    stack = plan(make())
    statements = {s["Sid"]: s for s in iam_statements(one(stack, "aws:sns/topicPolicy:TopicPolicy"))}
    assert statements["AwsBudgetsPublish"]["Principal"] == {"Service": "budgets.amazonaws.com"}
    assert statements["AwsBudgetsPublish"]["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
    assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"monthly_limit_usd": 0}, "monthly_limit_usd"),
        ({"subscriber_emails": ["not-an-email"]}, "subscriber_emails.0"),
        ({"alerts": []}, "alerts"),
        ({"alerts": [{"threshold_percent": 80}, {"threshold_percent": 80}]}, "alerts"),
    ],
)
def test_invalid_budgets_name_the_field_and_register_nothing(overrides, field):
    with pytest.raises(ProgramError, match=f"{field}: ") as caught:
        plan(make(**overrides))
    assert caught.value.registered == []


WARNING = "arn:aws:sns:us-east-1:123456789012:churn-prod-alerts"
CRITICAL = "arn:aws:sns:us-east-1:123456789012:churn-prod-alerts-critical"


def _routing(stack):
    budget = one(stack, "aws:budgets/budget:Budget")
    return {
        (n["notificationType"], n["threshold"]): (n["subscriberSnsTopicArns"], n.get("subscriberEmailAddresses"))
        for n in budget.inputs["notifications"]
    }


def test_alerts_below_100_percent_warn_and_at_100_percent_page():
    emails = ["ml-oncall@example.com"]
    stack = plan(
        make(subscriber_emails=emails, warning_topic_arn=WARNING, critical_topic_arn=CRITICAL), environment="prod"
    )
    # One SNS topic per notification (an AWS Budgets limit): the severity's; the e-mail subscribers still hear.
    assert _routing(stack) == {
        ("ACTUAL", 80): ([WARNING], emails),
        ("ACTUAL", 90): ([WARNING], emails),
        ("FORECASTED", 90): ([WARNING], emails),
        ("ACTUAL", 100): ([CRITICAL], emails),
        ("FORECASTED", 100): ([CRITICAL], emails),
    }


def test_routed_alerts_are_not_e_mailed_twice_when_the_topics_e_mail_them():
    stack = plan(
        make(
            subscriber_emails=["ml-oncall@example.com"],
            warning_topic_arn=WARNING,
            critical_topic_arn=CRITICAL,
            email_routed_alerts=False,
            critical_at_percent=90,
        ),
        environment="prod",
    )
    routing = _routing(stack)
    assert routing[("ACTUAL", 80)] == ([WARNING], None)
    assert all(topics == [CRITICAL] and emails is None for (_, t), (topics, emails) in routing.items() if t >= 90)


def test_only_emails_keeps_the_own_topic_for_every_alert():
    own = "arn:aws:sns:us-east-1:123456789012:churn-prod-platform-budget-alerts"
    stack = plan(make(subscriber_emails=["ml-oncall@example.com"]), environment="prod")
    assert all(topics == [own] and emails is None for topics, emails in _routing(stack).values())


def test_a_missing_severity_topic_falls_back_to_the_own_topic():
    own = "arn:aws:sns:us-east-1:123456789012:churn-prod-platform-budget-alerts"
    routing = _routing(plan(make(critical_topic_arn=CRITICAL), environment="prod"))
    assert routing[("ACTUAL", 80)] == ([own], None) and routing[("ACTUAL", 100)] == ([CRITICAL], None)


def test_the_platform_budget_routes_to_its_severity_topics_which_budgets_may_publish_to():
    stack = run_program(Path(__file__).resolve().parents[2] / "stacks" / "platform", "aws-prod")
    topics = {
        t.name: f"arn:aws:sns:us-east-1:123456789012:{t.inputs['name']}" for t in stack.by_type("aws:sns/topic:Topic")
    }
    budget = one(stack, "aws:budgets/budget:Budget")
    for notification in budget.inputs["notifications"]:
        topic = "aws-alerts-critical-topic" if notification["threshold"] >= 100 else "aws-alerts-topic"
        assert notification["subscriberSnsTopicArns"] == [topics[topic]], notification
        # The warning and critical topics e-mail alerts.emails already.
        assert not notification.get("subscriberEmailAddresses")
    for name in ("aws-alerts-policy", "aws-alerts-critical-policy"):
        policy = next(p for p in stack.by_type("aws:sns/topicPolicy:TopicPolicy") if p.name == name)
        statements = {s["Sid"]: s for s in iam_statements(policy)}
        assert statements["BudgetsPublish"]["Principal"] == {"Service": "budgets.amazonaws.com"}
        assert statements["BudgetsPublish"]["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
