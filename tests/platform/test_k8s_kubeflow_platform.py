"""training.orchestrator kubeflow realized on Kubernetes: the churn spec's training as a KFP pipeline.

One prod plan (stacks/platform/platform.yaml with overrides, tests/platform/test_k8s_realize.py): the
KFP objects replace the CronJob/Argo ones, every manifest validates, and the mandatory policy rules
(k8s-pod-security, k8s-namespace-guardrails, ...) find nothing; then what check refuses.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from mlops_infra.engine import CapturedStack
from mlops_infra.policy.config import load_policy_config
from mlops_infra.policy.evaluate import evaluate_view, stack_view
from mlops_infra.policy.rules import REGISTRY

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "k8s"))
from k8s_checks import core_objects, manifest, stack_hardening_problems, validate_custom
from test_k8s_realize import by_kind, churn_spec, realize, refused

KUBEFLOW = {"command": ["python", "-m", "churn.train"]}
UTC_SCHEDULE = {"cron": "0 3 * * 1", "time_zone": "UTC"}


def kubeflow_spec(**changes: Any) -> dict[str, Any]:
    spec = churn_spec(
        **{
            "training.orchestrator": "kubeflow",
            "training.schedule": UTC_SCHEDULE,
            "training.retrain_on_drift": False,
            **changes,
        }
    )
    spec["k8s"]["kubeflow"] = dict(KUBEFLOW)
    return spec


@pytest.fixture(scope="module")
def stack() -> CapturedStack:
    return realize(kubeflow_spec(), environment="prod")


def test_training_is_a_kfp_pipeline_version_and_recurring_run(stack: CapturedStack) -> None:
    schedules = by_kind(stack, "CronJob") + by_kind(stack, "CronWorkflow")
    assert [r for r in schedules if r.inputs["metadata"]["labels"]["app.kubernetes.io/component"] == "training"] == []
    (swf,) = by_kind(stack, "ScheduledWorkflow")
    (version,) = by_kind(stack, "PipelineVersion")
    (pipeline,) = by_kind(stack, "Pipeline")
    assert swf.inputs["spec"]["trigger"]["cronSchedule"]["cron"] == "0 0 3 * * 1"
    assert swf.inputs["spec"]["pipelineName"] == version.inputs["metadata"]["name"]
    assert version.inputs["spec"]["pipelineName"] == pipeline.inputs["metadata"]["name"]
    ir = version.inputs["spec"]["pipelineSpec"]
    train = ir["deploymentSpec"]["executors"]["exec-train"]["container"]
    assert train["command"][4:] == ["python", "-m", "churn.train"]
    assert train["image"].startswith("ghcr.io/example/churn-train@sha256:")
    # the spec's gate and MLflow: register only when auc >= 0.8
    condition = ir["root"]["dag"]["tasks"]["condition-1"]["triggerPolicy"]["condition"]
    assert condition.endswith("['pipelinechannel--evaluate-metric'] >= 0.8")
    register = ir["deploymentSpec"]["executors"]["exec-register"]["container"]
    env = {e["name"]: e["value"] for e in register["env"]}
    assert env["REGISTERED_MODEL"] == "churn" and env["MLFLOW_TRACKING_URI"].startswith("http://")
    executors = version.inputs["spec"]["platformSpec"]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert executors["exec-train"]["activeDeadlineSeconds"] == 7200  # training.max_runtime_seconds


def test_manifests_validate_and_the_guardrails_pass(stack: CapturedStack) -> None:
    # The training component's core objects (the rest of the platform: test_k8s_platform_manifests.py).
    training = [r for r in core_objects(stack) if "KubeflowTrainingPipeline" in r.urn]
    assert {r.type.split(":")[-1] for r in training} == {"ServiceAccount", "Role", "RoleBinding"}
    for resource in training:
        kubernetes_validate.validate(manifest(resource), "1.33.0", strict=True)
    assert validate_custom(stack) == []
    assert stack_hardening_problems(stack) == []
    rules = [REGISTRY[rule] for rule in ("k8s-pod-security", "k8s-namespace-guardrails", "least-privilege-iam")]
    assert evaluate_view(stack_view(stack), load_policy_config(None), rules) == []
    assert by_kind(stack, "Namespace") and by_kind(stack, "ResourceQuota")  # the guardrails had a namespace to check


@pytest.mark.parametrize(
    ("changes", "drop_kubeflow", "message"),
    [
        ({}, True, "k8s.kubeflow: training.orchestrator kubeflow needs k8s.kubeflow.command"),
        (
            {"training.schedule": {"cron": "0 3 * * 1", "time_zone": "Europe/Berlin"}},
            False,
            "training.schedule.time_zone: Kubeflow Pipelines reads every recurring run's cron in one zone",
        ),
        ({"training.retrain_on_drift": True}, False, "training.retrain_on_drift: the drift detector starts"),
    ],
)
def test_check_refuses_what_kfp_cannot_do(changes: dict[str, Any], drop_kubeflow: bool, message: str) -> None:
    spec = kubeflow_spec(**changes)
    if drop_kubeflow:
        del spec["k8s"]["kubeflow"]
    assert message in refused(spec)
