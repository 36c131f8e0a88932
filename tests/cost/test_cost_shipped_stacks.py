"""Acceptance (issue 9): `mlops-infra cost` on every shipped stack prices every SageMaker/Vertex/KServe
serving and training resource -- 0 unpriced among them -- with a basis per item."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlops_infra.cli import app
from mlops_infra.cost.catalogue import load_catalogue
from mlops_infra.cost.estimate import estimate_stack
from mlops_infra.engine import CapturedStack

STACKS_ROOT = Path(__file__).resolve().parents[2] / "stacks"


def shipped_stacks() -> list[tuple[str, str]]:
    """(project directory, stack) of every Pulumi.<stack>.yaml of every project under stacks/."""
    return sorted(
        (project.name, config.name.split(".")[1])
        for project in STACKS_ROOT.iterdir()
        if (project / "Pulumi.yaml").is_file()
        for config in project.glob("Pulumi.*.yaml")
    )


# Serving: endpoints, Vertex deployments, InferenceServices, model-serving Deployments.
# Training: SageMaker pipelines, monitoring schedules, Vertex pipeline schedules/workflows (run fee + CustomJob
# step compute), CronJobs, CronWorkflows.
SERVING_AND_TRAINING = {
    "aws:sagemaker/endpoint:Endpoint",
    "aws:sagemaker/pipeline:Pipeline",
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule",
    "pulumi-python:dynamic/vertex:VertexModelDeployment",
    "pulumi-python:dynamic/vertex:VertexSchedule",
    "gcp:colab/schedule:Schedule",
    "gcp:cloudscheduler/job:Job",
    "gcp:workflows/workflow:Workflow",
    "kubernetes:serving.kserve.io/v1beta1:InferenceService",
    "kubernetes:apps/v1:Deployment",
    "kubernetes:batch/v1:Job",
    "kubernetes:batch/v1:CronJob",
    "kubernetes:argoproj.io/v1alpha1:CronWorkflow",
}


def test_the_shipped_stacks_are_all_listed() -> None:
    stacks = shipped_stacks()
    assert ("platform", "k8s-prod") in stacks and ("aws-sagemaker", "prod") in stacks
    assert len(stacks) == sum(len(list(p.glob("Pulumi.*.yaml"))) for p in STACKS_ROOT.iterdir() if p.is_dir())


@pytest.mark.parametrize(("project", "stack"), shipped_stacks(), ids=[f"{p}-{s}" for p, s in shipped_stacks()])
def test_every_serving_and_training_resource_is_priced(
    planned: Callable[[str, str], CapturedStack], project: str, stack: str
) -> None:
    estimate = estimate_stack(planned(project, stack), load_catalogue())
    unpriced = [f"{u.urn.rsplit('::', 1)[-1]}: {u.reason}" for u in estimate.unpriced if u.type in SERVING_AND_TRAINING]
    assert unpriced == []
    priced = [i for i in estimate.items if i.type in SERVING_AND_TRAINING]
    assert priced and all(i.basis for i in priced)


def test_the_cost_command_prints_a_basis_per_item_on_a_shipped_stack() -> None:
    result = CliRunner().invoke(
        app, ["cost", str(Path(STACKS_ROOT / "platform")), "--stack", "k8s-prod", "--format", "json"]
    )
    assert result.exit_code == 0
    cost = json.loads(result.stdout)["cost"]
    assert cost["items"] and all(i["basis"] for i in cost["items"])
    assert [u for u in cost["unpriced"] if u["type"] in SERVING_AND_TRAINING] == []
