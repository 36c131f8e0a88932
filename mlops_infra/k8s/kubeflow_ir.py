"""The Kubernetes training pipeline as Kubeflow Pipelines v2 IR: train -> evaluate -> register if the metric passes.

The same steps as the Argo WorkflowTemplate (:mod:`mlops_infra.k8s.training_pipeline`): the training
container writes its MLflow run id to ``$MLOPS_RUN_ID_FILE``; ``evaluate`` reads the run's gate metric
from MLflow (:mod:`mlops_infra.k8s.training_gate_step`); ``register`` runs inside a ``dsl.If`` on that
metric (``>=`` to maximize, ``<=`` to minimize).

KFP's launcher replaces the image's entrypoint (the user's command runs after ``launch --``), so the
training step needs an explicit ``command``; output paths reach a step only through its command line,
so each step runs under ``sh -c`` that exports them into the environment the scripts already read.

kfp is imported only when a pipeline is compiled (about 2 s), never to validate arguments; nor is
:mod:`mlops_infra.gcp` (pulumi_gcp) imported here.
"""

# ruff: noqa: PLC0415 - kfp loads only when a pipeline is compiled.
# No `from __future__ import annotations`: kfp reads the step functions' annotations as objects.

import functools
from dataclasses import dataclass
from typing import Any

from mlops_infra.k8s.training_pipeline import COMPARISON, gate_step_source
from mlops_infra.k8s.workload import DEFAULT_UID, GPU_RESOURCE

GATE_STEP_DEADLINE_SECONDS = 1800  # evaluate/register: two MLflow REST calls each, with retries
# KubernetesExecutorConfig fields this module writes (kubernetes_platform/proto/kubernetes_executor_config.proto
# @ KFP 2.17.0, protojson names): the tests check the platform spec against this list.
EXECUTOR_CONFIG_FIELDS = frozenset({"activeDeadlineSeconds", "podMetadata", "securityContext"})

# $0 is the run-id output file; "$@" the training command and arguments.
TRAIN_WRAPPER = 'export MLOPS_RUN_ID_FILE="$0"; exec "$@"'
# $0 is the gate script; $1 the run id; $2 the metric output file (evaluate) or value (register).
EVALUATE_WRAPPER = 'export RUN_ID="$1" OUTPUT_FILE="$2"; exec python3 -c "$0" evaluate'
REGISTER_WRAPPER = 'export RUN_ID="$1" GATE_VALUE="$2"; exec python3 -c "$0" register'


@dataclass(frozen=True)
class StepResources:
    """CPU (cores) and memory (bytes, Kubernetes quantities) of one step; GPUs as ``nvidia.com/gpu``."""

    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str
    gpus: int = 0


@dataclass(frozen=True)
class KfpTrainingSteps:
    """Everything the IR depends on (hashable: compiled once per distinct value)."""

    name: str
    image: str
    command: tuple[str, ...]
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    resources: StepResources
    retries: int
    metric: str
    threshold: float
    direction: str
    tracking_uri: str
    registered_model: str
    approval_mode: str
    approved_alias: str
    model_artifact_path: str
    gate_image: str
    gate_resources: StepResources
    deadline_seconds: int
    labels: tuple[tuple[str, str], ...] = ()
    run_as_user: int = DEFAULT_UID


def _sized(task: Any, resources: StepResources) -> Any:
    task.set_cpu_request(resources.cpu_request).set_cpu_limit(resources.cpu_limit)
    task.set_memory_request(resources.memory_request).set_memory_limit(resources.memory_limit)
    if resources.gpus:
        task.set_accelerator_type(GPU_RESOURCE).set_accelerator_limit(resources.gpus)
    # Every scheduled run trains anew: KFP's cache would replay the first run's outputs.
    return task.set_caching_options(False)


def _with_env(task: Any, env: dict[str, str]) -> Any:
    for name, value in sorted(env.items()):
        task.set_env_variable(name, value)
    return task


def pipeline_function(steps: KfpTrainingSteps) -> Any:
    """The ``@dsl.pipeline`` function of ``steps`` (kfp imported here)."""
    from kfp import dsl

    source = gate_step_source()

    @dsl.container_component  # type: ignore[untyped-decorator]
    def train(run_id: dsl.OutputPath(str)) -> dsl.ContainerSpec:  # type: ignore[valid-type]
        return dsl.ContainerSpec(
            image=steps.image, command=["sh", "-c", TRAIN_WRAPPER, run_id, *steps.command], args=list(steps.args)
        )

    @dsl.container_component  # type: ignore[untyped-decorator]
    def evaluate(run_id: str, metric: dsl.OutputPath(float)) -> dsl.ContainerSpec:  # type: ignore[valid-type]
        return dsl.ContainerSpec(image=steps.gate_image, command=["sh", "-c", EVALUATE_WRAPPER, source, run_id, metric])

    @dsl.container_component  # type: ignore[untyped-decorator]
    def register(run_id: str, metric: float) -> dsl.ContainerSpec:
        return dsl.ContainerSpec(image=steps.gate_image, command=["sh", "-c", REGISTER_WRAPPER, source, run_id, metric])

    gate_env = {
        "HOME": "/tmp",  # noqa: S108 - a writable HOME for Python, as in the Argo gate steps
        "PYTHONDONTWRITEBYTECODE": "1",
        "MLFLOW_TRACKING_URI": steps.tracking_uri,
        "GATE_METRIC": steps.metric,
    }
    register_env = {
        **gate_env,
        "REGISTERED_MODEL": steps.registered_model,
        "MODEL_ARTIFACT_PATH": steps.model_artifact_path,
        "APPROVAL_MODE": steps.approval_mode,
        "APPROVED_ALIAS": steps.approved_alias,
    }

    @dsl.pipeline(  # type: ignore[untyped-decorator]
        name=steps.name, description="train -> evaluate -> register when the gate metric passes"
    )
    def training() -> None:
        trained = _with_env(_sized(train(), steps.resources), dict(steps.env)).set_retry(num_retries=steps.retries)
        trained.set_display_name("train")
        evaluated = _with_env(_sized(evaluate(run_id=trained.output), steps.gate_resources), gate_env)
        evaluated.set_display_name("evaluate").set_retry(num_retries=2)
        passed = (
            evaluated.output >= steps.threshold
            if COMPARISON[steps.direction] == ">="
            else evaluated.output <= steps.threshold
        )
        with dsl.If(passed, name="metric-passes"):
            registered = register(run_id=trained.output, metric=evaluated.output)
            _with_env(_sized(registered, steps.gate_resources), register_env).set_display_name("register")

    return training


def platform_spec(steps: KfpTrainingSteps) -> dict[str, Any]:
    """The PipelineVersion's ``platformSpec``: per step, what kfp-kubernetes would write (no kfp needed).

    - ``securityContext``: a fixed non-root uid/gid (KFP 2.17's compiler already sets ``runAsNonRoot``,
      RuntimeDefault seccomp, ``allowPrivilegeEscalation: false`` and drops every capability).
    - ``activeDeadlineSeconds``: the train step's hard wall-clock limit; the gate steps' own.
    - ``podMetadata.labels``: the platform's labels, so the namespace's NetworkPolicies (MLflow admits
      training pods) and cost reports see the steps' pods.
    """
    security = {"runAsUser": steps.run_as_user, "runAsGroup": steps.run_as_user, "runAsNonRoot": True}
    labels = {"labels": dict(steps.labels)}

    def executor(deadline: int) -> dict[str, Any]:
        return {"securityContext": security, "activeDeadlineSeconds": deadline, "podMetadata": labels}

    executors = {
        "exec-train": executor(steps.deadline_seconds),
        "exec-evaluate": executor(GATE_STEP_DEADLINE_SECONDS),
        "exec-register": executor(GATE_STEP_DEADLINE_SECONDS),
    }
    return {"platforms": {"kubernetes": {"deploymentSpec": {"executors": executors}}}}


@functools.lru_cache(maxsize=16)
def training_ir(steps: KfpTrainingSteps) -> dict[str, Any]:
    """The compiled PipelineSpec (KFP v2 IR) of ``steps`` as JSON; compiled once per distinct value.

    The ``@dsl.pipeline`` component carries its PipelineSpec proto: the same document the kfp compiler
    writes, without a file round trip (and without :mod:`mlops_infra.gcp`, which loads pulumi_gcp).
    """
    from google.protobuf import json_format  # type: ignore[import-untyped]

    spec: dict[str, Any] = json_format.MessageToDict(pipeline_function(steps).pipeline_spec)
    return spec
