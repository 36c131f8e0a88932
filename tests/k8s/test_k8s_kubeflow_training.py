"""Training on Kubeflow Pipelines: the 6-field cron, the compiled IR's gate, and the declared objects.

The IR is compiled once per module (kfp, about 1 s); the component is planned once. Manifests are
checked against the vendored KFP 2.17.0 schemas (k8s_checks.CRD_SOURCES), the IR against KFP's
PipelineSpec proto (what KFP's PipelineVersion webhook parses it with).
"""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import json_format
from k8s_checks import CRD_SOURCES, custom_problems, manifest, validate_core
from kfp.pipeline_spec import pipeline_spec_pb2
from pydantic import ValidationError

from mlops_infra.engine import CapturedStack
from mlops_infra.k8s.kubeflow_ir import EXECUTOR_CONFIG_FIELDS, KfpTrainingSteps, StepResources, training_ir
from mlops_infra.k8s.kubeflow_pipeline import KFP_VERSION, KubeflowTrainingPipeline, KubeflowTrainingPipelineArgs
from mlops_infra.k8s.kubeflow_schedule import kfp_cron
from mlops_infra.spec.schedule import Schedule, field_values
from mlops_infra.testing import one, plan

GATE = {
    "metric": "auc",
    "threshold": 0.8,
    "direction": "maximize",
    "tracking_uri": "http://churn-prod-registry.churn-ns.svc.cluster.local:5000",
    "registered_model": "churn",
    "approval_mode": "automatic",
}
ARGS: dict[str, Any] = {
    "namespace": "churn-ns",
    "image": "ghcr.io/acme/churn-train:1.8.3",
    "command": ["python", "-m", "churn.train"],
    "args": ["--epochs=3"],
    "env": {"MLFLOW_EXPERIMENT_NAME": "churn"},
    "gate": GATE,
    "schedule": {"cron": "0 3 * * 1", "time_zone": "UTC"},
    "active_deadline_seconds": 7200,
}
BASE = "churn-prod-training"
SWF = "kubernetes:kubeflow.org/v1beta1:ScheduledWorkflow"
VERSION = "kubernetes:pipelines.kubeflow.org/v2beta1:PipelineVersion"
PIPELINE = "kubernetes:pipelines.kubeflow.org/v2beta1:Pipeline"


@pytest.fixture(scope="module")
def stack() -> CapturedStack:
    return plan(lambda: KubeflowTrainingPipeline("training", ARGS), environment="prod")


@pytest.fixture(scope="module")
def version(stack: CapturedStack) -> dict[str, Any]:
    return one(stack, VERSION).inputs


@pytest.fixture(scope="module")
def ir(version: dict[str, Any]) -> dict[str, Any]:
    return version["spec"]["pipelineSpec"]


# --- the schedule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "kfp"),
    [
        ("0 3 * * *", "0 0 3 * * *"),
        ("30 2 * * 1-5", "0 30 2 * * 1-5"),
        ("*/15 * * * *", "0 */15 * * * *"),
        ("0 6 1 JAN,JUL MON", "0 0 6 1 JAN,JUL MON"),
        ("0 4 * * 7", "0 0 4 * * 0"),  # robfig/cron's day of week is 0-6: Sunday is 0
        ("0 4 * * 5-7", "0 0 4 * * 0,5,6"),
        ("0 4 1 * */2", "0 0 4 1 * */2"),  # a *-field keeps cron's day-of-month OR day-of-week rule
    ],
)
def test_the_five_field_cron_becomes_six_fields_seconds_first(cron: str, kfp: str) -> None:
    converted = kfp_cron(Schedule(cron=cron))
    assert converted == kfp
    second, *fields = converted.split()
    assert second == "0" and len(fields) == 5
    # Same instants: every field matches the same values (day of week 7 folded onto 0).
    for index, (before, after) in enumerate(zip(cron.split(), fields, strict=True)):
        wanted = field_values(before, index)
        if index == 4 and not before.startswith("*"):
            wanted = {day % 7 for day in wanted}
        got = field_values(after, index)
        assert got == wanted and (index != 4 or before.startswith("*") or max(got) <= 6)


def test_a_schedule_in_another_zone_than_the_controller_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        KubeflowTrainingPipelineArgs.model_validate(
            {**ARGS, "schedule": {"cron": "0 3 * * 1", "time_zone": "Europe/Berlin"}}
        )
    message = str(info.value)
    assert "CRON_SCHEDULE_TIMEZONE" in message and "'UTC'" in message and "'Europe/Berlin'" in message
    accepted = KubeflowTrainingPipelineArgs.model_validate(
        {
            **ARGS,
            "schedule": {"cron": "0 3 * * 1", "time_zone": "Europe/Berlin"},
            "controller_time_zone": "Europe/Berlin",
        }
    )
    assert accepted.controller_time_zone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"schedule": {"cron": "0 0 3 * * *"}}, "must have 5 fields"),
        ({"schedule": {"cron": "@daily"}}, "not a 5-field cron expression"),
        ({"schedule": {"cron": "0 0 31 2 *"}}, "never fires"),
        ({"controller_time_zone": "Mars/Olympus"}, "not an IANA time zone"),
        ({"command": []}, "command"),
        ({"max_concurrency": 11}, "max_concurrency"),
        ({"env": {"1BAD": "x"}}, "not an environment variable name"),
    ],
)
def test_bad_arguments_are_refused_by_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        KubeflowTrainingPipelineArgs.model_validate({**ARGS, **changes})


# --- the compiled IR ----------------------------------------------------------------------------


def test_the_ir_is_a_valid_pipeline_spec(ir: dict[str, Any]) -> None:
    parsed = json_format.ParseDict(ir, pipeline_spec_pb2.PipelineSpec())  # unknown fields fail
    assert parsed.pipeline_info.name == BASE
    assert ir["schemaVersion"] == "2.1.0"


def test_register_runs_only_when_the_metric_passes(ir: dict[str, Any]) -> None:
    tasks = ir["root"]["dag"]["tasks"]
    assert set(tasks) == {"train", "evaluate", "condition-1"}
    assert tasks["evaluate"]["dependentTasks"] == ["train"]
    assert tasks["evaluate"]["inputs"]["parameters"]["run_id"]["taskOutputParameter"] == {
        "outputParameterKey": "run_id",
        "producerTask": "train",
    }
    gate = tasks["condition-1"]
    assert "evaluate" in gate["dependentTasks"]
    assert gate["triggerPolicy"]["condition"] == "inputs.parameter_values['pipelinechannel--evaluate-metric'] >= 0.8"
    assert gate["inputs"]["parameters"]["pipelinechannel--evaluate-metric"]["taskOutputParameter"] == {
        "outputParameterKey": "metric",
        "producerTask": "evaluate",
    }
    inner = ir["components"]["comp-condition-1"]["dag"]["tasks"]
    assert list(inner) == ["register"]  # register exists only inside the gate
    assert inner["register"]["inputs"]["parameters"]["metric"] == {
        "componentInputParameter": "pipelinechannel--evaluate-metric"
    }
    assert ir["components"]["comp-evaluate"]["outputDefinitions"]["parameters"]["metric"]["parameterType"] == (
        "NUMBER_DOUBLE"
    )


def test_minimize_gates_with_less_or_equal() -> None:
    resources = StepResources("50m", "500m", "64Mi", "256Mi")
    steps = KfpTrainingSteps(
        name="loss-gate", image="ghcr.io/acme/train:1.0", command=("python", "-m", "train"), args=(), env=(),
        resources=resources, retries=0, metric="rmse", threshold=0.25, direction="minimize",
        tracking_uri="http://mlflow:5000", registered_model="m", approval_mode="manual", approved_alias="champion",
        model_artifact_path="model", gate_image="python:3.12.8-slim", gate_resources=resources, deadline_seconds=600,
    )  # fmt: skip
    condition = training_ir(steps)["root"]["dag"]["tasks"]["condition-1"]["triggerPolicy"]["condition"]
    assert condition == "inputs.parameter_values['pipelinechannel--evaluate-metric'] <= 0.25"


def test_steps_run_the_training_command_and_the_shipped_gate_script(ir: dict[str, Any]) -> None:
    executors = ir["deploymentSpec"]["executors"]
    train = executors["exec-train"]["container"]
    # KFP's launcher replaces the entrypoint: the command is explicit, the run-id file reaches it as env.
    assert train["command"][:3] == ["sh", "-c", 'export MLOPS_RUN_ID_FILE="$0"; exec "$@"']
    assert train["command"][3] == "{{$.outputs.parameters['run_id'].output_file}}"
    assert train["command"][4:] == ["python", "-m", "churn.train"] and train["args"] == ["--epochs=3"]
    assert train["image"] == "ghcr.io/acme/churn-train:1.8.3"
    env = {e["name"]: e["value"] for e in train["env"]}
    assert env == {"HOME": "/tmp", "MLFLOW_EXPERIMENT_NAME": "churn"}
    assert train["resources"]["resourceCpuLimit"] == "4" and train["resources"]["resourceMemoryLimit"] == "16Gi"
    assert train["resources"]["accelerator"]["resourceType"] == "nvidia.com/gpu"
    evaluate = executors["exec-evaluate"]["container"]
    assert evaluate["image"] == "python:3.12.8-slim" and evaluate["command"][-1] == (
        "{{$.outputs.parameters['metric'].output_file}}"
    )
    assert evaluate["command"][3].startswith('"""The evaluate and register steps')
    register = executors["exec-register"]["container"]
    assert register["command"][-1] == "{{$.inputs.parameters['metric']}}"
    register_env = {e["name"]: e["value"] for e in register["env"]}
    assert register_env["APPROVAL_MODE"] == "automatic" and register_env["REGISTERED_MODEL"] == "churn"
    assert register_env["MLFLOW_TRACKING_URI"] == GATE["tracking_uri"]
    tasks = ir["root"]["dag"]["tasks"]
    assert tasks["train"]["retryPolicy"]["maxRetryCount"] == 2
    assert all(t.get("cachingOptions") == {} for t in tasks.values() if "cachingOptions" in t)  # no cache replay


def test_the_platform_spec_hardens_every_step(version: dict[str, Any], ir: dict[str, Any]) -> None:
    executors = version["spec"]["platformSpec"]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert set(executors) == set(ir["deploymentSpec"]["executors"])
    for config in executors.values():
        assert set(config) <= EXECUTOR_CONFIG_FIELDS
        assert config["securityContext"] == {"runAsUser": 10001, "runAsGroup": 10001, "runAsNonRoot": True}
        assert config["podMetadata"]["labels"]["app.kubernetes.io/component"] == "training"
    assert executors["exec-train"]["activeDeadlineSeconds"] == 7200
    json_format.ParseDict(version["spec"]["platformSpec"], pipeline_spec_pb2.PlatformSpec())


# --- the declared objects -----------------------------------------------------------------------


def test_manifests_validate_against_the_vendored_schemas(stack: CapturedStack) -> None:
    kinds = {r.type for r in stack.custom_resources() if r.package == "kubernetes"}
    assert {PIPELINE, VERSION, SWF} <= kinds
    for kind in (PIPELINE, VERSION, SWF):
        assert custom_problems(manifest(one(stack, kind))) == []
    assert validate_core(stack, "1.33.0") == []
    assert all(
        f"@ {KFP_VERSION} " in CRD_SOURCES[kind] for kind in ("Pipeline", "PipelineVersion", "ScheduledWorkflow")
    )
    # The schemas are not vacuous.
    broken = manifest(one(stack, SWF))
    broken["spec"]["maxConcurrency"] = 11
    broken["spec"]["trigger"]["cron"] = "0 0 3 * * *"
    assert len(custom_problems(broken)) == 2
    del broken["status"]
    assert any("'status' is a required property" in p for p in custom_problems(broken))


def test_the_recurring_run_points_at_the_version_on_a_six_field_cron(
    stack: CapturedStack, version: dict[str, Any]
) -> None:
    swf = one(stack, SWF).inputs
    spec = swf["spec"]
    assert swf["metadata"]["name"] == BASE and swf["status"] == {}
    assert spec["trigger"] == {"cronSchedule": {"cron": "0 0 3 * * 1"}}
    assert (spec["enabled"], spec["maxConcurrency"], spec["noCatchup"], spec["maxHistory"]) == (True, 1, True, 10)
    assert spec["serviceAccount"] == BASE
    name = version["metadata"]["name"]
    assert name.startswith(f"{BASE}-") and len(name) == len(BASE) + 11
    assert spec["pipelineName"] == name and version["spec"]["pipelineName"] == BASE
    assert one(stack, PIPELINE).inputs["metadata"]["name"] == BASE
    assert {"pipelineId", "pipelineVersionId"} <= set(spec)  # the objects' UIDs once created


def test_the_run_identity_has_a_least_privilege_role(stack: CapturedStack) -> None:
    role = one(stack, "kubernetes:rbac.authorization.k8s.io/v1:Role").inputs
    assert role["rules"] == [
        {"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"], "verbs": ["create", "patch"]},
        {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["kfp-launcher"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["mlpipeline-minio-artifact"], "verbs": ["get"]},
    ]
    binding = one(stack, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding").inputs
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": BASE, "namespace": "churn-ns"}]
    account = one(stack, "kubernetes:core/v1:ServiceAccount").inputs
    assert account["automountServiceAccountToken"] is True  # KFP's driver and Argo's executor call the API
    assert account["metadata"]["annotations"]["mlops-infra/uses-kubernetes-api"] == "true"


def test_a_new_ir_is_a_new_version(stack: CapturedStack, version: dict[str, Any]) -> None:
    changed = plan(lambda: KubeflowTrainingPipeline("training", {**ARGS, "args": ["--epochs=4"]}), environment="prod")
    assert one(changed, VERSION).inputs["metadata"]["name"] != version["metadata"]["name"]
    assert one(changed, VERSION).urn == one(stack, VERSION).urn  # same resource, replaced (the spec is immutable)
