"""Who hears the namespace's alerts: an AlertmanagerConfig that e-mails the platform's alert recipients.

prometheus-operator (``monitoring.coreos.com/v1alpha1``) merges the AlertmanagerConfig into the
Alertmanager selected by ``selector_labels`` and only routes alerts whose ``namespace`` label is
this namespace: Monitoring's rules carry that label when ``alert_namespace_label`` is on. The
SMTP relay (``smtp_smarthost``, ``smtp_from``) is Alertmanager's global setting, owned by the
cluster: no credential lives here.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, field_validator

from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.k8s import labels as lbl
from mlops_infra.k8s import objects
from mlops_infra.spec.base import Spec, StrInput, Switch
from mlops_infra.spec.types import Email

ALERTMANAGER_CONFIG_API = "monitoring.coreos.com/v1alpha1"
DURATION = r"^(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?$"
RECEIVER = "email"


class AlertRoutingArgs(Spec):
    """Recipients and pacing; durations as Alertmanager writes them (``30s``, ``5m``, ``4h``)."""

    namespace: StrInput
    emails: list[Email] = Field(min_length=1, max_length=20, description="People or lists to notify.")
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
    def _unique(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("emails lists an address twice")
        return values

    @field_validator("group_by")
    @classmethod
    def _label_names(cls, values: list[str]) -> list[str]:
        for value in values:
            if value != "..." and not value.replace("_", "a").isalnum():
                raise ValueError(f"{value!r} is not a label name")
        return values


class AlertRouting(PlatformComponent[AlertRoutingArgs]):
    """An AlertmanagerConfig routing every alert of the namespace to ``emails``."""

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
        labels = {
            **lbl.standard_labels("alertmanager", self.config_name, "alert-routing", self.platform.settings.project),
            **a.selector_labels,
        }
        self.config = k8s.apiextensions.CustomResource(
            self.child_name("config"),
            api_version=ALERTMANAGER_CONFIG_API,
            kind="AlertmanagerConfig",
            metadata=objects.metadata(self.config_name, a.namespace, labels),
            spec={
                "route": {
                    "receiver": RECEIVER,
                    "groupBy": list(a.group_by),
                    "groupWait": a.group_wait,
                    "groupInterval": a.group_interval,
                    "repeatInterval": a.repeat_interval,
                },
                "receivers": [
                    {
                        "name": RECEIVER,
                        "emailConfigs": [{"to": email, "sendResolved": a.send_resolved} for email in a.emails],
                    }
                ],
            },
            opts=self.child_opts(),
        )
        self.register_outputs({"config": self.config_name, "emails": list(a.emails)})
