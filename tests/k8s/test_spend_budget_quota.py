"""SpendBudget's cap: a ResourceQuota whose worst case at the node rates is at most the monthly budget.

Expected caps are derived here from the catalogue's OpenCost rows and the args (never copied
numbers); the quota carries the amount in an annotation the estimator and the policy read.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any

import pydantic
import pytest
from k8s_checks import KUBERNETES_VERSIONS, custom_problems, manifest, validate_core

from mlops_infra.conventions.markers import MONTHLY_BUDGET_USD_ANNOTATION
from mlops_infra.cost.budgets import T_K8S_RESOURCE_QUOTA, T_K8S_SPEND_BUDGET, budget_breaches, find_budgets
from mlops_infra.cost.catalogue import MONTH_HOURS, load_catalogue
from mlops_infra.cost.model import CostItem, Estimate
from mlops_infra.engine import CapturedStack, ProgramError, run_program
from mlops_infra.k8s.quantity import parse_quantity
from mlops_infra.k8s.spend_budget import SpendBudget, SpendBudgetArgs, gpu_share_for, quota_caps
from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.evaluate import stack_view, stack_violations
from mlops_infra.policy.rules import REGISTRY
from mlops_infra.testing import one, plan

REPO = Path(__file__).resolve().parents[2]
QUOTA = "kubernetes:core/v1:ResourceQuota"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"


def catalogue_rates() -> tuple[Decimal, Decimal, Decimal]:
    """USD per vCPU-hour, GiB-hour and GPU-hour: the catalogue's OpenCost default rows."""
    catalogue = load_catalogue()
    rows = [
        catalogue.lookup("k8s", "opencost.default", sku, "us-central1", unit=unit).usd
        for sku, unit in (("cpu", "vCPU-hour"), ("ram", "GB-hour"), ("gpu", "GPU-hour"))
    ]
    assert all(r is not None for r in rows)
    cpu, ram, gpu = (Decimal(repr(r)) for r in rows)
    return cpu, ram, gpu


def monthly(hard: dict[str, str], rates: tuple[Decimal, Decimal, Decimal]) -> Decimal:
    """The quota's worst case per month at ``rates``: caps x 730 h x rate."""
    cpu, ram, gpu = rates
    return MONTH_HOURS * (
        parse_quantity(hard["requests.cpu"]) * cpu
        + parse_quantity(hard["requests.memory"]) / 2**30 * ram
        + parse_quantity(hard["requests.nvidia.com/gpu"]) * gpu
    )


def budget_stack(args: dict[str, Any], environment: str = "prod") -> CapturedStack:
    return plan(lambda: SpendBudget("spend", args), environment=environment)


@pytest.mark.parametrize("budget", [800, 1500, 12000, 123.45])
def test_default_caps_spend_the_budget_at_the_catalogue_rates_with_4_gib_per_cpu(budget: float) -> None:
    rates = cpu, ram, _ = catalogue_rates()
    quota = one(budget_stack({"namespace": "ml", "monthly_limit_usd": budget}), QUOTA)
    hard = quota.inputs["spec"]["hard"]
    per_cpu = MONTH_HOURS * (cpu + 4 * ram)  # one vCPU with its 4 GiB, per month
    expected_m = int(Decimal(repr(budget)) / per_cpu * 1000)  # floor, in millicores
    assert hard["requests.cpu"] == hard["limits.cpu"] == f"{expected_m}m"
    assert hard["requests.memory"] == hard["limits.memory"] == f"{expected_m * 4 * 1024 // 1000}Mi"
    assert hard["requests.nvidia.com/gpu"] == "0"  # no GPU share: GPUs are not in the budget
    spent = monthly(hard, rates)
    assert spent <= Decimal(repr(budget))
    # rounded down by less than one millicore (with its memory) and one Mi
    assert Decimal(repr(budget)) - spent < MONTH_HOURS * (cpu / 1000 + 4 * ram / 1000 + ram / 1024)


def test_memory_ratio_gpu_share_and_node_rates_are_explicit_args() -> None:
    rates = {"cpu_usd_per_vcpu_hour": 0.05, "memory_usd_per_gib_hour": 0.01, "gpu_usd_per_gpu_hour": 2.5}
    args = {
        "namespace": "ml",
        "monthly_limit_usd": 10000,
        "memory_gib_per_cpu": 8,
        "gpu_share_percent": 40,
        "node_rates": rates,
        "cap_limits": False,
    }
    hard = one(budget_stack(args), QUOTA).inputs["spec"]["hard"]
    cpu, ram, gpu = (Decimal(repr(v)) for v in rates.values())
    gpus = int(10000 * Decimal("0.4") / (MONTH_HOURS * gpu))  # 4000 USD of 1825 USD GPU-months: 2
    assert hard["requests.nvidia.com/gpu"] == str(gpus) == "2"
    left = 10000 - gpus * MONTH_HOURS * gpu  # what the GPUs do not spend funds CPU and memory
    expected_m = int(left / (MONTH_HOURS * (cpu + 8 * ram)) * 1000)
    assert hard["requests.cpu"] == f"{expected_m}m"
    assert hard["requests.memory"] == f"{expected_m * 8 * 1024 // 1000}Mi"
    assert "limits.cpu" not in hard and "limits.memory" not in hard  # cap_limits false
    assert monthly(hard, (cpu, ram, gpu)) <= 10000
    # a partial override keeps the catalogue's rows for the other rates
    partial = quota_caps(SpendBudgetArgs(namespace="ml", monthly_limit_usd=900, node_rates={"gpu_usd_per_gpu_hour": 9}))
    assert partial.rates["cpu_usd_per_vcpu_hour"] == catalogue_rates()[0]
    assert partial.rate_sources["gpu_usd_per_gpu_hour"] == "node_rates"


def test_the_quota_is_annotated_named_apart_from_tenancy_and_valid_kubernetes() -> None:
    stack = budget_stack({"namespace": "churn-ns", "monthly_limit_usd": 1234.5, "selector_labels": {"release": "k"}})
    quota = one(stack, QUOTA)
    meta = quota.inputs["metadata"]
    assert meta["annotations"][MONTHLY_BUDGET_USD_ANNOTATION] == "1234.5"
    assert "730 h" in meta["annotations"]["mlops-infra/budget-cap-basis"]
    assert meta["namespace"] == "churn-ns"
    assert meta["name"].endswith("-budget-cap") and not meta["name"].endswith("-quota")  # Tenancy's is *-quota
    assert quota.parent == one(stack, T_K8S_SPEND_BUDGET).urn
    assert quota.name == "spend-quota"
    for version in KUBERNETES_VERSIONS:
        assert validate_core(stack, version) == []
    # the alerts are unchanged: forecast at 80/90/100 % by default, plus the unwatched warning
    rule = one(stack, RULE)
    assert custom_problems(manifest(rule)) == []
    rules = rule.inputs["spec"]["groups"][0]["rules"]
    assert [r["expr"].rsplit(" > ", 1)[1] for r in rules[:-1]] == ["987.6", "1111.05", "1234.5"]
    assert rules[-1]["alert"] == "SpendBudgetUnwatched"


@pytest.mark.parametrize(
    ("overrides", "location"),
    [
        ({"monthly_limit_usd": 0}, ("monthly_limit_usd",)),
        ({"monthly_limit_usd": 0.01}, ("monthly_limit_usd",)),  # buys no millicore
        ({"memory_gib_per_cpu": 0}, ("memory_gib_per_cpu",)),
        ({"gpu_share_percent": 100}, ("gpu_share_percent",)),
        ({"gpu_share_percent": -1}, ("gpu_share_percent",)),
        ({"gpu_share_percent": 5}, ("gpu_share_percent",)),  # 5 % of 800 USD buys no whole GPU
        ({"node_rates": {"cpu_usd_per_vcpu_hour": 0}}, ("node_rates", "cpu_usd_per_vcpu_hour")),
        ({"node_rates": {"ram": 0.01}}, ("node_rates", "ram")),
        ({"cap_limits": "yes"}, ("cap_limits",)),
    ],
)
def test_bad_args_name_the_field_before_anything_is_registered(
    overrides: dict[str, Any], location: tuple[str, ...]
) -> None:
    args = {"namespace": "ml", "monthly_limit_usd": 800, **overrides}
    with pytest.raises(pydantic.ValidationError) as info:
        quota_caps(SpendBudgetArgs.model_validate(args))
    assert info.value.errors()[0]["loc"] == location
    with pytest.raises(ProgramError, match=location[-1]) as error:
        budget_stack(args)
    assert error.value.registered == []


def test_gpu_share_for_buys_exactly_the_gpus_asked_for() -> None:
    _, _, gpu = catalogue_rates()
    share = gpu_share_for(1, 1500)
    caps = quota_caps(SpendBudgetArgs(namespace="ml", monthly_limit_usd=1500, gpu_share_percent=share))
    assert caps.gpus == 1
    assert share == pytest.approx(float(MONTH_HOURS * gpu / 1500 * 100), abs=0.01)
    assert gpu_share_for(0, 1500) == 0
    with pytest.raises(ValueError, match="GPUs cost"):
        gpu_share_for(3, 1500)


# --- the budget from custom resources: find_budgets, cost-budget and budget-required -----------------


def custom_only(stack: CapturedStack) -> CapturedStack:
    """What a policy pack can rely on under `pulumi preview`: custom resources, no component inputs."""
    return dataclasses.replace(stack, resources=[r for r in stack.resources if r.custom])


@pytest.fixture(scope="module")
def k8s_prod() -> CapturedStack:
    return run_program(REPO / "stacks" / "platform", "k8s-prod")


def test_find_budgets_sees_one_budget_per_spend_budget_on_platform_k8s_prod(k8s_prod: CapturedStack) -> None:
    (component,) = k8s_prod.by_type(T_K8S_SPEND_BUDGET)
    budgets = [b for b in find_budgets(k8s_prod) if b.type in (T_K8S_SPEND_BUDGET, T_K8S_RESOURCE_QUOTA)]
    assert len(budgets) == 1  # the quota, not also the component
    (budget,) = budgets
    quota = next(r for r in k8s_prod.resources if r.urn == budget.urn)
    assert quota.parent == component.urn and budget.type == T_K8S_RESOURCE_QUOTA
    assert budget.monthly_usd == 12000  # Pulumi.k8s-prod.yaml: budget.monthly_limit_usd
    # from custom resources alone, the same budget
    assert find_budgets(custom_only(k8s_prod)) == budgets


def test_two_spend_budgets_are_two_budgets_and_a_bare_component_still_counts_once() -> None:
    def program() -> None:
        SpendBudget("a", {"namespace": "a", "monthly_limit_usd": 100})
        SpendBudget("b", {"namespace": "b", "monthly_limit_usd": 250})

    stack = plan(program, environment="prod")
    assert sorted(b.monthly_usd for b in find_budgets(stack)) == [100, 250]
    # a component whose inputs carry the amount (a policy view) but no annotated quota: one budget each
    legacy = dataclasses.replace(
        stack,
        resources=[
            dataclasses.replace(r, inputs={"monthly_limit_usd": 100 if r.name == "a" else 250})
            for r in stack.resources
            if r.type == T_K8S_SPEND_BUDGET
        ],
    )
    assert sorted((b.type, b.monthly_usd) for b in find_budgets(legacy)) == [
        (T_K8S_SPEND_BUDGET, 100),
        (T_K8S_SPEND_BUDGET, 250),
    ]
    # with their quotas back, the components add nothing: still one budget per SpendBudget
    both = dataclasses.replace(stack, resources=[*legacy.resources, *stack.by_type(QUOTA)])
    assert sorted((b.type, b.monthly_usd) for b in find_budgets(both)) == [(QUOTA, 100), (QUOTA, 250)]


def test_a_quota_budget_is_compared_with_the_kubernetes_spend(k8s_prod: CapturedStack) -> None:
    budgets = find_budgets(custom_only(k8s_prod))
    item = CostItem(
        "urn:pulumi:s::p::kubernetes:apps/v1:Deployment::big", "kubernetes:apps/v1:Deployment", 13000, 1, ""
    )
    [breach] = budget_breaches(Estimate(items=[item], budgets=budgets))
    assert (breach.cloud, breach.budget, breach.over) == ("kubernetes", 12000, 1000)


def test_budget_required_is_met_on_a_kubernetes_only_stack_from_custom_resources(tmp_path: Path) -> None:
    program = tmp_path / "demo"
    program.mkdir()
    (program / "Pulumi.yaml").write_text("name: demo\nruntime: python\n")
    (program / "Pulumi.prod.yaml").write_text("config:\n  demo:environment: prod\n")
    (program / "__main__.py").write_text(
        "import pulumi_kubernetes as k8s\n"
        "from mlops_infra.conventions import init_platform\n"
        "from mlops_infra.k8s.spend_budget import SpendBudget\n"
        'init_platform(environment="prod", owner="ml", costCenter="cc-1")\n'
        'labels = {"project": "demo", "environment": "prod", "owner": "ml", "cost-center": "cc-1"}\n'
        'k8s.apps.v1.Deployment("api", metadata={"namespace": "ml", "labels": labels}, spec={\n'
        '    "selector": {"match_labels": {"app": "a"}},\n'
        '    "template": {"metadata": {"labels": {"app": "a"}},\n'
        '                 "spec": {"containers": [{"name": "a", "image": "registry.example.com/a:1"}]}}})\n'
        'SpendBudget("spend", {"namespace": "ml", "monthly_limit_usd": 800})\n'
    )
    stack = run_program(program, "prod")
    rule = REGISTRY["budget-required"]
    assert stack_violations(rule, stack_view(stack), PolicyConfig()) == []
    assert stack_violations(rule, stack_view(custom_only(stack)), PolicyConfig()) == []
    assert [b.monthly_usd for b in find_budgets(custom_only(stack))] == [800]
    assert {r.type for r in stack.resources} >= {QUOTA, RULE, "kubernetes:apps/v1:Deployment"}
