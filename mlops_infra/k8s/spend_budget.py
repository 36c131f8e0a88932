"""A monthly spend budget for a namespace, from OpenCost's cost metrics in Prometheus.

Kubernetes has no billing API. OpenCost (a CNCF project) prices every node per hour and exports
``node_cpu_hourly_cost``, ``node_ram_hourly_cost`` and ``node_gpu_hourly_cost`` next to the
per-container allocations (``container_cpu_allocation`` in cores, ``container_memory_allocation_bytes``,
``container_gpu_allocation``). Their product, summed over the namespace and times 730 hours, is the
namespace's monthly spend at its current allocation: a forecast, like a cloud budget's forecast
alert. This PrometheusRule fires at each ``alert_at_percent`` of ``monthly_limit_usd``, and warns
when OpenCost's metrics are absent, so an unwatched budget is never silent.

Prerequisite: OpenCost installed and scraped by the Prometheus that loads this rule.
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
from mlops_infra.spec.budget import MAX_MONTHLY_USD, AlertThresholds

HOURS_PER_MONTH = 730
"""The month the cost model uses everywhere: 730 hours."""

OPENCOST_PRICE_METRIC = "node_cpu_hourly_cost"


class SpendBudgetArgs(Spec):
    """A namespace's monthly ceiling in US dollars and the alert thresholds in percent of it."""

    namespace: StrInput
    monthly_limit_usd: float = Field(gt=0, le=MAX_MONTHLY_USD, description="Monthly ceiling, USD.")
    alert_at_percent: AlertThresholds = Field(
        default_factory=lambda: [80.0, 90.0, 100.0], description="Percent of the ceiling."
    )
    alert_for: str = Field("30m", pattern=DURATION, description="How long the forecast stays above before firing.")
    selector_labels: dict[str, str] = Field(
        default_factory=dict, description="Labels Prometheus selects rules by (e.g. release: kube-prometheus-stack)."
    )


def monthly_cost_expr(namespace: str) -> str:
    """PromQL: the namespace's spend per month (USD) at its current CPU, memory and GPU allocation."""
    selector = f'{{namespace="{namespace}"}}'
    cpu = f"sum(container_cpu_allocation{selector} * on(node) group_left() node_cpu_hourly_cost)"
    memory = (
        f"sum(container_memory_allocation_bytes{selector} / 1024 / 1024 / 1024"
        " * on(node) group_left() node_ram_hourly_cost)"
    )
    gpu = f"(sum(container_gpu_allocation{selector} * on(node) group_left() node_gpu_hourly_cost) or vector(0))"
    return f"({cpu} + {memory} + {gpu}) * {HOURS_PER_MONTH}"


def budget_rules(a: SpendBudgetArgs, namespace: str) -> list[dict[str, Any]]:
    """One alert per threshold on the monthly forecast, plus one when OpenCost's prices are missing."""
    cost = monthly_cost_expr(namespace)
    rules: list[dict[str, Any]] = [
        {
            "alert": "NamespaceSpendBudget",
            "expr": f"{cost} > {a.monthly_limit_usd * percent / 100:g}",
            "for": a.alert_for,
            "labels": {
                "namespace": namespace,
                "severity": "critical" if percent >= 100 else "warning",
                "threshold_percent": f"{percent:g}",
            },
            "annotations": {
                "summary": f"{namespace} is on course to spend over {percent:g}% of its "
                f"{a.monthly_limit_usd:g} USD monthly budget (OpenCost, {HOURS_PER_MONTH} h month)",
                "value_usd": '{{ $value | printf "%.0f" }}',
            },
        }
        for percent in a.alert_at_percent
    ]
    rules.append(
        {
            "alert": "SpendBudgetUnwatched",
            "expr": f"absent({OPENCOST_PRICE_METRIC})",
            "for": "1h",
            "labels": {"namespace": namespace, "severity": "warning"},
            "annotations": {
                "summary": f"OpenCost metrics are missing: the spend budget of {namespace} is not being watched",
            },
        }
    )
    return rules


class SpendBudget(PlatformComponent[SpendBudgetArgs]):
    """A PrometheusRule alerting when a namespace's monthly spend forecast passes each threshold."""

    TYPE_TOKEN = "mlops-infra:k8s:SpendBudget"
    ARGS = SpendBudgetArgs

    def __init__(
        self,
        name: str,
        args: SpendBudgetArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        self.rule_name: str = self.platform.name(name, naming.K8S_LABEL_NAME)
        self.rule = namespace_rule(
            self,
            rule_name=self.rule_name,
            app="spend-budget",
            namespace=a.namespace,
            selector_labels=a.selector_labels,
            group="budget.rules",
            interval="5m",
            rules=lambda namespace: budget_rules(a, namespace),
        )
        self.monthly_limit_usd: float = a.monthly_limit_usd
        self.register_outputs({"rule": self.rule_name, "monthlyLimitUsd": a.monthly_limit_usd})
