"""Slack delivery of alert topics through AWS Chatbot (``mlops-infra:aws:SlackChatbot``).

AWS Chatbot posts every message of its SNS topics to one Slack channel. The Slack workspace must
be authorized once in the AWS Chatbot console (that gives ``workspace_id``); nothing here can do it.

Chatbot acts in the channel with its own IAM role. This one can only describe this platform's
alarms (``{project}-{env}-*``: what a notification shows), and the channel's guardrail policies
are AWS-managed read-only policies, so nobody can change the account from Slack, whatever the
role says.
"""

from __future__ import annotations

from typing import Any, Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator

from mlops_infra.aws.account import account_id, arn
from mlops_infra.aws.arns import SnsTopicArn
from mlops_infra.aws.global_names import global_name
from mlops_infra.aws.iam import assume_role_policy, policy_document, statement
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.conventions.naming import NameRule
from mlops_infra.spec.base import Spec

CHATBOT_PRINCIPAL = "chatbot.amazonaws.com"
CHATBOT_CONFIGURATION = NameRule(128, r"A-Za-z0-9_-")
# What Chatbot reads to render an alarm notification: the alarm and its history, on this platform's alarms only.
# (Metric chart images need cloudwatch:GetMetricWidgetImage, which AWS cannot scope to a resource: not granted.)
NOTIFICATION_READ_ACTIONS = ["cloudwatch:DescribeAlarmHistory", "cloudwatch:DescribeAlarms"]
# Guardrails cap what any channel member can do through Chatbot; only AWS-managed read-only policies.
# (ARN ``arn:PARTITION:iam::aws:policy/NAME`` in the provider's partition.)
Guardrail = Literal["CloudWatchReadOnlyAccess", "ReadOnlyAccess"]
DEFAULT_GUARDRAILS: tuple[Guardrail, ...] = ("CloudWatchReadOnlyAccess",)


class SlackChatbotArgs(Spec):
    """One Slack channel of an authorized workspace, and the alert topics it posts."""

    channel_id: str = Field(pattern=r"^[A-Z0-9]{9,12}$", description="Slack channel id (C0123ABCD).")
    workspace_id: str = Field(
        pattern=r"^[A-Z0-9]{9,12}$", description="Slack workspace (team) id, authorized in the Chatbot console."
    )
    sns_topic_arns: list[SnsTopicArn] = Field(min_length=1, max_length=10, description="Topics posted to the channel.")
    guardrails: list[Guardrail] = Field(
        default_factory=lambda: list(DEFAULT_GUARDRAILS),
        min_length=1,
        max_length=2,
        description="AWS-managed read-only policies that cap what channel members can do.",
    )
    logging_level: Literal["ERROR", "INFO", "NONE"] = Field("ERROR", description="Chatbot's CloudWatch Logs level.")

    @field_validator("guardrails")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"guardrails lists a policy twice: {value}")
        return value


class SlackChatbot(PlatformComponent[SlackChatbotArgs]):
    """An AWS Chatbot Slack channel configuration subscribed to alert topics, with a read-only role.

    Outputs: ``configuration_arn``, ``role_arn``.
    """

    TYPE_TOKEN = "mlops-infra:aws:SlackChatbot"
    ARGS = SlackChatbotArgs

    def __init__(
        self, name: str, args: SlackChatbotArgs | dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        settings = self.args
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = account_id(invoke)
        prefix = f"{self.platform.settings.project}-{self.platform.environment}"
        alarms = arn("cloudwatch", f"alarm:{prefix}-*", invoke)
        self.role = aws.iam.Role(
            self.child_name("role"),
            name=global_name(self, f"{name}-chatbot", naming.IAM_ROLE),
            description=f"AWS Chatbot reads CloudWatch to post alarms to Slack ({name})",
            assume_role_policy=assume_role_policy(CHATBOT_PRINCIPAL, account),
            opts=self.child_opts(),
        )
        self.role_policy = aws.iam.RolePolicy(
            self.child_name("role-policy"),
            role=self.role.id,
            policy=policy_document([statement(NOTIFICATION_READ_ACTIONS, [alarms], sid="ReadPlatformAlarms")]),
            opts=self.child_opts(),
        )
        self.configuration = aws.chatbot.SlackChannelConfiguration(
            self.child_name("channel"),
            configuration_name=self.platform.name(name, CHATBOT_CONFIGURATION),
            iam_role_arn=self.role.arn,
            slack_channel_id=settings.channel_id,
            slack_team_id=settings.workspace_id,
            sns_topic_arns=list(settings.sns_topic_arns),
            guardrail_policy_arns=[
                arn("iam", f"policy/{g}", invoke, region="", account="aws") for g in settings.guardrails
            ],
            logging_level=settings.logging_level,
            # Every member acts as themselves (their own IAM permissions, within the guardrails), not as the role.
            user_authorization_required=True,
            opts=self.child_opts(depends_on=[self.role_policy]),
        )
        self.configuration_arn: pulumi.Output[str] = self.configuration.chat_configuration_arn
        self.role_arn: pulumi.Output[str] = self.role.arn
        self.register_outputs({"configurationArn": self.configuration_arn, "roleArn": self.role_arn})
