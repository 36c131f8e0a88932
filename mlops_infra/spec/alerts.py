"""Alert thresholds of a serving endpoint, and who the platform's alerts reach, by severity.

Every alert the platform creates has one of two severities (the one vocabulary on every cloud):

- ``critical``: a person must act now (endpoint error rate, a budget at 100 %, a failed canary
  rollback). Routed to PagerDuty when configured, and to e-mail.
- ``warning``: look today (latency, drift, budget forecasts at 80/90 %, a failed retraining run).
  Routed to Slack when configured, and to e-mail.

Secrets (the PagerDuty integration key, Slack tokens and webhook URLs) are never in the spec: it
names the stack's secret config key that holds each one (``pulumi config set --secret KEY ...``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from mlops_infra.spec.base import Spec
from mlops_infra.spec.types import Email, PositivePercent

Severity = Literal["critical", "warning"]
SEVERITIES: tuple[Severity, ...] = ("critical", "warning")
Receiver = Literal["pagerduty", "slack", "email"]
CONFIG_KEY = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"
"""A Pulumi config key (without the project namespace) naming a secret value."""


class Alerts(Spec):
    """Endpoint alarms: error rate as a percent of requests, p95 latency in milliseconds."""

    error_rate_percent: PositivePercent = Field(1.0, description="Server errors as a percent of requests (0-100].")
    p95_latency_ms: float = Field(500, gt=0, le=600_000, description="95th-percentile latency ceiling, ms.")
    period_seconds: int = Field(60, ge=60, le=86400, description="Metric period, seconds (a multiple of 60).")
    evaluation_periods: int = Field(3, ge=1, le=1440, description="Periods looked at for each evaluation.")
    datapoints_to_alarm: int = Field(2, ge=1, le=1440, description="Breaching periods (of evaluation_periods).")

    @model_validator(mode="after")
    def _consistent(self) -> Alerts:
        if self.period_seconds % 60:
            raise ValueError(f"period_seconds ({self.period_seconds}) must be a multiple of 60")
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError(
                f"datapoints_to_alarm ({self.datapoints_to_alarm}) exceeds "
                f"evaluation_periods ({self.evaluation_periods})"
            )
        return self


class PagerDuty(Spec):
    """Critical alerts page the on-call through a PagerDuty service (Events API v2 integration)."""

    integration_key_secret: str = Field(
        "pagerdutyIntegrationKey",
        pattern=CONFIG_KEY,
        description="Secret stack config key holding the service's integration (routing) key.",
    )


class Slack(Spec):
    """Warnings go to one Slack channel.

    AWS delivers through AWS Chatbot (the workspace must be authorized in the Chatbot console once,
    which gives ``workspace_id``); GCP through a Cloud Monitoring Slack channel (an OAuth token);
    Kubernetes through Alertmanager (an incoming-webhook URL). Each cloud reads only what it needs.
    """

    channel: str = Field(pattern=r"^#[a-z0-9][a-z0-9._-]{0,79}$", description="Channel name, e.g. #ml-alerts.")
    channel_id: str | None = Field(
        None, pattern=r"^[A-Z0-9]{9,12}$", description="Slack channel id (C0123ABCD); AWS Chatbot needs it."
    )
    workspace_id: str | None = Field(
        None, pattern=r"^[A-Z0-9]{9,12}$", description="Slack workspace (team) id (T0123ABCD); AWS Chatbot needs it."
    )
    auth_token_secret: str = Field(
        "slackAuthToken", pattern=CONFIG_KEY, description="Secret config key: the Slack app token GCP uses."
    )
    webhook_url_secret: str = Field(
        "slackWebhookUrl",
        pattern=CONFIG_KEY,
        description="Secret config key: the incoming-webhook URL Alertmanager uses.",
    )


class AlertsSpec(Spec):
    """Where the platform's alerts go, by severity: critical to PagerDuty, warning to Slack, both to e-mail.

    Each receiver is optional; a protected environment needs at least one (checked when the
    platform is realized, and by the ``alert-routing`` policy on the graph).
    """

    emails: list[Email] = Field(
        default_factory=list, max_length=20, description="People or lists notified of every alert (both severities)."
    )
    pagerduty: PagerDuty | None = Field(None, description="Critical alerts page the on-call.")
    slack: Slack | None = Field(None, description="Warnings (and, with no PagerDuty, critical alerts) go to Slack.")

    @model_validator(mode="after")
    def _unique(self) -> AlertsSpec:
        if len(set(self.emails)) != len(self.emails):
            raise ValueError("emails lists an address twice")
        return self

    @property
    def has_receiver(self) -> bool:
        return bool(self.emails or self.pagerduty or self.slack)

    def receivers(self, severity: Severity) -> tuple[Receiver, ...]:
        """Who gets an alert of ``severity``: PagerDuty for critical, Slack for warning (and for critical when
        there is no PagerDuty, so a critical alert never reaches fewer people than a warning), e-mail for both."""
        found: list[Receiver] = []
        if severity == "critical" and self.pagerduty is not None:
            found.append("pagerduty")
        if self.slack is not None and (severity == "warning" or self.pagerduty is None):
            found.append("slack")
        if self.emails:
            found.append("email")
        return tuple(found)
