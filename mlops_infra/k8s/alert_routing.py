"""Who hears the namespace's alerts, by severity: an AlertmanagerConfig and the Secret its receivers read.

prometheus-operator (``monitoring.coreos.com/v1alpha1``) merges the AlertmanagerConfig into the
Alertmanager selected by ``selector_labels``. The root route matches ``namespace=<namespace>``
(the operator adds the same matcher itself with its default ``OnNamespace`` strategy; writing it
keeps the route right under any strategy): Monitoring's rules carry that label when
``alert_namespace_label`` is on, QuotaAlerts' and SpendBudget's always do.

Receivers (each optional, at least one required), routed by the alert's ``severity`` label with
the platform's one rule (:meth:`mlops_infra.spec.alerts.AlertsSpec.receivers`):

- ``pagerduty``: ``pagerdutyConfigs[].routingKey`` (Events API v2) for ``severity="critical"``;
- ``slack``: ``slackConfigs[].apiURL`` (an incoming webhook) and ``channel`` for
  ``severity="warning"`` (and for critical when there is no PagerDuty);
- ``email``: ``emailConfigs[]`` for both severities.

One child route per (severity, receiver), each with ``continue: true`` so an alert reaches every
receiver of its severity. The root route's receiver catches an alert with any other severity (a
warning receiver first): nothing matched by the namespace is dropped.

Secrets: the PagerDuty routing key and the Slack webhook URL are given as Pulumi secrets (read
from the stack's secret config by the caller, :func:`receiver_secrets`), stored in one Opaque
Secret next to the config, and referenced as ``SecretKeySelector``s: never inlined in the
AlertmanagerConfig. The SMTP relay (``smtp_smarthost``, ``smtp_from``) is Alertmanager's global
setting, owned by the cluster.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, ValidationError, ValidationInfo, field_validator

from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.k8s import labels as lbl
from mlops_infra.k8s import objects
from mlops_infra.k8s.secrets import opaque_secret
from mlops_infra.spec.alerts import SEVERITIES, AlertsSpec, PagerDuty, Receiver, Severity, Slack
from mlops_infra.spec.base import Spec, StrInput, Switch, field_error
from mlops_infra.spec.types import Email

ALERTMANAGER_CONFIG_API = "monitoring.coreos.com/v1alpha1"
DURATION = r"^(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?$"
RECEIVER = "email"
PAGERDUTY_KEY = "pagerduty-routing-key"
SLACK_KEY = "slack-webhook-url"
SEVERITY_LABEL = "severity"


class PagerDutyReceiver(Spec):
    """Critical alerts page through a PagerDuty service's Events API v2 integration."""

    routing_key: StrInput = Field(description="The integration (routing) key: a Pulumi secret, never a literal.")


class SlackReceiver(Spec):
    """Warnings go to a Slack channel through an incoming webhook."""

    channel: str = Field(pattern=r"^#[a-z0-9][a-z0-9._-]{0,79}$", description="Channel name, e.g. #ml-alerts.")
    webhook_url: StrInput = Field(description="The incoming-webhook URL: a Pulumi secret, never a literal.")


class AlertRoutingArgs(Spec):
    """Receivers and pacing; durations as Alertmanager writes them (``30s``, ``5m``, ``4h``)."""

    namespace: StrInput
    pagerduty: PagerDutyReceiver | None = Field(None, description="Critical alerts page the on-call.")
    slack: SlackReceiver | None = Field(None, description="Warnings (and critical without PagerDuty) go to Slack.")
    emails: list[Email] = Field(
        default_factory=list, max_length=20, description="People or lists notified of every alert."
    )
    group_by: list[str] = Field(
        default_factory=lambda: ["alertname", "endpoint"], min_length=1, description="One message per group."
    )
    group_wait: str = Field("30s", pattern=DURATION, description="Wait for more alerts of a new group.")
    group_interval: str = Field("5m", pattern=DURATION, description="Wait before telling about new alerts in a group.")
    repeat_interval: str = Field("4h", pattern=DURATION, description="Repeat a still-firing alert after.")
    send_resolved: Switch = Field(True, description="Also tell when an alert resolves.")
    selector_labels: dict[str, str] = Field(
        default_factory=dict, description="Labels Alertmanager's alertmanagerConfigSelector matches."
    )

    @field_validator("emails")
    @classmethod
    def _emails(cls, values: list[str], info: ValidationInfo) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("emails lists an address twice")
        if not values and info.data.get("pagerduty") is None and info.data.get("slack") is None:
            raise ValueError("no receiver: give emails, pagerduty or slack (an alert must reach a person)")
        return values

    @field_validator("group_by")
    @classmethod
    def _label_names(cls, values: list[str]) -> list[str]:
        for value in values:
            if value != "..." and not value.replace("_", "a").isalnum():
                raise ValueError(f"{value!r} is not a label name")
        return values

    @property
    def routing(self) -> AlertsSpec:
        """The same receivers as the platform spec's alerts section (the one severity rule)."""
        return AlertsSpec(
            emails=self.emails,
            pagerduty=PagerDuty() if self.pagerduty is not None else None,
            slack=Slack(channel=self.slack.channel) if self.slack is not None else None,
        )

    def receivers(self, severity: Severity) -> tuple[Receiver, ...]:
        return self.routing.receivers(severity)


def receiver_secrets(alerts: AlertsSpec) -> dict[str, Any]:
    """AlertRouting's ``pagerduty``/``slack`` args from the stack's secret config keys that ``alerts`` names.

    Reads ``pulumi.Config().require_secret`` for each key; a missing key raises a ValidationError naming
    it (``StackConfig.<project>:<key>``) before anything is registered.
    """
    missing = missing_secret_keys(alerts)
    if missing:
        raise missing_secret_error(missing[0])
    config = pulumi.Config()
    args: dict[str, Any] = {}
    if alerts.pagerduty is not None:
        args["pagerduty"] = {"routing_key": config.require_secret(alerts.pagerduty.integration_key_secret)}
    if alerts.slack is not None:
        args["slack"] = {
            "channel": alerts.slack.channel,
            "webhook_url": config.require_secret(alerts.slack.webhook_url_secret),
        }
    return args


def missing_secret_keys(alerts: AlertsSpec) -> list[str]:
    """The secret config keys ``alerts`` names (PagerDuty key, Slack webhook URL) that the stack does not set."""
    keys = []
    if alerts.pagerduty is not None:
        keys.append(alerts.pagerduty.integration_key_secret)
    if alerts.slack is not None:
        keys.append(alerts.slack.webhook_url_secret)
    config = pulumi.Config()
    return [key for key in keys if config.get(key) is None]


def missing_secret_error(key: str) -> ValidationError:
    """The error of an unset secret config key, naming it as ``StackConfig.<project>:<key>``."""
    return field_error(
        "StackConfig",
        (f"{pulumi.get_project()}:{key}",),
        f"secret is not set: pulumi config set --secret {key} <value>",
    )


def routes(a: AlertRoutingArgs, namespace: pulumi.Input[str]) -> dict[str, Any]:
    """The route tree: the namespace's alerts, then one child route per severity and receiver."""
    children = [
        {
            "receiver": receiver,
            "matchers": [{"name": SEVERITY_LABEL, "value": severity, "matchType": "="}],
            "continue": True,
        }
        for severity in SEVERITIES
        for receiver in a.receivers(severity)
    ]
    fallback = (a.receivers("warning") or a.receivers("critical"))[0]
    return {
        "receiver": fallback,
        "matchers": [{"name": "namespace", "value": namespace, "matchType": "="}],
        "groupBy": list(a.group_by),
        "groupWait": a.group_wait,
        "groupInterval": a.group_interval,
        "repeatInterval": a.repeat_interval,
        "routes": children,
    }


class AlertRouting(PlatformComponent[AlertRoutingArgs]):
    """An AlertmanagerConfig routing the namespace's alerts by severity to PagerDuty, Slack and e-mail."""

    TYPE_TOKEN = "mlops-infra:k8s:AlertRouting"
    ARGS = AlertRoutingArgs

    def __init__(
        self,
        name: str,
        args: AlertRoutingArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        self.config_name: str = self.platform.name(name, naming.K8S_LABEL_NAME)
        self.secret_name: str = f"{self.config_name}-receivers"
        labels = {
            **lbl.standard_labels("alertmanager", self.config_name, "alert-routing", self.platform.settings.project),
            **a.selector_labels,
        }
        values: dict[str, pulumi.Input[str]] = {}
        if a.pagerduty is not None:
            values[PAGERDUTY_KEY] = a.pagerduty.routing_key
        if a.slack is not None:
            values[SLACK_KEY] = a.slack.webhook_url
        self.secret: k8s.core.v1.Secret | None = (
            opaque_secret(self, "receivers", self.secret_name, a.namespace, labels, values) if values else None
        )
        self.config = k8s.apiextensions.CustomResource(
            self.child_name("config"),
            api_version=ALERTMANAGER_CONFIG_API,
            kind="AlertmanagerConfig",
            metadata=objects.metadata(self.config_name, a.namespace, labels),
            spec={"route": routes(a, a.namespace), "receivers": self._receivers()},
            opts=self.child_opts(depends_on=[self.secret] if self.secret is not None else None),
        )
        self.register_outputs(
            {
                "config": self.config_name,
                "emails": list(a.emails),
                "routes": {severity: list(a.receivers(severity)) for severity in SEVERITIES},
            }
        )

    def _selector(self, key: str) -> dict[str, str]:
        return {"name": self.secret_name, "key": key}

    def _receivers(self) -> list[dict[str, Any]]:
        a = self.args
        receivers: list[dict[str, Any]] = []
        if a.pagerduty is not None:
            receivers.append(
                {
                    "name": "pagerduty",
                    "pagerdutyConfigs": [
                        {"routingKey": self._selector(PAGERDUTY_KEY), "sendResolved": a.send_resolved}
                    ],
                }
            )
        if a.slack is not None:
            receivers.append(
                {
                    "name": "slack",
                    "slackConfigs": [
                        {
                            "apiURL": self._selector(SLACK_KEY),
                            "channel": a.slack.channel,
                            "sendResolved": a.send_resolved,
                        }
                    ],
                }
            )
        if a.emails:
            receivers.append(
                {
                    "name": RECEIVER,
                    "emailConfigs": [{"to": email, "sendResolved": a.send_resolved} for email in a.emails],
                }
            )
        return receivers
