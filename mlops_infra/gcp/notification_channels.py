"""Cloud Monitoring notification channels for the platform's alerts, by severity.

One ``gcp.monitoring.NotificationChannel`` per receiver of the spec's ``alerts`` section:

- ``pagerduty``: type ``pagerduty``; the integration (service) key is the stack's secret config value
  named by ``alerts.pagerduty.integration_key_secret``, sent in ``sensitive_labels.service_key`` (write-only
  at the API, a Pulumi secret in state);
- ``slack``: type ``slack``, label ``channel_name``; the Slack app's OAuth token is the secret config
  value named by ``alerts.slack.auth_token_secret``, in ``sensitive_labels.auth_token``;
- ``email``: type ``email``, one channel per address (named after the address: reordering replaces nothing).

Routing is :meth:`mlops_infra.spec.alerts.AlertsSpec.receivers`, the one rule on every cloud:
critical alerts go to PagerDuty (Slack when there is none) and e-mail, warnings to Slack and e-mail.
A missing secret config key is refused, naming the key, before anything is registered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_gcp as gcp
from pydantic import Field, ValidationError

from mlops_infra.component import PlatformComponent
from mlops_infra.spec.alerts import AlertsSpec, Receiver, Severity
from mlops_infra.spec.base import Spec, field_error

MAX_BUDGET_CHANNELS = 5
"""Cloud Billing budgets notify at most five Monitoring channels, all of them e-mail channels."""


def secret_keys(alerts: AlertsSpec) -> list[str]:
    """The secret config keys GCP reads for ``alerts``: the PagerDuty integration key and the Slack token."""
    keys: list[str] = []
    if alerts.pagerduty is not None:
        keys.append(alerts.pagerduty.integration_key_secret)
    if alerts.slack is not None:
        keys.append(alerts.slack.auth_token_secret)
    return keys


def missing_secret_keys(alerts: AlertsSpec, config: pulumi.Config | None = None) -> list[str]:
    """The keys of :func:`secret_keys` the stack does not set."""
    config = config or pulumi.Config()
    return [key for key in secret_keys(alerts) if config.get(key) is None]


def missing_secret_error(key: str) -> ValidationError:
    """The error of an unset secret config key, naming it as ``StackConfig.<project>:<key>``."""
    return field_error(
        "StackConfig",
        (f"{pulumi.get_project()}:{key}",),
        f"secret is not set: pulumi config set --secret {key} <value>",
    )


def check_secrets(alerts: AlertsSpec, config: pulumi.Config | None = None) -> None:
    """Raise :func:`missing_secret_error` for the first secret config key ``alerts`` names that is unset."""
    missing = missing_secret_keys(alerts, config)
    if missing:
        raise missing_secret_error(missing[0])


def email_slug(email: str) -> str:
    """The part of an e-mail channel's logical name taken from its address."""
    return re.sub(r"[^a-z0-9]+", "-", email.lower())


@dataclass
class SeverityChannels:
    """The channels created for each receiver, and which of them each severity notifies."""

    alerts: AlertsSpec
    by_receiver: dict[Receiver, list[gcp.monitoring.NotificationChannel]] = field(default_factory=dict)

    def channels(self, severity: Severity) -> list[gcp.monitoring.NotificationChannel]:
        return [c for receiver in self.alerts.receivers(severity) for c in self.by_receiver.get(receiver, [])]

    def names(self, severity: Severity) -> list[pulumi.Input[str]]:
        """Channel resource names (``projects/P/notificationChannels/ID``) an alert of ``severity`` notifies."""
        return [c.name for c in self.channels(severity)]

    def budget_names(self) -> list[pulumi.Input[str]]:
        """At most five e-mail channels: the only kind a Cloud Billing budget notifies (others: BudgetAlerts)."""
        names: list[pulumi.Input[str]] = [c.name for c in self.by_receiver.get("email", [])]
        return names[:MAX_BUDGET_CHANNELS]

    @property
    def all(self) -> list[gcp.monitoring.NotificationChannel]:
        return [c for channels in self.by_receiver.values() for c in channels]


def severity_channels(
    prefix: str,
    alerts: AlertsSpec,
    *,
    display_prefix: str,
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
    config: pulumi.Config | None = None,
) -> SeverityChannels:
    """Create the channels ``alerts`` names, as ``{prefix}-pagerduty``, ``{prefix}-slack`` and ``{prefix}-<address>``.

    Secrets are read with ``config.require_secret``; call :func:`check_secrets` before registering anything.
    """
    config = config or pulumi.Config()
    check_secrets(alerts, config)
    result = SeverityChannels(alerts)
    if alerts.pagerduty is not None:
        result.by_receiver["pagerduty"] = [
            gcp.monitoring.NotificationChannel(
                f"{prefix}-pagerduty",
                display_name=f"{display_prefix} critical: PagerDuty",
                description="Pages the on-call for critical alerts (Events API v2 integration).",
                type="pagerduty",
                sensitive_labels=gcp.monitoring.NotificationChannelSensitiveLabelsArgs(
                    service_key=config.require_secret(alerts.pagerduty.integration_key_secret)
                ),
                user_labels={**labels, "severity": "critical"},
                opts=opts,
            )
        ]
    if alerts.slack is not None:
        result.by_receiver["slack"] = [
            gcp.monitoring.NotificationChannel(
                f"{prefix}-slack",
                display_name=f"{display_prefix} warnings: Slack {alerts.slack.channel}",
                description="Posts warnings (and critical alerts when there is no PagerDuty) to Slack.",
                type="slack",
                labels={"channel_name": alerts.slack.channel},
                sensitive_labels=gcp.monitoring.NotificationChannelSensitiveLabelsArgs(
                    auth_token=config.require_secret(alerts.slack.auth_token_secret)
                ),
                user_labels={**labels, "severity": "warning" if alerts.pagerduty is not None else "all"},
                opts=opts,
            )
        ]
    if alerts.emails:
        result.by_receiver["email"] = [
            gcp.monitoring.NotificationChannel(
                f"{prefix}-{email_slug(email)}",
                display_name=f"{display_prefix}: {email}",
                type="email",
                labels={"email_address": email},
                user_labels=labels,
                opts=opts,
            )
            for email in alerts.emails
        ]
    return result


class AlertChannelsArgs(Spec):
    """Who hears the alerts, as the platform spec's ``alerts`` section (secrets named, never inline)."""

    alerts: AlertsSpec = Field(default_factory=AlertsSpec)
    required: bool = Field(
        False, description="Refuse an alerts section with no receiver (protected environments set it)."
    )


class AlertChannels(PlatformComponent[AlertChannelsArgs]):
    """The notification channels of one application, routed by severity (for programs without a PlatformSpec)."""

    TYPE_TOKEN = "mlops-infra:gcp:AlertChannels"
    ARGS = AlertChannelsArgs

    def __init__(
        self, name: str, args: AlertChannelsArgs | dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        checked = args if isinstance(args, AlertChannelsArgs) else AlertChannelsArgs.model_validate(args)
        if checked.required and not checked.alerts.has_receiver:
            raise field_error(
                "AlertChannelsArgs",
                ("alerts",),
                "a protected environment's alerts must reach a person (set alerts.emails, alerts.pagerduty or "
                "alerts.slack)",
            )
        check_secrets(checked.alerts)
        super().__init__(name, checked, opts)
        self.channels = severity_channels(
            self.child_name("channel"),
            self.args.alerts,
            display_prefix=f"{name} ({self.platform.environment})",
            labels=self.platform.gcp_labels,
            opts=self.child_opts(),
        )
        # A dict literal: the components package reads the registered output names from it.
        self.register_outputs({"critical": self.channels.names("critical"), "warning": self.channels.names("warning")})

    def names(self, severity: Severity) -> list[pulumi.Input[str]]:
        return self.channels.names(severity)
