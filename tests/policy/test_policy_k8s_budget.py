"""budget-required on Kubernetes: a stack that runs workloads declares a spend budget (SpendBudget or OpenCost rule)."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from policy_factories import K8S_LABELS, check_stack, findings, view
from typer.testing import CliRunner

from mlops_infra.cli import app
from mlops_infra.policy.model import Enforcement

RULE = "budget-required"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
runner = CliRunner()


def pod_template() -> dict[str, Any]:
    return {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "a", "image": "r.example.com/a:1"}]}}


def prometheus_rule(*exprs: str, alert: bool = True) -> dict[str, Any]:
    rules = [{"alert": f"A{i}", "expr": e} if alert else {"record": f"r{i}", "expr": e} for i, e in enumerate(exprs)]
    return {"metadata": {"labels": K8S_LABELS}, "spec": {"groups": [{"name": "g", "rules": rules}]}}


OPENCOST_EXPR = 'sum(container_cpu_allocation{namespace="ml"} * on(node) group_left() node_cpu_hourly_cost) * 730 > 800'
WORKLOADS = [
    ("kubernetes:apps/v1:Deployment", {"spec": {"template": pod_template()}}),
    ("kubernetes:apps/v1:StatefulSet", {"spec": {"template": pod_template()}}),
    ("kubernetes:batch/v1:Job", {"spec": {"template": pod_template()}}),
    ("kubernetes:batch/v1:CronJob", {"spec": {"jobTemplate": {"spec": {"template": pod_template()}}}}),
    (
        "kubernetes:serving.kserve.io/v1beta1:InferenceService",
        {"spec": {"predictor": {"model": {"modelFormat": {"name": "sklearn"}, "storageUri": "s3://m/1"}}}},
    ),
]


@pytest.mark.parametrize(("type_token", "props"), WORKLOADS, ids=[t.rsplit(":", 1)[1] for t, _ in WORKLOADS])
def test_kubernetes_only_stack_with_workloads_needs_a_spend_budget(type_token: str, props: dict[str, Any]) -> None:
    workload = view(type_token, {"metadata": {"labels": K8S_LABELS}, **props}, name="w")
    [missing] = findings(check_stack(RULE, workload))
    assert "1 Kubernetes workloads" in missing.message and "SpendBudget" in missing.message
    assert missing.enforcement is Enforcement.MANDATORY and missing.resource_type == "pulumi:pulumi:Stack"
    [dev] = findings(check_stack(RULE, workload, environment="dev"))
    assert dev.enforcement is Enforcement.ADVISORY
    component = view("mlops-infra:k8s:SpendBudget", {"namespace": "ml", "monthly_limit_usd": 800}, name="spend")
    assert check_stack(RULE, workload, component) == []
    assert check_stack(RULE, workload, view(PROMETHEUS_RULE, prometheus_rule(OPENCOST_EXPR), name="spend")) == []


@pytest.mark.parametrize(
    "rule",
    [
        prometheus_rule('sum(rate(http_requests_total{code="500"}[5m])) > 1'),  # not a cost metric
        prometheus_rule(OPENCOST_EXPR, alert=False),  # a recording rule alerts nobody
        {"metadata": {"labels": K8S_LABELS}, "spec": {"groups": []}},
    ],
)
def test_a_prometheus_rule_counts_only_when_it_alerts_on_opencost_cost_metrics(rule: dict[str, Any]) -> None:
    workload = view(*WORKLOADS[0], name="w")
    assert findings(check_stack(RULE, workload, view(PROMETHEUS_RULE, rule, name="r")))


def test_kubernetes_stacks_without_workloads_need_no_budget() -> None:
    namespace = view("kubernetes:core/v1:Namespace", {"metadata": {"name": "ml"}}, name="ns")
    config_map = view("kubernetes:core/v1:ConfigMap", {"data": {"a": "b"}}, name="cm")
    assert check_stack(RULE, namespace, config_map) == []


def test_cloud_budgets_do_not_stand_in_for_the_kubernetes_one() -> None:
    workload = view(*WORKLOADS[0], name="w")
    aws = view("aws:s3/bucket:Bucket", {}, name="b")
    budget = view("aws:budgets/budget:Budget", {"limitAmount": "100", "notifications": [{"threshold": 80}]}, name="bb")
    [finding] = findings(check_stack(RULE, workload, aws, budget))
    assert "Kubernetes" in finding.message


# --- through `mlops-infra check` ------------------------------------------------------------------

PROGRAM = """\
import pulumi_kubernetes as k8s
from mlops_infra.k8s.spend_budget import SpendBudget

labels = {"project": "demo", "environment": "prod", "owner": "ml", "cost-center": "cc-1"}
k8s.apps.v1.Deployment(
    "api",
    metadata={"namespace": "ml", "labels": labels},
    spec={
        "selector": {"match_labels": {"app": "a"}},
        "template": {"metadata": {"labels": {"app": "a"}},
                     "spec": {"containers": [{"name": "a", "image": "registry.example.com/a:1"}]}},
    },
)
BUDGET
"""


def _budget_violations(tmp_path: Path, budget: str) -> tuple[int, list[dict[str, Any]]]:
    directory = tmp_path / "demo"
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text("name: demo\nruntime: python\n")
    (directory / "__main__.py").write_text(dedent(PROGRAM).replace("BUDGET", budget))
    (directory / "Pulumi.prod.yaml").write_text("config:\n  demo:environment: prod\n")
    result = runner.invoke(app, ["check", str(directory), "--stack", "prod", "--format", "json"])
    violations = json.loads(result.stdout)["violations"]
    return result.exit_code, [v for v in violations if v["policy_id"] == RULE]


def test_check_fails_a_kubernetes_only_program_without_a_spend_budget(tmp_path: Path) -> None:
    code, violations = _budget_violations(tmp_path, "")
    assert code == 1
    assert [(v["enforcement"], v["resource_type"]) for v in violations] == [("mandatory", "pulumi:pulumi:Stack")]


def test_check_accepts_the_spend_budget_component(tmp_path: Path) -> None:
    budget = (
        "from mlops_infra.conventions import init_platform\n"
        'init_platform(environment="prod", owner="ml", costCenter="cc-1")\n'
        'SpendBudget("spend", {"namespace": "ml", "monthly_limit_usd": 800, "alert_at_percent": [80, 90, 100]})'
    )
    assert _budget_violations(tmp_path, budget)[1] == []
