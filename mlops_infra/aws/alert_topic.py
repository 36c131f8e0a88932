"""The platform's alert topic: where endpoint and drift alarms reach people (``alerts.emails``)."""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import Field

from mlops_infra.aws.account import account_id
from mlops_infra.aws.arns import KmsKeyArn
from mlops_infra.aws.platform_key import key_arn_or_shared
from mlops_infra.aws.sns_policy import service_publish_policy
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.spec.base import Spec
from mlops_infra.spec.types import Email

CLOUDWATCH_PRINCIPAL = "cloudwatch.amazonaws.com"


class AlertTopicArgs(Spec):
    """Who hears about alarms, and the key the topic is encrypted with."""

    emails: list[Email] = Field(default_factory=list, max_length=20, description="E-mail subscribers.")
    kms_key_arn: KmsKeyArn | None = Field(None, description="Key of the topic; default: the platform key.")


class AlertTopic(PlatformComponent[AlertTopicArgs]):
    """A KMS-encrypted SNS topic that only this account's CloudWatch alarms may publish to, over TLS.

    Subscriptions are named by a hash of the address, so reordering ``emails`` replaces nothing.
    """

    TYPE_TOKEN = "mlops-infra:aws:AlertTopic"
    ARGS = AlertTopicArgs

    def __init__(
        self, name: str, args: AlertTopicArgs | dict[str, Any] | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        account = account_id(pulumi.InvokeOutputOptions(parent=self))
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
            policy=service_publish_policy(
                self.topic.arn, service=CLOUDWATCH_PRINCIPAL, sid="CloudWatchAlarmsPublish", account=account
            ),
            opts=self.child_opts(),
        )
        for email in sorted(set(self.args.emails)):
            aws.sns.TopicSubscription(
                self.child_name(f"email-{hashlib.sha256(email.encode()).hexdigest()[:8]}"),
                topic=self.topic.arn,
                protocol="email",
                endpoint=email,
                opts=self.child_opts(),
            )
        self.topic_arn: pulumi.Output[str] = self.topic.arn
        self.register_outputs({"topicArn": self.topic_arn})
