"""Cost anomaly alerts (``mlops-infra:aws:CostAnomalyAlerts``): AWS Cost Anomaly Detection on the platform's spend.

A CUSTOM monitor watches the spend tagged with the platform's ``project`` and ``environment`` (the required
tags every resource carries; activate them as cost allocation tags in the Billing console once), so several
stacks in one account each watch their own spend (an account has only one dimensional SERVICE monitor). An
immediate subscription sends each anomaly whose total impact reaches ``threshold_usd`` to the platform's
warning alert topic, which routes it like every other warning (Slack, e-mail); the topic lets
``costalerts.amazonaws.com`` publish.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import Field

from mlops_infra.aws.arns import SnsTopicArn
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.spec.base import Spec as ComponentArgs

ANOMALY_NAME = naming.NameRule(1024, r"A-Za-z0-9 _.-")


class CostAnomalyAlertsArgs(ComponentArgs):
    """Where anomalies go and how large they must be."""

    topic_arn: SnsTopicArn = Field(description="SNS topic the anomalies are published to (the warning topic).")
    threshold_usd: float = Field(100, gt=0, le=10_000_000, description="Least total impact alerted, USD.")


class CostAnomalyAlerts(PlatformComponent[CostAnomalyAlertsArgs]):
    """A monitor of the platform's tagged spend and an immediate SNS subscription above the threshold."""

    TYPE_TOKEN = "mlops-infra:aws:CostAnomalyAlerts"
    ARGS = CostAnomalyAlertsArgs

    def __init__(
        self,
        name: str,
        args: CostAnomalyAlertsArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        tags = self.platform.tags
        self.monitor = aws.costexplorer.AnomalyMonitor(
            self.child_name("monitor"),
            name=self.platform.name(name, ANOMALY_NAME),
            monitor_type="CUSTOM",
            monitor_specification=json.dumps(self.specification(tags)),
            opts=self.child_opts(),
        )
        self.subscription = aws.costexplorer.AnomalySubscription(
            self.child_name("subscription"),
            name=self.platform.name(f"{name}-alerts", ANOMALY_NAME),
            frequency="IMMEDIATE",  # the only frequency SNS subscribers take
            monitor_arn_lists=[self.monitor.arn],
            subscribers=[aws.costexplorer.AnomalySubscriptionSubscriberArgs(type="SNS", address=a.topic_arn)],
            threshold_expression=aws.costexplorer.AnomalySubscriptionThresholdExpressionArgs(
                dimension=aws.costexplorer.AnomalySubscriptionThresholdExpressionDimensionArgs(
                    key="ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                    match_options=["GREATER_THAN_OR_EQUAL"],
                    values=[f"{a.threshold_usd:g}"],
                )
            ),
            opts=self.child_opts(),
        )
        self.monitor_arn: pulumi.Output[str] = self.monitor.arn
        self.register_outputs({"monitorArn": self.monitor_arn, "subscriptionArn": self.subscription.arn})

    @staticmethod
    def specification(tags: dict[str, str]) -> dict[str, Any]:
        """The Cost Explorer expression: spend tagged with this project and environment."""
        return {
            "And": [
                {"Tags": {"Key": key, "Values": [tags[key]], "MatchOptions": ["EQUALS"]}}
                for key in ("project", "environment")
            ]
        }
