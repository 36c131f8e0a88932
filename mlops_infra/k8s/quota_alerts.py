"""Alerts when a namespace uses a share of its ResourceQuota: the closest Kubernetes gets to budget alerts.

Kubernetes has no billing: a ResourceQuota caps CPU, memory, storage and GPUs, not dollars. This
PrometheusRule fires when any quota'd resource's use passes each of ``alert_at_percent`` of its
hard limit (kube-state-metrics' ``kube_resourcequota``), so people hear before the ceiling stops
new pods. It is a resource ceiling, never presented as a spend budget.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pydantic import Field

from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.k8s.alert_rules import namespace_rule
from mlops_infra.k8s.monitoring import DURATION
from mlops_infra.spec.base import Spec, StrInput
from mlops_infra.spec.budget import AlertThresholds

METRIC = "kube_resourcequota"


class QuotaAlertsArgs(Spec):
    """Thresholds in percent of each ResourceQuota hard limit."""

    namespace: StrInput
    alert_at_percent: AlertThresholds = Field(
        default_factory=lambda: [80.0, 90.0, 100.0], description="Percent of the hard limit."
    )
    alert_for: str = Field("15m", pattern=DURATION, description="How long usage stays above before firing.")
    selector_labels: dict[str, str] = Field(
        default_factory=dict, description="Labels Prometheus selects rules by (e.g. release: kube-prometheus-stack)."
    )


def quota_rules(a: QuotaAlertsArgs, namespace: str) -> list[dict[str, Any]]:
    """One alerting rule per threshold, over every resource of every quota in ``namespace``."""
    used = f'{METRIC}{{namespace="{namespace}", type="used"}}'
    hard = f'{METRIC}{{namespace="{namespace}", type="hard"}}'
    return [
        {
            "alert": "NamespaceQuotaUsage",
            "expr": f"{used} / ignoring(type) ({hard} > 0) * 100 > {percent:g}",
            "for": a.alert_for,
            "labels": {
                "namespace": namespace,
                "severity": "critical" if percent >= 100 else "warning",
                "threshold_percent": f"{percent:g}",
            },
            "annotations": {
                "summary": f"{{{{ $labels.resource }}}} in {namespace} uses over {percent:g}% of its ResourceQuota "
                "(a resource ceiling, not a spend budget)",
            },
        }
        for percent in a.alert_at_percent
    ]


class QuotaAlerts(PlatformComponent[QuotaAlertsArgs]):
    """A PrometheusRule alerting on ResourceQuota use at each threshold."""

    TYPE_TOKEN = "mlops-infra:k8s:QuotaAlerts"
    ARGS = QuotaAlertsArgs

    def __init__(
        self,
        name: str,
        args: QuotaAlertsArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        self.rule_name: str = self.platform.name(name, naming.K8S_LABEL_NAME)
        self.rule = namespace_rule(
            self,
            rule_name=self.rule_name,
            app="quota-alerts",
            namespace=a.namespace,
            selector_labels=a.selector_labels,
            group="quota.rules",
            interval="1m",
            rules=lambda namespace: quota_rules(a, namespace),
        )
        self.register_outputs({"rule": self.rule_name})
