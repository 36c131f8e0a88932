"""The stack budget: scoped to the stack's tags, alerts to an encrypted topic only Budgets can publish to."""

import pytest

from mlops_infra.aws.budget import Budget
from mlops_infra.engine import ProgramError
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
