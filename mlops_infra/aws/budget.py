"""A monthly cost budget for the stack, with alerts before the money is spent."""

from __future__ import annotations

from typing import Any, Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator

from mlops_infra.aws.account import account_id
from mlops_infra.aws.arns import KmsKeyArn
from mlops_infra.aws.global_names import global_name
from mlops_infra.aws.platform_key import key_arn_or_shared
from mlops_infra.aws.sns_policy import service_publish_policy
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.spec.base import Spec as ComponentArgs
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
            notifications=[
                {
                    "comparison_operator": "GREATER_THAN",
                    "notification_type": alert.kind,
                    "threshold": alert.threshold_percent,
                    "threshold_type": "PERCENTAGE",
                    "subscriber_sns_topic_arns": [self.topic.arn],
                }
                for alert in self.args.alerts
            ],
            opts=self.child_opts(),
        )
        self.monthly_limit_usd: float = self.args.monthly_limit_usd
        self.topic_arn: pulumi.Output[str] = self.topic.arn
        self.budget_name: pulumi.Output[str] = self.budget.name
        self.register_outputs(
            {"budgetName": self.budget_name, "topicArn": self.topic_arn, "monthlyLimitUsd": self.monthly_limit_usd}
        )
