"""A monthly cost budget for the stack, with alerts before the money is spent.

Without routing, every notification goes to the budget's own topic, which e-mails
``subscriber_emails``. With ``warning_topic_arn``/``critical_topic_arn`` (the platform's alert topics
by severity, :mod:`mlops_infra.aws.alert_routing`), spend crossing ``critical_at_percent`` of the
limit (actual or forecast) goes to the critical topic and pages, lower thresholds go to the warning
topic. AWS Budgets sends a notification to at most one SNS topic (and up to 10 e-mail addresses), so
a routed notification names the severity topic and, unless ``email_routed_alerts`` is off, e-mails
``subscriber_emails`` directly. A routed topic's policy must let ``budgets.amazonaws.com`` publish
(``AlertTopic`` ``publishers``).
"""

from __future__ import annotations

from typing import Any, Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator

from mlops_infra.aws.account import account_id
from mlops_infra.aws.arns import KmsKeyArn, SnsTopicArn
from mlops_infra.aws.global_names import global_name
from mlops_infra.aws.platform_key import key_arn_or_shared
from mlops_infra.aws.sns_policy import service_publish_policy
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.spec.alerts import Severity
from mlops_infra.spec.base import Spec as ComponentArgs
from mlops_infra.spec.base import StrInput
from mlops_infra.spec.types import Email


class BudgetAlert(ComponentArgs):
    """Notify when spend crosses ``threshold_percent`` of the limit (actual or forecasted)."""

    threshold_percent: float = Field(gt=0, le=1000, description="Percent of the monthly limit, e.g. 80.")
    kind: Literal["ACTUAL", "FORECASTED"] = "ACTUAL"


class BudgetArgs(ComponentArgs):
    """Settings of the stack's budget."""

    monthly_limit_usd: float = Field(gt=0, le=10_000_000, description="Monthly limit in US dollars.")
    alerts: list[BudgetAlert] = Field(
        default_factory=lambda: [
            BudgetAlert(threshold_percent=80, kind="ACTUAL"),
            BudgetAlert(threshold_percent=90, kind="ACTUAL"),
            BudgetAlert(threshold_percent=100, kind="ACTUAL"),
            BudgetAlert(threshold_percent=90, kind="FORECASTED"),
            BudgetAlert(threshold_percent=100, kind="FORECASTED"),
        ],
        min_length=1,
        max_length=5,
        description=(
            "AWS Budgets allows at most 5 notifications per budget; default: actual spend at 80/90/100 % and "
            "forecast at 90/100 %."
        ),
    )
    subscriber_emails: list[Email] = Field(default_factory=list, max_length=10)
    kms_key_arn: KmsKeyArn | None = Field(None, description="Key of the alerts topic; default: the platform key.")
    warning_topic_arn: SnsTopicArn | None = Field(
        None, description="Topic of alerts below critical_at_percent (the warning alert topic); default: own topic."
    )
    critical_topic_arn: SnsTopicArn | None = Field(
        None, description="Topic of alerts at or above critical_at_percent (the critical alert topic, pages)."
    )
    critical_at_percent: float = Field(
        100,
        gt=0,
        le=1000,
        description="Alerts at or above this percent of the limit (actual, forecast) are critical.",
    )
    email_routed_alerts: bool = Field(
        True,
        description="Budgets also e-mails subscriber_emails on alerts sent to a routed topic; turn off when the "
        "topics already e-mail the same people.",
    )

    def severity(self, alert: BudgetAlert) -> Severity:
        """critical at or above ``critical_at_percent`` of the limit, else warning."""
        return "critical" if alert.threshold_percent >= self.critical_at_percent else "warning"

    def routed_topic(self, alert: BudgetAlert) -> StrInput | None:
        """The severity topic ``alert`` goes to; None: the budget's own topic."""
        return self.critical_topic_arn if self.severity(alert) == "critical" else self.warning_topic_arn

    @field_validator("alerts")
    @classmethod
    def _unique_alerts(cls, alerts: list[BudgetAlert]) -> list[BudgetAlert]:
        keys = [(a.threshold_percent, a.kind) for a in alerts]
        if len(keys) != len(set(keys)):
            raise ValueError("each (threshold_percent, kind) pair may appear only once")
        return alerts


class Budget(PlatformComponent[BudgetArgs]):
    """An AWS Budget scoped to this stack's ``project`` and ``environment`` tags.

    Alerts go to a KMS-encrypted SNS topic that only AWS Budgets may publish to, and to
    optional email subscribers. Activate ``project`` and ``environment`` as cost-allocation
    tags in the billing console, or the tag filter matches nothing.
    """

    TYPE_TOKEN = "mlops-infra:aws:Budget"
    ARGS = BudgetArgs

    def __init__(
        self, name: str, args: BudgetArgs | dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        settings = self.platform.settings
        account = account_id(pulumi.InvokeOutputOptions(parent=self))
        self.topic = aws.sns.Topic(
            self.child_name("alerts"),
            name=self.platform.name(f"{name}-budget-alerts", naming.SNS_TOPIC),
            kms_master_key_id=key_arn_or_shared(self.args.kms_key_arn, requester=self),
            opts=self.child_opts(),
        )
        aws.sns.TopicPolicy(
            self.child_name("alerts-policy"),
            arn=self.topic.arn,
            policy=service_publish_policy(
                self.topic.arn, service="budgets.amazonaws.com", sid="AwsBudgetsPublish", account=account
            ),
            opts=self.child_opts(),
        )
        for index, email in enumerate(self.args.subscriber_emails):
            aws.sns.TopicSubscription(
                self.child_name(f"alerts-email-{index}"),
                topic=self.topic.arn,
                protocol="email",
                endpoint=str(email),
                opts=self.child_opts(),
            )
        self.budget = aws.budgets.Budget(
            self.child_name("budget"),
            name=global_name(self, name, naming.BUDGET),
            budget_type="COST",
            time_unit="MONTHLY",
            limit_amount=f"{self.args.monthly_limit_usd:.2f}",
            limit_unit="USD",
            filter_expression={
                "ands": [
                    {"tags": {"key": "project", "values": [settings.project]}},
                    {"tags": {"key": "environment", "values": [settings.environment.value]}},
                ]
            },
            metrics="UnblendedCost",
            notifications=[self._notification(alert) for alert in self.args.alerts],
            opts=self.child_opts(),
        )
        self.monthly_limit_usd: float = self.args.monthly_limit_usd
        self.topic_arn: pulumi.Output[str] = self.topic.arn
        self.budget_name: pulumi.Output[str] = self.budget.name
        self.register_outputs(
            {"budgetName": self.budget_name, "topicArn": self.topic_arn, "monthlyLimitUsd": self.monthly_limit_usd}
        )

    def _notification(self, alert: BudgetAlert) -> aws.budgets.BudgetNotificationArgs:
        """One notification: to its severity's topic when routed (one SNS topic each), else the own topic."""
        routed = self.args.routed_topic(alert)
        emails = self.args.email_routed_alerts and routed is not None and self.args.subscriber_emails
        return aws.budgets.BudgetNotificationArgs(
            comparison_operator="GREATER_THAN",
            notification_type=alert.kind,
            threshold=alert.threshold_percent,
            threshold_type="PERCENTAGE",
            subscriber_sns_topic_arns=[routed if routed is not None else self.topic.arn],
            subscriber_email_addresses=[str(email) for email in self.args.subscriber_emails] if emails else None,
        )
