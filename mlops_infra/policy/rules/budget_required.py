"""budget-required: every stack that spends on AWS or GCP declares a budget there, with alerts."""

from __future__ import annotations

from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.stack_rules import AWS_BUDGET, GCP_BUDGET, stack_budget

ID = "budget-required"

SPEC = PolicySpec(
    id=ID,
    title="Every stack declares a budget",
    description=(
        "A stack with AWS resources has an aws:budgets/budget:Budget with notifications; a stack with GCP "
        "resources has a gcp:billing/budget:Budget with thresholdRules. Kubernetes-only stacks are capped "
        "by namespace quotas (k8s-namespace-guardrails)."
    ),
    remediation=(
        "Add mlops_infra.aws Budget (or aws.budgets.Budget with notifications[]) / "
        "gcp.billing.Budget with thresholdRules[]."
    ),
    resource_types={"aws": (AWS_BUDGET,), "gcp": (GCP_BUDGET,)},
    stack_check=stack_budget,
)
