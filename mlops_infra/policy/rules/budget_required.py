"""budget-required: every stack that spends on AWS, GCP or Kubernetes declares a budget there, with alerts."""

from __future__ import annotations

from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.stack_rules import AWS_BUDGET, GCP_BUDGET, K8S_SPEND_BUDGET, PROMETHEUS_RULE, stack_budget

ID = "budget-required"

SPEC = PolicySpec(
    id=ID,
    title="Every stack declares a budget",
    description=(
        "A stack with AWS resources has an aws:budgets/budget:Budget with notifications; a stack with GCP "
        "resources has a gcp:billing/budget:Budget with thresholdRules; a stack with Kubernetes workloads (pods, "
        "Deployments, StatefulSets, Jobs, CronJobs, InferenceServices, workflows) has a spend budget: an "
        "mlops-infra:k8s:SpendBudget, or a PrometheusRule alerting on OpenCost cost metrics (node_cpu_hourly_cost, "
        "node_ram_hourly_cost, node_gpu_hourly_cost, ...)."
    ),
    remediation=(
        "Add mlops_infra.aws Budget (or aws.budgets.Budget with notifications[]) / "
        "gcp.billing.Budget with thresholdRules[] / mlops_infra.k8s SpendBudget (or a PrometheusRule whose alerts "
        "read OpenCost's node_cpu_hourly_cost etc. against a monthly limit)."
    ),
    resource_types={
        "aws": (AWS_BUDGET,),
        "gcp": (GCP_BUDGET,),
        "kubernetes": (K8S_SPEND_BUDGET, PROMETHEUS_RULE),
    },
    stack_check=stack_budget,
)
