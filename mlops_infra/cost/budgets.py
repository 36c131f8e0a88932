"""The budgets a stack declares, and where its worst case goes over them.

A budget covers the cloud it is declared on: an AWS Budget the stack's AWS spend, a GCP billing
budget its GCP spend (Vertex dynamic resources included), a Kubernetes spend budget its
Kubernetes workloads. ``cost`` and the ``cost-budget`` rule both read :func:`budget_breaches`, so
they can never disagree about what is over.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mlops_infra.conventions.markers import MONTHLY_BUDGET_USD_ANNOTATION
from mlops_infra.cost.model import Budget, CostItem, Estimate, effective_budget
from mlops_infra.engine.captured import CapturedStack

T_AWS_BUDGET = "aws:budgets/budget:Budget"
T_GCP_BUDGET = "gcp:billing/budget:Budget"
T_K8S_SPEND_BUDGET = "mlops-infra:k8s:SpendBudget"
T_K8S_RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"  # a budget when annotated MONTHLY_BUDGET_USD_ANNOTATION

# Type-token prefixes of each cloud's spend (dynamic providers carry the cloud they call).
CLOUD_PREFIXES: dict[str, tuple[str, ...]] = {
    "aws": ("aws:",),
    "gcp": ("gcp:", "pulumi-python:dynamic/vertex:"),
    "kubernetes": ("kubernetes:",),
}
BUDGET_CLOUD = {
    T_AWS_BUDGET: "aws",
    T_GCP_BUDGET: "gcp",
    T_K8S_SPEND_BUDGET: "kubernetes",
    T_K8S_RESOURCE_QUOTA: "kubernetes",
}


def cloud_of(type_token: str) -> str | None:
    """The cloud a resource type spends on (``aws``, ``gcp``, ``kubernetes``), or None."""
    for cloud, prefixes in CLOUD_PREFIXES.items():
        if type_token.startswith(prefixes):
            return cloud
    return None


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def find_budgets(stack: CapturedStack) -> list[Budget]:
    """The monthly budgets the stack declares: AWS Budgets, GCP billing budgets, Kubernetes spend budgets.

    A Kubernetes budget is a ResourceQuota annotated ``mlops-infra/monthly-budget-usd`` (SpendBudget's
    cap, or one a user writes), so a policy pack finds it from custom resources alone. A SpendBudget
    component counts through its quota; its own ``monthlyLimitUsd`` only when it has no annotated
    quota (one budget per SpendBudget, never two).
    """
    budgets = []
    quota_parents = set()
    for resource in stack.resources:
        amount = None
        if resource.type == T_AWS_BUDGET and resource.inputs.get("timeUnit", "MONTHLY") == "MONTHLY":
            amount = _float(resource.inputs.get("limitAmount"))
        elif resource.type == T_GCP_BUDGET:
            specified = (resource.inputs.get("amount") or {}).get("specifiedAmount") or {}
            units = _float(specified.get("units"))
            if units is not None:
                amount = units + (_float(specified.get("nanos")) or 0) / 1e9
        elif resource.type == T_K8S_RESOURCE_QUOTA:
            annotations = (resource.inputs.get("metadata") or {}).get("annotations") or {}
            amount = _float(annotations.get(MONTHLY_BUDGET_USD_ANNOTATION))
            if amount is not None and resource.parent:
                quota_parents.add(resource.parent)
        if amount is not None:
            budgets.append(Budget(resource.urn, resource.type, amount, _scope(resource.type, resource.inputs)))
    for resource in stack.resources:
        if resource.type == T_K8S_SPEND_BUDGET and resource.urn not in quota_parents:
            inputs = resource.inputs
            amount = _float(inputs.get("monthlyLimitUsd", inputs.get("monthly_limit_usd")))
            if amount is not None:
                budgets.append(Budget(resource.urn, resource.type, amount, f"namespace={inputs.get('namespace')}"))
    return budgets


def _scope(type_token: str, inputs: dict[str, Any]) -> str:
    """What spend a budget watches: AWS cost filters, a GCP budget filter and account, a quota's namespace."""
    if type_token == T_AWS_BUDGET:
        return json.dumps([inputs.get("costFilters"), inputs.get("budgetType", "COST")], sort_keys=True, default=str)
    if type_token == T_GCP_BUDGET:
        return json.dumps([inputs.get("billingAccount"), inputs.get("budgetFilter")], sort_keys=True, default=str)
    return f"namespace={(inputs.get('metadata') or {}).get('namespace')}"


@dataclass(frozen=True)
class BudgetBreach:
    """One cloud's worst case above the budgets declared for it (USD per month)."""

    cloud: str
    monthly_max: float
    budget: float
    top_items: tuple[CostItem, ...]
    budget_urns: tuple[str, ...]

    @property
    def over(self) -> float:
        return self.monthly_max - self.budget

    def message(self) -> str:
        top = "; ".join(
            f"{item.urn.rsplit('::', 1)[-1]} ${item.monthly_max:,.2f} ({item.basis})" for item in self.top_items
        )
        return (
            f"{self.cloud} worst case ${self.monthly_max:,.2f}/month is ${self.over:,.2f} over its "
            f"${self.budget:,.2f} budget. Most expensive: {top}"
        )


def budget_breaches(estimate: Estimate, limit: float | None = None) -> list[BudgetBreach]:
    """Where the worst case exceeds a budget.

    With ``limit`` (``--budget``) the whole stack is compared with it; otherwise each cloud with a
    declared budget is compared with its budgets: the tightest of each scope (two budgets on the same
    filters alert on the same money), summed over scopes (namespaces, filtered projects). A cloud without a budget is
    ``budget-required``'s concern, not this one.
    """
    groups: dict[str, tuple[float, list[CostItem], tuple[str, ...]]] = {}
    if limit is not None:
        groups["stack"] = (limit, list(estimate.items), ())
    else:
        for cloud in CLOUD_PREFIXES:
            budgets = [b for b in estimate.budgets if BUDGET_CLOUD.get(b.type) == cloud]
            if budgets:
                items = [i for i in estimate.items if cloud_of(i.type) == cloud]
                amount, urns = effective_budget(budgets)
                groups[cloud] = (amount, items, urns)
    breaches = []
    for cloud, (budget, items, urns) in groups.items():
        worst = sum(i.monthly_max for i in items)
        if worst > budget:
            top = tuple(sorted(items, key=lambda i: i.monthly_max, reverse=True)[:3])
            breaches.append(BudgetBreach(cloud, worst, budget, top, urns))
    return breaches
