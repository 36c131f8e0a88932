"""An alert topic of one severity: where alarms reach people (e-mail, PagerDuty, Slack through AWS Chatbot).

The platform has one topic per severity (see :mod:`mlops_infra.aws.alert_routing`): ``critical``
pages the on-call through a PagerDuty HTTPS subscription, ``warning`` goes to Slack, both are
e-mailed. Every topic is encrypted with the platform key, takes only TLS publishes, and only the
AWS services named in ``publishers`` may publish to it, for this account only (``aws:SourceAccount``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Final, Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator

from mlops_infra.aws.account import account_id
from mlops_infra.aws.arns import KmsKeyArn
from mlops_infra.aws.platform_key import key_arn_or_shared
from mlops_infra.aws.sns_policy import publish_statement, topic_policy
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.spec.alerts import Severity
from mlops_infra.spec.base import Spec, StrInput
from mlops_infra.spec.types import Email

CLOUDWATCH_PRINCIPAL: Final = "cloudwatch.amazonaws.com"
EVENTBRIDGE_PRINCIPAL: Final = "events.amazonaws.com"
BUDGETS_PRINCIPAL: Final = "budgets.amazonaws.com"
COST_ANOMALY_PRINCIPAL: Final = "costalerts.amazonaws.com"
Publisher = Literal[
    "cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com", "costalerts.amazonaws.com"
]
# Statement ids of each publishing service (the CloudWatch one predates the others and keeps its id).
PUBLISHER_SIDS: dict[str, str] = {
    CLOUDWATCH_PRINCIPAL: "CloudWatchAlarmsPublish",
    EVENTBRIDGE_PRINCIPAL: "EventBridgeRulesPublish",
    BUDGETS_PRINCIPAL: "BudgetsPublish",
    COST_ANOMALY_PRINCIPAL: "CostAnomalyDetectionPublish",
}
DEFAULT_PUBLISHERS: tuple[Publisher, ...] = (CLOUDWATCH_PRINCIPAL,)
PAGERDUTY_SUBSCRIPTION = "pagerduty"


def publish_policy(
    topic_arn: pulumi.Input[str],
    publishers: list[str],
    account: pulumi.Input[str],
    event_rule_arns: Sequence[pulumi.Input[str]] = (),
) -> pulumi.Output[str]:
    """Each of ``publishers`` may publish for ``account`` only (EventBridge: from ``event_rule_arns`` if given)."""
    allow = [
        publish_statement(
            topic_arn,
            service=service,
            sid=PUBLISHER_SIDS[service],
            account=account,
            source_arns=event_rule_arns if service == EVENTBRIDGE_PRINCIPAL else (),
        )
        for service in publishers
    ]
    return topic_policy(topic_arn, allow)


class AlertTopicArgs(Spec):
    """Who hears about alarms of one severity, who may publish, and the key the topic is encrypted with."""

    emails: list[Email] = Field(default_factory=list, max_length=20, description="E-mail subscribers.")
    severity: Severity | None = Field(None, description="critical or warning; None: a topic for every alarm.")
    pagerduty_endpoint: StrInput | None = Field(
        None,
        description="PagerDuty Events API v2 CloudWatch integration URL (a secret Output; see alert_routing).",
    )
    publishers: list[Publisher] = Field(
        default_factory=lambda: list(DEFAULT_PUBLISHERS),
        min_length=1,
        max_length=4,
        description="AWS services that may publish (CloudWatch alarms, EventBridge rules, Budgets, Cost Anomaly "
        "Detection).",
    )
    kms_key_arn: KmsKeyArn | None = Field(None, description="Key of the topic; default: the platform key.")
    event_rule_arns: list[StrInput] = Field(
        default_factory=list,
        description="EventBridge rules that may publish (aws:SourceArn); empty: any rule of this account.",
    )

    @field_validator("publishers")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"publishers lists a service twice: {value}")
        return value

    @field_validator("pagerduty_endpoint")
    @classmethod
    def _https(cls, value: StrInput | None) -> StrInput | None:
        if isinstance(value, str) and not value.startswith("https://"):
            raise ValueError("the PagerDuty endpoint is an https:// URL")
        return value


class AlertTopic(PlatformComponent[AlertTopicArgs]):
    """A KMS-encrypted SNS topic that only this account's named services may publish to, over TLS.

    Subscriptions: one per e-mail address (named by a hash of the address, so reordering ``emails``
    replaces nothing) and, with ``pagerduty_endpoint``, an HTTPS subscription PagerDuty confirms
    itself. The endpoint is secret: it embeds the integration key.
    """

    TYPE_TOKEN = "mlops-infra:aws:AlertTopic"
    ARGS = AlertTopicArgs

    def __init__(
        self, name: str, args: AlertTopicArgs | dict[str, Any] | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        account = account_id(pulumi.InvokeOutputOptions(parent=self))
        self.severity: Severity | None = self.args.severity
        self.topic = aws.sns.Topic(
            self.child_name("topic"),
            name=self.platform.name(name, naming.SNS_TOPIC),
            kms_master_key_id=key_arn_or_shared(self.args.kms_key_arn, requester=self),
            signature_version=2,
            opts=self.child_opts(),
        )
        aws.sns.TopicPolicy(
            self.child_name("policy"),
            arn=self.topic.arn,
            policy=publish_policy(
                self.topic.arn, list(self.args.publishers), account, event_rule_arns=self.args.event_rule_arns
            ),
            opts=self.child_opts(),
        )
        self.subscriptions: list[aws.sns.TopicSubscription] = [
            aws.sns.TopicSubscription(
                self.child_name(f"email-{hashlib.sha256(email.encode()).hexdigest()[:8]}"),
                topic=self.topic.arn,
                protocol="email",
                endpoint=email,
                opts=self.child_opts(),
            )
            for email in sorted(set(self.args.emails))
        ]
        if self.args.pagerduty_endpoint is not None:
            self.subscriptions.append(
                aws.sns.TopicSubscription(
                    self.child_name(PAGERDUTY_SUBSCRIPTION),
                    topic=self.topic.arn,
                    protocol="https",
                    endpoint=pulumi.Output.secret(self.args.pagerduty_endpoint),
                    # PagerDuty confirms the subscription itself; the envelope (not the raw message) is what it parses.
                    endpoint_auto_confirms=True,
                    raw_message_delivery=False,
                    opts=self.child_opts(additional_secret_outputs=["endpoint"]),
                )
            )
        self.topic_arn: pulumi.Output[str] = self.topic.arn
        self.register_outputs({"topicArn": self.topic_arn})
