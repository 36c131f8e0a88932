"""cost-budget: the stack's worst-case monthly cost stays within the budgets it declares.

The rule prices the graph with the cost estimator (``mlops_infra.cost``: catalogue rows with
source, date and grade; formulas in docs/cost-model.md) and compares each cloud's worst case with
the budgets declared on that cloud (``cost.budgets.budget_breaches``, the same function
``mlops-infra cost`` exits on). A stack without a budget is ``budget-required``'s concern.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from mlops_infra.cost.budgets import T_AWS_BUDGET, T_GCP_BUDGET, budget_breaches
from mlops_infra.cost.catalogue import Catalogue, load_catalogue
from mlops_infra.cost.estimate import Estimate, estimate_stack
from mlops_infra.engine.captured import CapturedResource, CapturedStack
from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.context import StackContext
from mlops_infra.policy.model import Finding, StackView
from mlops_infra.policy.spec import PolicySpec

ID = "cost-budget"
K8S_RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"


@lru_cache(maxsize=8)
def _catalogue(prices: Path | None, mtime: float) -> Catalogue:
    del mtime  # part of the cache key only: an edited override file is read again
    return load_catalogue(prices)


def catalogue_for(config: PolicyConfig) -> Catalogue:
    """The packaged catalogue with the config's ``prices`` override merged; loaded once per file version.

    Raises ``CatalogueError`` (a ProgramError naming the file and row) for an unusable price file.
    """
    prices = config.prices
    mtime = prices.stat().st_mtime if prices is not None and prices.exists() else 0.0
    return _catalogue(prices, mtime)


def _project_and_stack(stack_urn: str) -> tuple[str, str]:
    parts = stack_urn.split("::")
    if len(parts) >= 2 and parts[0].startswith("urn:pulumi:"):
        return parts[1], parts[0].removeprefix("urn:pulumi:")
    return "", ""


def captured_from_view(stack: StackView) -> CapturedStack:
    """The stack as the estimator reads it: wire-format props as inputs (what the pack receives, too)."""
    project, name = _project_and_stack(stack.stack_urn)
    resources = [
        CapturedResource(
            urn=view.urn,
            type=view.type,
            name=view.name,
            parent=view.options.parent,
            custom=view.custom,
            inputs=dict(view.props),
        )
        for view in stack.resources
    ]
    return CapturedStack(project=project, stack=name, config=dict(stack.config), resources=resources, outputs={})


def estimate_view(stack: StackView, config: PolicyConfig) -> Estimate:
    return estimate_stack(captured_from_view(stack), catalogue_for(config))


def stack_cost_budget(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    """One finding per cloud whose worst case exceeds its declared budgets, on the first such budget."""
    estimate = estimate_view(stack, ctx.config)
    by_urn = {view.urn: view for view in stack.resources}
    unpriced = len(estimate.unpriced)
    for breach in budget_breaches(estimate):
        budget = by_urn.get(breach.budget_urns[0]) if breach.budget_urns else None
        note = f" {unpriced} resource(s) could not be priced and are not counted." if unpriced else ""
        yield Finding(
            f"{breach.message()}.{note} Lower the worst case (instance types, max replicas or capacity, schedules) "
            "or raise the budget; `mlops-infra cost` shows every item with its basis.",
            urn=budget.urn if budget else stack.stack_urn,
            resource_type=budget.type if budget else "pulumi:pulumi:Stack",
        )


SPEC = PolicySpec(
    id=ID,
    title="The worst-case monthly cost stays within the stack's budget",
    description=(
        "Prices every resource with the cost catalogue (worst case: autoscaling maximums, serverless max "
        "concurrency, scheduled runs per month x max runtime; docs/cost-model.md) and compares each cloud's "
        "total with the monthly budgets declared on that cloud: aws:budgets/budget:Budget (limitAmount), "
        "gcp:billing/budget:Budget (amount.specifiedAmount), and the Kubernetes spend budget (the ResourceQuota "
        "of an mlops-infra SpendBudget). The message names the amount over and the three most expensive items. "
        "Resources the catalogue cannot price are listed by `mlops-infra cost` and not counted."
    ),
    remediation=(
        "Reduce the worst case (smaller instance types, lower autoscaling max capacity / max replicas, fewer "
        "scheduled runs, a shorter max runtime) or raise the budget's limit. Negotiated rates go in a price "
        "override file: `prices` in the policy config, `--prices` for `mlops-infra cost`."
    ),
    resource_types={
        "aws": (T_AWS_BUDGET,),
        "gcp": (T_GCP_BUDGET,),
        "kubernetes": (K8S_RESOURCE_QUOTA,),
    },
    stack_check=stack_cost_budget,
    config_properties=("prices",),
)
