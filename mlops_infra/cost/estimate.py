"""The estimator: prices a captured stack resource by resource, with the correlations a real estimate needs.

Every priced item carries ``monthly_max`` (worst case), ``monthly_expected`` and a ``basis`` a
reviewer can recompute by hand. A resource that costs money but cannot be priced is listed in
``unpriced`` with the reason: nothing is priced at 0 silently. Formulas and assumptions:
docs/cost-model.md.
"""

from __future__ import annotations

from collections.abc import Callable

from mlops_infra.cost.budgets import BudgetBreach, budget_breaches, find_budgets
from mlops_infra.cost.catalogue import Catalogue
from mlops_infra.cost.feature_groups import price_feature_groups
from mlops_infra.cost.k8s_batch import price_k8s_batch
from mlops_infra.cost.kubernetes import price_kubernetes
from mlops_infra.cost.managed_airflow import price_managed_airflow
from mlops_infra.cost.model import CURRENCY, Budget, CostItem, Estimate, Pricer, Unpriced, money, number
from mlops_infra.cost.sagemaker import price_endpoints, price_monitoring, price_pipelines
from mlops_infra.cost.sagemaker_batch import price_sagemaker_batch
from mlops_infra.cost.vertex import price_vertex
from mlops_infra.cost.vertex_batch import price_vertex_batch
from mlops_infra.cost.vertex_pipelines import price_vertex_pipelines
from mlops_infra.engine.captured import CapturedStack

__all__ = [
    "CURRENCY",
    "NOT_ESTIMATED",
    "Budget",
    "BudgetBreach",
    "CostItem",
    "Estimate",
    "Unpriced",
    "budget_breaches",
    "estimate_stack",
    "find_budgets",
    "money",
    "number",
]

# Resources that cost money which this estimator does not price: listed as unpriced, never 0.
NOT_ESTIMATED: dict[str, str] = {
    "aws:sagemaker/notebookInstance:NotebookInstance": "notebook instances are not priced by the estimator yet",
    "aws:sagemaker/domain:Domain": "Studio apps are billed per app instance, not estimated",
    "gcp:vertex/aiEndpoint:AiEndpoint": "",  # priced through its VertexModelDeployment
    "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer": (
        "SageMaker managed MLflow is billed per tracking-server hour by size (and its storage); not in the catalogue"
    ),
    "gcp:vertex/aiTensorboard:AiTensorboard": "Vertex AI TensorBoard is billed per GB of stored logs; not estimated",
    "kubernetes:kubeflow.org/v1beta1:ScheduledWorkflow": (
        "Kubeflow Pipelines renders each run's pods from the PipelineVersion's IR; its runs are not estimated yet"
    ),
}


def _not_estimated(p: Pricer) -> None:
    for resource in p.stack.resources:
        reason = NOT_ESTIMATED.get(resource.type)
        if reason:
            p.unpriced(resource, reason)


PRICERS: tuple[Callable[[Pricer], None], ...] = (
    price_endpoints,
    price_pipelines,
    price_monitoring,
    price_sagemaker_batch,
    price_feature_groups,
    price_vertex,
    price_vertex_pipelines,
    price_vertex_batch,
    price_kubernetes,
    price_k8s_batch,
    price_managed_airflow,
    _not_estimated,
)


def estimate_stack(stack: CapturedStack, catalogue: Catalogue) -> Estimate:
    """Price every resource of ``stack`` that costs money; see docs/cost-model.md for the formulas."""
    pricer = Pricer(stack, catalogue)
    for price in PRICERS:
        price(pricer)
    try:
        pricer.estimate.budgets = find_budgets(stack)
    except (AttributeError, TypeError, ValueError):
        pricer.estimate.budgets = []  # a budget amount unknown until apply: no declared budget to compare with
    return pricer.estimate
