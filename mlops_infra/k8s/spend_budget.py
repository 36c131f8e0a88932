"""A monthly spend budget for a namespace: quota caps priced at the node rates, and OpenCost alerts.

Kubernetes has no billing API, so the budget acts in two ways.

**A cap** (``ResourceQuota`` ``{budget}-budget-cap``, next to the tenancy quota ``{namespace}-quota``;
Kubernetes enforces every quota of a namespace). ``monthly_limit_usd`` becomes caps on CPU, memory and
GPUs so that the namespace's worst case at the node rates is at most the budget. With B the budget
(USD/month), H = 730 hours, r_cpu (USD per vCPU-hour), r_mem (USD per GiB-hour) and r_gpu (USD per
GPU-hour) the node rates, m = ``memory_gib_per_cpu`` and s = ``gpu_share_percent``::

    gpus      = floor(B x s / 100 / (H x r_gpu))                       requests.nvidia.com/gpu
    cpu       = floor_millicores((B - gpus x H x r_gpu) / (H x (r_cpu + m x r_mem)))
                                                                       requests.cpu, limits.cpu
    memory    = floor_Mi(cpu x m GiB)                                  requests.memory, limits.memory
    so that   cpu x H x r_cpu + memory x H x r_mem + gpus x H x r_gpu <= B

The GPU share buys whole GPUs; what it does not spend funds CPU and memory in the ratio ``m`` GiB per
vCPU. OpenCost allocates a container ``max(request, usage)`` and usage is bounded by the container's
limits, so ``limits.cpu`` and ``limits.memory`` are capped too (``cap_limits``); extended resources
(GPUs) have no ``limits.`` quota and cannot be overcommitted. A cap on ``limits.*`` makes the API
server reject pods without limits: keep a LimitRange with defaults (Tenancy has one) or set
``cap_limits`` false. The node rates are the cost catalogue's OpenCost default rows
(``opencost.default`` cpu/ram/gpu, us-central1), each overridable in ``node_rates`` for negotiated
or on-premises prices. The quota carries the amount in the annotation
``mlops-infra/monthly-budget-usd``: ``mlops-infra cost`` and a policy pack read the budget from
that custom resource alone.

**Alerts**. OpenCost (a CNCF project) prices every node per hour and exports
``node_cpu_hourly_cost``, ``node_ram_hourly_cost`` and ``node_gpu_hourly_cost`` next to the
per-container allocations (``container_cpu_allocation`` in cores, ``container_memory_allocation_bytes``,
``container_gpu_allocation``). Their product, summed over the namespace and times 730 hours, is the
namespace's monthly spend at its current allocation: a forecast, like a cloud budget's forecast
alert. This PrometheusRule fires at each ``alert_at_percent`` of ``monthly_limit_usd``, and warns
when OpenCost's metrics are absent, so an unwatched budget is never silent.

Prerequisite of the alerts: OpenCost installed and scraped by the Prometheus that loads this rule. The
cap needs nothing but the API server.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from mlops_infra.component import PlatformComponent
from mlops_infra.config.base import validate_args
from mlops_infra.conventions import naming
from mlops_infra.conventions.markers import MONTHLY_BUDGET_USD_ANNOTATION
from mlops_infra.cost.catalogue import MONTH_HOURS, Catalogue, load_catalogue
from mlops_infra.k8s import labels as lbl
from mlops_infra.k8s.alert_rules import namespace_rule
from mlops_infra.k8s.monitoring import DURATION
from mlops_infra.k8s.objects import k8s_json, metadata
from mlops_infra.k8s.workload import GPU_RESOURCE
from mlops_infra.spec.base import Spec, StrInput, Switch, field_error
from mlops_infra.spec.budget import MAX_MONTHLY_USD, AlertThresholds

HOURS_PER_MONTH = MONTH_HOURS
"""The month the cost model uses everywhere: 730 hours."""

OPENCOST_PRICE_METRIC = "node_cpu_hourly_cost"

# The catalogue rows the node rates default to (the estimator prices Kubernetes requests with the same rows).
RATE_SERVICE = "opencost.default"
RATE_REGION = "us-central1"
RATE_SKUS: dict[str, tuple[str, str]] = {
    "cpu_usd_per_vcpu_hour": ("cpu", "vCPU-hour"),
    "memory_usd_per_gib_hour": ("ram", "GB-hour"),
    "gpu_usd_per_gpu_hour": ("gpu", "GPU-hour"),
}
MAX_RATE_USD = 1000.0
BASIS_ANNOTATION = "mlops-infra/budget-cap-basis"
"""How the caps were computed, in words (rates and 730 h month); informative only."""
QUOTA_SUFFIX = "budget-cap"
"""The quota is ``{budget}-budget-cap``: never ``{namespace}-quota``, the name of Tenancy's quota."""


class NodeRates(Spec):
    """Node prices the caps are computed with; a field left out takes the catalogue's OpenCost default row."""

    cpu_usd_per_vcpu_hour: float | None = Field(None, gt=0, le=MAX_RATE_USD, description="USD per vCPU-hour.")
    memory_usd_per_gib_hour: float | None = Field(None, gt=0, le=MAX_RATE_USD, description="USD per GiB-hour.")
    gpu_usd_per_gpu_hour: float | None = Field(None, gt=0, le=MAX_RATE_USD, description="USD per GPU-hour.")


class SpendBudgetArgs(Spec):
    """A namespace's monthly ceiling in US dollars, how it splits into quota caps, and the alert thresholds."""

    namespace: StrInput
    monthly_limit_usd: float = Field(gt=0, le=MAX_MONTHLY_USD, description="Monthly ceiling, USD.")
    alert_at_percent: AlertThresholds = Field(
        default_factory=lambda: [80.0, 90.0, 100.0], description="Percent of the ceiling."
    )
    alert_for: str = Field("30m", pattern=DURATION, description="How long the forecast stays above before firing.")
    selector_labels: dict[str, str] = Field(
        default_factory=dict, description="Labels Prometheus selects rules by (e.g. release: kube-prometheus-stack)."
    )
    memory_gib_per_cpu: float = Field(
        4.0, gt=0, le=64, description="GiB of memory quota per vCPU of CPU quota (the split of the non-GPU money)."
    )
    gpu_share_percent: float = Field(
        0.0, ge=0, lt=100, description="Percent of the budget spent on GPU quota, in whole GPUs (0: no GPUs)."
    )
    node_rates: NodeRates = Field(
        default_factory=NodeRates, description="USD per vCPU-hour, GiB-hour and GPU-hour (default: the catalogue)."
    )
    cap_limits: Switch = Field(
        True, description="Cap limits.cpu and limits.memory too (OpenCost bills usage up to limits)."
    )


@dataclass(frozen=True)
class QuotaCaps:
    """The caps a budget buys at its node rates: CPU in millicores, memory in MiB, whole GPUs."""

    cpu_millicores: int
    memory_mib: int
    gpus: int
    rates: dict[str, Decimal]  # field of NodeRates -> USD per unit-hour
    rate_sources: dict[str, str]  # field of NodeRates -> "node_rates" or the catalogue row

    @property
    def monthly_usd(self) -> Decimal:
        """The caps' worst case per month at the node rates (at most the budget)."""
        hours = Decimal(HOURS_PER_MONTH)
        return hours * (
            Decimal(self.cpu_millicores) / 1000 * self.rates["cpu_usd_per_vcpu_hour"]
            + Decimal(self.memory_mib) / 1024 * self.rates["memory_usd_per_gib_hour"]
            + Decimal(self.gpus) * self.rates["gpu_usd_per_gpu_hour"]
        )

    def hard(self, *, cap_limits: bool) -> dict[str, str]:
        """The ResourceQuota ``hard`` map."""
        cpu, memory = f"{self.cpu_millicores}m", f"{self.memory_mib}Mi"
        hard = {"requests.cpu": cpu, "requests.memory": memory}
        if cap_limits:
            hard |= {"limits.cpu": cpu, "limits.memory": memory}
        return hard | {f"requests.{GPU_RESOURCE}": str(self.gpus)}

    def basis(self) -> str:
        """The caps in words a reviewer can check by hand."""
        r = self.rates
        return (
            f"{self.cpu_millicores}m vCPU x {r['cpu_usd_per_vcpu_hour']} + {self.memory_mib}Mi x "
            f"{r['memory_usd_per_gib_hour']}/GiB + {self.gpus} GPU x {r['gpu_usd_per_gpu_hour']}, x "
            f"{HOURS_PER_MONTH} h = {self.monthly_usd.quantize(Decimal('0.01'), ROUND_FLOOR)} USD/month"
        )


def _decimal(value: float) -> Decimal:
    """A price or amount as the decimal it was written as (``0.031611``, not its binary float)."""
    return Decimal(repr(float(value)))


def usd_text(amount: float) -> str:
    """An amount of US dollars as annotation text: ``12000``, ``1234.5``."""
    text = format(_decimal(amount), "f")
    return text.removesuffix(".0")


def node_rates(args: SpendBudgetArgs, catalogue: Catalogue | None = None) -> tuple[dict[str, Decimal], dict[str, str]]:
    """USD per vCPU-hour, GiB-hour and GPU-hour: ``args.node_rates`` first, else the catalogue's rows.

    Raises a field error on ``node_rates.<field>`` when neither has the rate and the caps need it.
    """
    rates: dict[str, Decimal] = {}
    sources: dict[str, str] = {}
    for field, (sku, unit) in RATE_SKUS.items():
        given = getattr(args.node_rates, field)
        if given is not None:
            rates[field], sources[field] = _decimal(given), "node_rates"
            continue
        catalogue = catalogue or load_catalogue()
        found = catalogue.lookup("k8s", RATE_SERVICE, sku, RATE_REGION, unit=unit)
        if found.usd is None:
            if field == "gpu_usd_per_gpu_hour" and args.gpu_share_percent == 0:
                rates[field], sources[field] = Decimal(0), "unused (gpu_share_percent 0)"
                continue
            raise field_error(
                SpendBudgetArgs,
                ("node_rates", field),
                f"the cost catalogue has no {RATE_SERVICE} {sku} rate ({found.warning}): set it here",
            )
        rates[field], sources[field] = _decimal(found.usd), f"catalogue k8s {RATE_SERVICE} {sku} {RATE_REGION}"
    return rates, sources


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def quota_caps(args: SpendBudgetArgs, catalogue: Catalogue | None = None) -> QuotaCaps:
    """The CPU, memory and GPU caps whose worst case at the node rates is at most ``monthly_limit_usd``.

    ``gpus = floor(B x share / (H x r_gpu))``; the rest of the budget buys vCPUs with ``memory_gib_per_cpu``
    GiB each: ``cpu = floor_m((B - gpus x H x r_gpu) / (H x (r_cpu + m x r_mem)))`` and
    ``memory = floor_Mi(cpu x m)``. Every cap is rounded down, so the sum never exceeds the budget.
    Raises a field error when the budget buys no CPU, or the GPU share no whole GPU.
    """
    rates, sources = node_rates(args, catalogue)
    budget, hours = _decimal(args.monthly_limit_usd), Decimal(HOURS_PER_MONTH)
    memory_per_cpu, share = _decimal(args.memory_gib_per_cpu), _decimal(args.gpu_share_percent)
    gpu_month = hours * rates["gpu_usd_per_gpu_hour"]
    gpus = _floor(budget * share / 100 / gpu_month) if share else 0
    if share and gpus == 0:
        needed = math.ceil(gpu_month / budget * 100 * 100) / 100
        raise field_error(
            SpendBudgetArgs,
            ("gpu_share_percent",),
            f"{usd_text(args.gpu_share_percent)}% of {usd_text(args.monthly_limit_usd)} USD buys no whole GPU at "
            f"{rates['gpu_usd_per_gpu_hour']} USD per GPU-hour ({gpu_month} USD/month): use at least {needed:g}%, or 0",
            args.gpu_share_percent,
        )
    cpu_month = hours * (rates["cpu_usd_per_vcpu_hour"] + memory_per_cpu * rates["memory_usd_per_gib_hour"])
    cpu_millicores = _floor((budget - gpus * gpu_month) / cpu_month * 1000)
    if cpu_millicores < 1:
        raise field_error(
            SpendBudgetArgs,
            ("monthly_limit_usd",),
            f"{usd_text(args.monthly_limit_usd)} USD buys no CPU at the node rates "
            f"({cpu_month} USD per vCPU-month with {usd_text(args.memory_gib_per_cpu)} GiB)",
            args.monthly_limit_usd,
        )
    memory_mib = _floor(Decimal(cpu_millicores) / 1000 * memory_per_cpu * 1024)
    return QuotaCaps(cpu_millicores, memory_mib, gpus, rates, sources)


def gpu_share_for(gpus: int, monthly_limit_usd: float, rates: NodeRates | None = None) -> float:
    """The smallest ``gpu_share_percent`` (to 0.01 %) whose caps admit ``gpus`` whole GPUs; 0 for none.

    ValueError when ``gpus`` GPUs cost the whole budget or more (no CPU would be left to run them).
    """
    if gpus <= 0:
        return 0.0
    args = SpendBudgetArgs(
        namespace="-", monthly_limit_usd=monthly_limit_usd, gpu_share_percent=1, node_rates=rates or NodeRates()
    )
    gpu_month = Decimal(HOURS_PER_MONTH) * node_rates(args)[0]["gpu_usd_per_gpu_hour"]
    share = (gpus * gpu_month / _decimal(monthly_limit_usd) * 100).quantize(Decimal("0.01"), rounding=ROUND_CEILING)
    if share >= 100:
        raise ValueError(
            f"{gpus} GPUs cost {gpus * gpu_month} USD/month at the node rates: "
            f"not within a {usd_text(monthly_limit_usd)} USD monthly budget"
        )
    return float(share)


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
    """A namespace's monthly budget: a ResourceQuota capping its worst case, and OpenCost forecast alerts."""

    TYPE_TOKEN = "mlops-infra:k8s:SpendBudget"
    ARGS = SpendBudgetArgs

    def __init__(
        self,
        name: str,
        args: SpendBudgetArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        validated = validate_args(SpendBudgetArgs, args)
        caps = quota_caps(validated)  # bad rates or a budget too small raise before anything is registered
        super().__init__(name, validated, opts)
        a = self.args
        self.caps: QuotaCaps = caps
        self.rule_name: str = self.platform.name(name, naming.K8S_LABEL_NAME)
        self.quota_name: str = f"{self.rule_name}-{QUOTA_SUFFIX}"
        self.quota = k8s.core.v1.ResourceQuota(
            self.child_name("quota"),
            metadata=metadata(
                self.quota_name,
                a.namespace,
                lbl.standard_labels("spend-budget", self.rule_name, "budget", self.platform.settings.project),
                annotations={
                    MONTHLY_BUDGET_USD_ANNOTATION: usd_text(a.monthly_limit_usd),
                    BASIS_ANNOTATION: caps.basis(),
                },
            ),
            spec=k8s_json({"hard": caps.hard(cap_limits=a.cap_limits)}),
            opts=self.child_opts(),
        )
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
        self.register_outputs(
            {"rule": self.rule_name, "quota": self.quota_name, "monthlyLimitUsd": a.monthly_limit_usd}
        )
