"""The estimator: endpoint x autoscaling correlation, exact schedule counts, Vertex unpriced (grade N)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from textwrap import dedent

import pytest

from mlops_infra.cost.catalogue import MONTH_HOURS, load_catalogue
from mlops_infra.cost.estimate import estimate_stack
from mlops_infra.cost.runs import ScheduleError, runs_per_month
from mlops_infra.engine.runner import run_program

REPO = Path(__file__).resolve().parents[2]

ENDPOINT_PROGRAM = """\
import pulumi_aws as aws

config = aws.sagemaker.EndpointConfiguration(
    "serving-config",
    name="serving-config",
    production_variants=[{"variant_name": "main", "model_name": "m", "instance_type": "ml.m5.large",
                          "initial_instance_count": 1}],
)
endpoint = aws.sagemaker.Endpoint("serving", name="serving", endpoint_config_name=config.name)
aws.appautoscaling.Target(
    "serving-scaling",
    service_namespace="sagemaker",
    scalable_dimension="sagemaker:variant:DesiredInstanceCount",
    resource_id="endpoint/serving/variant/main",
    min_capacity=1,
    max_capacity=4,
)
"""


def _program(tmp_path: Path, text: str) -> Path:
    directory = tmp_path / "demo"
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text("name: demo\nruntime: python\n")
    (directory / "__main__.py").write_text(dedent(text))
    (directory / "Pulumi.prod.yaml").write_text("config:\n  demo:environment: prod\n  aws:region: us-east-1\n")
    return directory


def test_endpoint_worst_case_is_autoscaling_max_times_the_catalogue_price(tmp_path: Path) -> None:
    catalogue = load_catalogue()
    row = catalogue.price("aws", "sagemaker.hosting", "ml.m5.large", "us-east-1")
    assert row is not None and row.usd is not None
    estimate = estimate_stack(run_program(_program(tmp_path, ENDPOINT_PROGRAM), "prod"), catalogue)
    assert estimate.unpriced == []
    (item,) = estimate.items
    assert item.monthly_max == pytest.approx(4 * row.usd * MONTH_HOURS, rel=0.01)
    assert item.monthly_expected == pytest.approx(1 * row.usd * MONTH_HOURS, rel=0.01)
    assert f"4 x ml.m5.large x 730 h x ${row.usd}" in item.basis


def test_without_autoscaling_the_initial_count_is_both_cases(tmp_path: Path) -> None:
    program = ENDPOINT_PROGRAM.split("aws.appautoscaling", maxsplit=1)[0]
    estimate = estimate_stack(run_program(_program(tmp_path, program), "prod"), load_catalogue())
    (item,) = estimate.items
    assert item.monthly_max == item.monthly_expected == pytest.approx(0.115 * 730, rel=0.01)
    assert "initial instance count" in item.basis


def test_weekly_cron_runs_per_month_is_exact() -> None:
    # A 400-year Gregorian cycle is 20,871 weeks: exactly one Monday in seven days.
    assert runs_per_month("cron(0 3 ? * MON *)") == pytest.approx(30.4 / 7, abs=1e-12)
    assert runs_per_month("cron(0 3 ? * 2 *)") == runs_per_month("cron(0 3 ? * MON *)")  # AWS: 2 = Monday
    assert runs_per_month("cron(0 * ? * * *)") == pytest.approx(30.4 * 24)
    assert runs_per_month("rate(6 hours)") == pytest.approx(30.4 * 4)
    assert runs_per_month("cron(0 0 1 * ? *)") == pytest.approx(30.4 * 12 / 365.2425)


@pytest.mark.parametrize("expression", ["cron(0 0 L * ? *)", "at(2026-12-01T00:00:00)", "cron(0 0 * * ?)", "weekly"])
def test_uncountable_schedules_are_refused_with_a_reason(expression: str) -> None:
    with pytest.raises(ScheduleError):
        runs_per_month(expression)


def test_shipped_multi_prod_stack() -> None:
    estimate = estimate_stack(run_program(REPO / "stacks" / "platform", "multi-prod"), load_catalogue())
    by_type = {i.type: i for i in estimate.items}
    pipeline = by_type["aws:sagemaker/pipeline:Pipeline"]
    assert "cron(0 3 ? * MON *)" in pipeline.basis and "4.343 runs" in pipeline.basis
    assert "no spot discount" in pipeline.basis
    assert "aws:sagemaker/monitoringSchedule:MonitoringSchedule" in by_type
    # The platform's Vertex deployment runs in europe-west4: priced only when the catalogue has a row there.
    vertex = [u for u in estimate.unpriced if u.type == "pulumi-python:dynamic/vertex:VertexModelDeployment"]
    vertex_items = [i for i in estimate.items if i.type == "pulumi-python:dynamic/vertex:VertexModelDeployment"]
    assert len(vertex) + len(vertex_items) == 1
    assert all("europe-west4" in u.reason for u in vertex)
    assert all(i.basis for i in estimate.items)
    assert estimate.declared_budget == pytest.approx(12000 + 8000)
    assert estimate.catalogue_date == load_catalogue().date.isoformat()
    assert dt.date.fromisoformat(estimate.catalogue_date)


def test_kubernetes_workloads_use_opencost_rates_and_kserve_max_replicas() -> None:
    catalogue = load_catalogue()
    estimate = estimate_stack(run_program(REPO / "stacks" / "platform", "k8s-prod"), catalogue)
    (isvc,) = [i for i in estimate.items if i.type == "kubernetes:serving.kserve.io/v1beta1:InferenceService"]
    cpu = catalogue.price("k8s", "opencost.default", "cpu", "us-central1")
    ram = catalogue.price("k8s", "opencost.default", "ram", "us-central1")
    assert cpu is not None and ram is not None and cpu.usd is not None and ram.usd is not None
    assert isvc.monthly_max == pytest.approx(4 * (1 * cpu.usd + 4 * ram.usd) * 730, rel=0.01)
    assert isvc.monthly_expected == pytest.approx(2 * (1 * cpu.usd + 4 * ram.usd) * 730, rel=0.01)
    assert "kubernetes:argoproj.io/v1alpha1:CronWorkflow" in {i.type for i in estimate.items}
    assert estimate.unpriced == []


def test_two_budgets_on_the_same_scope_count_once_and_different_scopes_add_up() -> None:
    from mlops_infra.cost.model import Budget, effective_budget

    aws = "aws:budgets/budget:Budget"
    quota = "kubernetes:core/v1:ResourceQuota"
    same_scope = [Budget("a", aws, 1000, "all"), Budget("b", aws, 800, "all")]
    assert effective_budget(same_scope) == (800, ("b",))  # the tightest alert on the same money
    namespaces = [Budget("q1", quota, 300, "namespace=a"), Budget("q2", quota, 200, "namespace=b")]
    assert effective_budget(namespaces) == (500, ("q1", "q2"))


def test_the_gcp_budget_is_the_declared_budget() -> None:
    # One budget: its updates reach the critical route through BudgetAlerts (Cloud Billing notifies only e-mail
    # channels, so a second page-at-100 % budget could never page).
    estimate = estimate_stack(run_program(REPO / "stacks" / "gcp-vertex", "prod"), load_catalogue())
    gcp = [b for b in estimate.budgets if b.type == "gcp:billing/budget:Budget"]
    assert len(gcp) == 1
    assert estimate.declared_budget == gcp[0].monthly_usd
