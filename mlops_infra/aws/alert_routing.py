"""Alerts by severity on AWS: one alert topic per severity, PagerDuty on critical, Slack through AWS Chatbot.

The platform spec's ``alerts`` section (:class:`~mlops_infra.spec.AlertsSpec`) decides who hears
what (``AlertsSpec.receivers``): critical alerts page PagerDuty (or go to Slack when there is no
PagerDuty), warnings go to Slack, and both are e-mailed. On AWS that is:

- ``critical`` and ``warning`` :class:`~mlops_infra.aws.alert_topic.AlertTopic` s (KMS, TLS only,
  publishable by this account's CloudWatch alarms and EventBridge rules), each with the e-mail
  subscriptions; the critical one with an HTTPS subscription to PagerDuty's Events API v2
  CloudWatch integration, whose URL embeds the integration key read from the stack's secret config
  (``pulumi config set --secret pagerdutyIntegrationKey ...``) and stays a secret Output;
- a :class:`~mlops_infra.aws.chatbot.SlackChatbot` subscribed to the topics Slack receives.

Every CloudWatch alarm then takes the topic ARN of its severity as both alarm and OK action
(:class:`SeverityActions`). Missing secret config and a Slack section without the ids Chatbot
needs are refused before anything is registered (:func:`check_alerts`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pydantic import Field, ValidationError

from mlops_infra.aws.alert_topic import (
    BUDGETS_PRINCIPAL,
    CLOUDWATCH_PRINCIPAL,
    COST_ANOMALY_PRINCIPAL,
    EVENTBRIDGE_PRINCIPAL,
    AlertTopic,
    AlertTopicArgs,
    Publisher,
)
from mlops_infra.aws.arns import KmsKeyArn
from mlops_infra.aws.chatbot import SlackChatbot, SlackChatbotArgs
from mlops_infra.aws.platform_key import key_arn_or_shared
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions.context import current_platform
from mlops_infra.spec.alerts import SEVERITIES, AlertsSpec, Severity
from mlops_infra.spec.base import Spec, StrInput, field_error

# PagerDuty's Events API v2 endpoint for its Amazon CloudWatch integration: the key is part of the path.
PAGERDUTY_CLOUDWATCH_URL = "https://events.pagerduty.com/integration/{key}/enqueue"
# CloudWatch alarms, EventBridge rules (failed runs, rollbacks) and the platform budget publish to the topics.
PUBLISHERS: list[Publisher] = [CLOUDWATCH_PRINCIPAL, EVENTBRIDGE_PRINCIPAL, BUDGETS_PRINCIPAL, COST_ANOMALY_PRINCIPAL]


def pagerduty_endpoint(integration_key: pulumi.Input[str]) -> pulumi.Output[str]:
    """The HTTPS subscription endpoint of a PagerDuty CloudWatch integration; secret, like the key in it."""
    return pulumi.Output.secret(
        pulumi.Output.from_input(integration_key).apply(lambda key: PAGERDUTY_CLOUDWATCH_URL.format(key=key))
    )


@dataclass(frozen=True)
class SeverityActions:
    """The SNS topic ARNs each severity's alarms notify (as alarm and as OK actions)."""

    critical: list[StrInput] = field(default_factory=list)
    warning: list[StrInput] = field(default_factory=list)

    def __call__(self, severity: Severity) -> list[StrInput]:
        return list(self.critical if severity == "critical" else self.warning)

    def __bool__(self) -> bool:
        return bool(self.critical or self.warning)


def missing_secret_keys(alerts: AlertsSpec) -> list[str]:
    """The secret config keys ``alerts`` names that AWS reads (the PagerDuty key) and the stack does not set."""
    keys = [alerts.pagerduty.integration_key_secret] if alerts.pagerduty is not None else []
    config = pulumi.Config()
    return [key for key in keys if config.get(key) is None]


def check_alerts(
    alerts: AlertsSpec,
    *,
    required: bool,
    environment: str,
    model: type[Any] | str = "AlertsSpec",
    location: tuple[str | int, ...] = (),
) -> None:
    """Refuse, naming the field or the stack config key, what AWS cannot route; registers nothing.

    ``required`` (a protected environment): at least one receiver. Slack needs the channel and
    workspace ids AWS Chatbot addresses. A named secret key must be set in the stack's config.
    """
    if required and not alerts.has_receiver:
        raise field_error(
            model,
            location or ("alerts",),
            f"{environment} is a protected environment: its alerts must reach a person "
            "(set alerts.emails, alerts.pagerduty or alerts.slack)",
        )
    if alerts.slack is not None:
        for id_field in ("channel_id", "workspace_id"):
            if getattr(alerts.slack, id_field) is None:
                raise field_error(
                    model,
                    (*location, "slack", id_field) if location else ("alerts", "slack", id_field),
                    f"AWS Chatbot posts to Slack by ids: set alerts.slack.{id_field} (the workspace must be "
                    "authorized in the AWS Chatbot console once)",
                )
    missing = missing_secret_keys(alerts)
    if missing:
        raise missing_secret_error(missing[0])


def missing_secret_error(key: str) -> ValidationError:
    """The error of an unset secret config key, naming it as ``StackConfig.<project>:<key>``."""
    return field_error(
        "StackConfig",
        (f"{pulumi.get_project()}:{key}",),
        f"secret is not set: pulumi config set --secret {key} <value>",
    )


@dataclass
class RoutedAlerts:
    """What :func:`create_alert_routing` registered."""

    topics: dict[Severity, AlertTopic]
    slack: SlackChatbot | None
    actions: SeverityActions


def create_alert_routing(
    alerts: AlertsSpec,
    *,
    topic_names: dict[Severity, str],
    slack_name: str,
    kms_key_arn: pulumi.Input[str],
    opts: Callable[[], pulumi.ResourceOptions],
    event_rule_arns: Mapping[Severity, Sequence[pulumi.Input[str]]] | None = None,
) -> RoutedAlerts:
    """The per-severity topics and the Slack channel; call :func:`check_alerts` first.

    Components are named by the caller (``topic_names``, ``slack_name``) so an existing topic keeps its URN.
    """
    config = pulumi.Config()
    topics: dict[Severity, AlertTopic] = {}
    for severity in SEVERITIES:
        receivers = alerts.receivers(severity)
        endpoint = (
            pagerduty_endpoint(config.require_secret(alerts.pagerduty.integration_key_secret))
            if "pagerduty" in receivers and alerts.pagerduty is not None
            else None
        )
        topics[severity] = AlertTopic(
            topic_names[severity],
            AlertTopicArgs(
                emails=list(alerts.emails),
                severity=severity,
                pagerduty_endpoint=endpoint,
                publishers=list(PUBLISHERS),
                kms_key_arn=kms_key_arn,
                event_rule_arns=list((event_rule_arns or {}).get(severity, ())),
            ),
            opts=opts(),
        )
    slack: SlackChatbot | None = None
    if alerts.slack is not None and alerts.slack.channel_id and alerts.slack.workspace_id:
        slack = SlackChatbot(
            slack_name,
            SlackChatbotArgs(
                channel_id=alerts.slack.channel_id,
                workspace_id=alerts.slack.workspace_id,
                sns_topic_arns=[topics[s].topic_arn for s in SEVERITIES if "slack" in alerts.receivers(s)],
            ),
            opts=opts(),
        )
    actions = SeverityActions(critical=[topics["critical"].topic_arn], warning=[topics["warning"].topic_arn])
    return RoutedAlerts(topics=topics, slack=slack, actions=actions)


class AlertRoutingArgs(Spec):
    """The platform spec's alerts section, and the key the topics are encrypted with."""

    alerts: AlertsSpec = Field(default_factory=AlertsSpec, description="Who hears what, by severity.")
    required: bool = Field(False, description="Refuse an alerts section with no receiver (protected environments).")
    kms_key_arn: KmsKeyArn | None = Field(None, description="Key of the topics; default: the platform key.")


class AlertRouting(PlatformComponent[AlertRoutingArgs]):
    """Alert topics per severity with their receivers, for programs that compose components directly.

    Children: ``{name}-critical`` and ``{name}-warning`` AlertTopics and, with Slack, ``{name}-slack``.
    ``actions(severity)`` gives the topic ARNs an alarm of that severity notifies.
    """

    TYPE_TOKEN = "mlops-infra:aws:AlertRouting"
    ARGS = AlertRoutingArgs

    def __init__(
        self, name: str, args: AlertRoutingArgs | dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        checked = args if isinstance(args, AlertRoutingArgs) else AlertRoutingArgs.model_validate(args)
        # Before anything registers: a missing receiver, Slack id or secret key is a config error.
        check_alerts(
            checked.alerts,
            required=checked.required or current_platform().protected,
            environment=current_platform().environment,
            model="AlertRoutingArgs",
            location=("alerts",),
        )
        super().__init__(name, checked, opts)
        routed = create_alert_routing(
            self.args.alerts,
            topic_names={s: self.child_name(s) for s in SEVERITIES},
            slack_name=self.child_name("slack"),
            kms_key_arn=key_arn_or_shared(self.args.kms_key_arn, requester=self),
            opts=self.child_opts,
        )
        self.topics = routed.topics
        self.slack = routed.slack
        self.actions = routed.actions
        self.topic_arns: dict[str, pulumi.Output[str]] = {s: t.topic_arn for s, t in routed.topics.items()}
        self.register_outputs({"topicArns": self.topic_arns})
