"""Scheduled and on-demand training: Argo CronWorkflow + WorkflowTemplate, or CronJobs.

With ``argo_enabled`` a WorkflowTemplate holds the hardened training step (retries =
``backoff_limit``, ``activeDeadlineSeconds``) and a CronWorkflow runs it on the schedule; the
monitoring loop retrains on demand with ``argo submit --from workflowtemplate/<name>``.
Without Argo, a batch/v1 CronJob runs on the schedule and a second, suspended CronJob is
the on-demand template (``kubectl create job --from=cronjob/<name>``).

With ``gate`` (Argo only) the WorkflowTemplate is ``train -> evaluate -> register``: the training
container writes its MLflow run id to ``MLOPS_RUN_ID_FILE`` (an output parameter); ``evaluate``
reads the run's gate metric from MLflow's REST API into its ``metric`` output; ``register`` runs
only ``when`` that metric meets the threshold (``>=`` to maximize, ``<=`` to minimize), creating the
model version and, in automatic approval, moving the approved alias. The gate steps are built by
the same hardened pod builder, in a pinned standard-library Python image
(:mod:`mlops_infra.k8s.training_gate_step`). Without Argo the training code applies the gate itself
(``MLOPS_GATE_*`` env). Both forbid
concurrent runs and keep a bounded history. The ServiceAccount is namespaced; under Argo it
may only write WorkflowTaskResults (what the executor needs), and it gets an API token only
then. Note: the executor's API calls need egress to the API server (covered by HTTPS egress
on 443; add the API server's CIDR if it listens elsewhere).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, ValidationInfo, field_validator

from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.conventions.markers import USES_KUBERNETES_API_MARKER
from mlops_infra.k8s import labels as lbl
from mlops_infra.k8s import network, objects
from mlops_infra.k8s.workload import (
    ARGO_API,
    ComputeResources,
    Container,
    RunPolicy,
    SecretEnv,
    argo_container_template,
    argo_cron_workflow_spec,
    argo_workflow_spec,
    cron_job_spec,
    pod_spec,
)
from mlops_infra.spec.base import Spec, StrInput, Switch
from mlops_infra.spec.schedule import Schedule
from mlops_infra.spec.types import PinnedImage

# CronJob and CronWorkflow names are limited to 52 characters (runs append a suffix); the base
# name leaves room for "-on-demand".
SCHEDULE_BASE_NAME = naming.NameRule(42, r"a-z0-9-", lowercase=True)
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
GATE_IMAGE = "python:3.12.8-slim"
RUN_ID_FILE = "/tmp/mlops-run-id"  # noqa: S108 - the train container's emptyDir scratch
METRIC_FILE = "/tmp/gate-metric"  # noqa: S108 - the evaluate container's emptyDir scratch
ENTRYPOINT = "train-evaluate-register"
COMPARISON = {"maximize": ">=", "minimize": "<="}


def gate_step_source() -> str:
    """The evaluate/register script, exactly as the gate steps run it (``python3 -c``)."""
    return Path(__file__).with_name("training_gate_step.py").read_text(encoding="utf-8")


class TrainingGate(Spec):
    """Register into MLflow only when the run's metric meets the threshold (Argo only).

    The training container writes its MLflow run id to ``MLOPS_RUN_ID_FILE``; the evaluate step
    reads the run's ``metric`` from MLflow; the register step runs only when it passes.
    """

    metric: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$", description="Metric the training run logs.")
    threshold: float
    direction: Literal["maximize", "minimize"] = Field("maximize", description="maximize: >= passes; minimize: <=.")
    tracking_uri: StrInput = Field(description="MLflow's in-cluster tracking URI.")
    registered_model: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
    approval_mode: Literal["manual", "automatic"] = Field(
        "manual", description="automatic: the approved alias moves to the new version; manual: a person moves it."
    )
    approved_alias: str = Field("champion", pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
    model_artifact_path: str = Field("model", pattern=r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,127}$")
    image: PinnedImage = Field(GATE_IMAGE, description="Python 3 image, pinned (standard library only).")
    resources: ComputeResources = Field(
        default_factory=lambda: ComputeResources(
            cpu_request="50m", cpu_limit="500m", memory_request="64Mi", memory_limit="256Mi"
        )
    )

    @property
    def when(self) -> str:
        """Argo's ``when`` of the register step: the evaluate step's metric against the threshold."""
        return f"{{{{steps.evaluate.outputs.parameters.metric}}}} {COMPARISON[self.direction]} {self.threshold!r}"


class SecretRef(Spec):
    """An env var read from an existing Secret key (e.g. MLflow or storage credentials)."""

    env: str = Field(pattern=ENV_NAME)
    secret_name: StrInput
    key: str = Field(min_length=1, max_length=253, pattern=r"^[-._a-zA-Z0-9]+$")


class TrainingPipelineArgs(Spec):
    """Settings of a scheduled training job; limits in seconds and run counts."""

    namespace: StrInput
    image: PinnedImage = Field(description="Training image, pinned by version tag or digest.")
    command: list[str] = Field(default_factory=list)
    args: list[str] = Field(default_factory=list)
    env: dict[str, StrInput] = Field(default_factory=dict, description="Plain settings only; secrets go in secret_env.")
    secret_env: list[SecretRef] = Field(default_factory=list)
    schedule: Schedule = Field(
        default_factory=lambda: Schedule(cron="0 3 * * *"),
        description="5-field cron read in time_zone (macros like @daily are refused: write 0 0 * * *).",
    )
    argo_enabled: Switch = Field(
        False, description="Argo Workflows CronWorkflow + WorkflowTemplate instead of CronJobs."
    )
    resources: ComputeResources = Field(
        default_factory=lambda: ComputeResources(
            cpu_request="2", cpu_limit="4", memory_request="8Gi", memory_limit="16Gi", gpus=1
        ),
        description="Per training pod; default one GPU (set gpus=0 for CPU-only training).",
    )
    backoff_limit: int = Field(2, ge=0, le=10, description="Retries of a failed run.")
    active_deadline_seconds: int = Field(14_400, ge=60, le=604_800, description="Hard wall-clock limit of a run.")
    starting_deadline_seconds: int = Field(600, ge=10, le=86_400, description="A run missed by more is skipped.")
    successful_history_limit: int = Field(3, ge=0, le=50)
    failed_history_limit: int = Field(5, ge=1, le=50)
    suspend: Switch = Field(False, description="Pause the schedule (the on-demand template still works).")
    writable_paths: list[str] = Field(default_factory=lambda: ["/tmp"])  # noqa: S108 - emptyDir scratch
    service_account_annotations: dict[str, str] = Field(default_factory=dict)
    https_egress_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0"], min_length=1)
    gate: TrainingGate | None = Field(
        None, description="Argo: train -> evaluate -> register only when the metric passes (needs argo_enabled)."
    )

    @field_validator("gate")
    @classmethod
    def _gate_needs_argo(cls, gate: TrainingGate | None, info: ValidationInfo) -> TrainingGate | None:
        if gate is not None and not info.data.get("argo_enabled"):
            raise ValueError("the gate steps run under Argo: set argo_enabled (CronJobs rely on the training code)")
        return gate

    @field_validator("env")
    @classmethod
    def _env_names(cls, env: dict[str, StrInput]) -> dict[str, StrInput]:
        for key in env:
            if not re.match(ENV_NAME, key):
                raise ValueError(f"{key!r} is not an environment variable name")
        return env


class TrainingPipeline(PlatformComponent[TrainingPipelineArgs]):
    """A scheduled training run plus an on-demand template the monitoring loop can trigger."""

    TYPE_TOKEN = "mlops-infra:k8s:TrainingPipeline"
    ARGS = TrainingPipelineArgs

    def __init__(
        self,
        name: str,
        args: TrainingPipelineArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        ns = a.namespace
        self.base: str = self.platform.name(name, SCHEDULE_BASE_NAME)
        part_of = self.platform.settings.project
        self.labels: dict[str, str] = lbl.standard_labels("training", self.base, lbl.TRAINING, part_of)
        self.service_account = objects.run_service_account(
            self, self.base, ns, self.labels, a.service_account_annotations, argo=a.argo_enabled
        )
        sa_name = objects.name_of(self.service_account)
        gate_env = {"MLOPS_RUN_ID_FILE": RUN_ID_FILE} if a.gate is not None else {}
        container = Container(
            name="main",
            image=a.image,
            resources=a.resources,
            command=a.command,
            args=a.args,
            env={"HOME": "/tmp", **a.env, **gate_env},  # noqa: S108
            secret_env=[SecretEnv(ref.env, ref.secret_name, ref.key) for ref in a.secret_env],
            writable_paths=a.writable_paths,
        )
        spec = pod_spec(
            [container], service_account_name=sa_name, automount_token=a.argo_enabled, restart_policy="Never"
        )
        self.schedule: k8s.apiextensions.CustomResource | k8s.batch.v1.CronJob
        self.template: k8s.apiextensions.CustomResource | k8s.batch.v1.CronJob
        if a.argo_enabled:
            self.trigger_kind = "workflowtemplate"
            if a.gate is not None:
                gate = self._gate_containers(a.gate)
                spec = pod_spec(
                    [container, *gate],
                    service_account_name=sa_name,
                    automount_token=True,
                    restart_policy="Never",
                )
            self._argo(ns, spec)
        else:
            self.trigger_kind = "cronjob"
            self._cron_jobs(ns, spec)
        self.trigger_name: str = f"{self.base}-on-demand" if not a.argo_enabled else self.base
        self.network_policy = network.https_egress(
            self,
            "allow-https",
            f"{self.base}-https",
            ns,
            self.labels,
            pods=network.components(part_of, lbl.TRAINING),
            cidrs=a.https_egress_cidrs,
        )
        self.register_outputs({"trigger": f"{self.trigger_kind}/{self.trigger_name}", "schedule": a.schedule.cron})

    def _argo(self, ns: StrInput, spec: dict[str, Any]) -> None:
        a = self.args
        policy = RunPolicy.of(a)
        self.executor_role, self.executor_binding = objects.argo_executor_rbac(self, self.base, ns, self.labels)
        step = argo_container_template("train", spec, a.backoff_limit)
        templates = [step] if a.gate is None else self._gate_templates(a.gate, step, spec["containers"][1:])
        entrypoint = "train" if a.gate is None else ENTRYPOINT
        self.template = k8s.apiextensions.CustomResource(
            self.child_name("template"),
            api_version=ARGO_API,
            kind="WorkflowTemplate",
            metadata=objects.metadata(self.base, ns, self.labels, annotations={USES_KUBERNETES_API_MARKER: "true"}),
            spec=argo_workflow_spec(policy, self.labels, spec, templates, entrypoint),
            opts=self.child_opts(depends_on=[self.executor_binding]),
        )
        self.schedule = k8s.apiextensions.CustomResource(
            self.child_name("schedule"),
            api_version=ARGO_API,
            kind="CronWorkflow",
            metadata=objects.metadata(self.base, ns, self.labels),
            spec=argo_cron_workflow_spec(policy, self.labels, {"workflowTemplateRef": {"name": self.base}}),
            opts=self.child_opts(depends_on=[self.template]),
        )

    def _gate_containers(self, gate: TrainingGate) -> list[Container]:
        """The evaluate and register containers: the one hardened builder, the pinned gate image."""
        common: dict[str, pulumi.Input[str]] = {
            "HOME": "/tmp",  # noqa: S108
            "PYTHONDONTWRITEBYTECODE": "1",
            "MLFLOW_TRACKING_URI": gate.tracking_uri,
            "GATE_METRIC": gate.metric,
            "RUN_ID": "{{inputs.parameters.run-id}}",
        }
        source = gate_step_source()
        evaluate = Container(
            name="evaluate",
            image=gate.image,
            resources=gate.resources,
            command=["python3", "-c", source, "evaluate"],
            env={**common, "OUTPUT_FILE": METRIC_FILE},
        )
        register = Container(
            name="register",
            image=gate.image,
            resources=gate.resources,
            command=["python3", "-c", source, "register"],
            env={
                **common,
                "GATE_VALUE": "{{inputs.parameters.metric}}",
                "REGISTERED_MODEL": gate.registered_model,
                "MODEL_ARTIFACT_PATH": gate.model_artifact_path,
                "APPROVAL_MODE": gate.approval_mode,
                "APPROVED_ALIAS": gate.approved_alias,
            },
        )
        return [evaluate, register]

    def _gate_templates(
        self, gate: TrainingGate, train: dict[str, Any], containers: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """train -> evaluate -> register (when the metric passes), as Argo steps."""
        evaluate, register = containers
        run_id = [{"name": "run-id"}]
        train = {**train, "outputs": {"parameters": [{"name": "run-id", "valueFrom": {"path": RUN_ID_FILE}}]}}
        steps = {
            "name": ENTRYPOINT,
            "steps": [
                [{"name": "train", "template": "train"}],
                [
                    {
                        "name": "evaluate",
                        "template": "evaluate",
                        "arguments": {
                            "parameters": [{"name": "run-id", "value": "{{steps.train.outputs.parameters.run-id}}"}]
                        },
                    }
                ],
                [
                    {
                        "name": "register",
                        "template": "register",
                        "when": gate.when,
                        "arguments": {
                            "parameters": [
                                {"name": "run-id", "value": "{{steps.train.outputs.parameters.run-id}}"},
                                {"name": "metric", "value": "{{steps.evaluate.outputs.parameters.metric}}"},
                            ]
                        },
                    }
                ],
            ],
        }
        return [
            steps,
            train,
            {
                "name": "evaluate",
                "inputs": {"parameters": run_id},
                "outputs": {"parameters": [{"name": "metric", "valueFrom": {"path": METRIC_FILE}}]},
                "retryStrategy": {"limit": "2", "retryPolicy": "OnError"},
                "container": evaluate,
            },
            {
                "name": "register",
                "inputs": {"parameters": [*run_id, {"name": "metric"}]},
                "retryStrategy": {"limit": "2", "retryPolicy": "OnError"},
                "container": register,
            },
        ]

    def _cron_jobs(self, ns: StrInput, spec: dict[str, Any]) -> None:
        policy = RunPolicy.of(self.args)

        def cron_job(suffix: str, name: str, suspend: bool) -> k8s.batch.v1.CronJob:
            return k8s.batch.v1.CronJob(
                self.child_name(suffix),
                metadata=objects.metadata(name, ns, self.labels),
                spec=objects.k8s_json(cron_job_spec(policy, self.labels, spec, suspend=suspend)),
                opts=self.child_opts(),
            )

        self.schedule = cron_job("schedule", self.base, self.args.suspend)
        # Never runs on its own: the monitoring loop creates Jobs from it on demand.
        self.template = cron_job("on-demand", f"{self.base}-on-demand", True)
