"""Scheduled training on Kubeflow Pipelines (KFP >= 2.5 in Kubernetes-native API mode), declared as objects.

What a KFP installation accepts declaratively, and so what this component creates (pinned: KFP 2.17.0):

- ``Pipeline`` and ``PipelineVersion`` (``pipelines.kubeflow.org/v2beta1``): the pipeline and its
  compiled v2 IR (:mod:`mlops_infra.k8s.kubeflow_ir`: train -> evaluate -> register when the metric
  passes). These are KFP's own storage in Kubernetes-native API mode (its webhook validates the IR);
  a version's spec is immutable, so the version is named after a digest of its IR and a changed
  pipeline is a new version.
- ``ScheduledWorkflow`` (``kubeflow.org/v1beta1``): KFP's recurring run. Its controller asks the KFP
  API server for a run of ``pipelineId``/``pipelineVersionId`` (the Kubernetes UIDs of the two objects
  above, which are their KFP ids in that mode) as ``serviceAccount``, on a 6-field cron
  (:mod:`mlops_infra.k8s.kubeflow_schedule`), at most ``max_concurrency`` at a time.
- The run's ServiceAccount and a Role with what KFP's driver/launcher and Argo's executor read for
  plain container steps: WorkflowTaskResults (create/patch), the ``kfp-launcher`` ConfigMap and the
  artifact store's Secret (get, by name).

In the default (database) API mode a pipeline exists only after an upload through the API, so
nothing declarative can reference it; this component needs Kubernetes-native API mode.
The pods are rendered by KFP's API server (Argo Workflow compiled from the IR), not by this SDK: KFP
2.17 sets ``runAsNonRoot``, RuntimeDefault seccomp, ``allowPrivilegeEscalation: false`` and drops
every capability on them (docs/components/k8s-training-pipeline.md#kubeflow-pipelines).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, field_validator, model_validator

from mlops_infra.component import PlatformComponent
from mlops_infra.conventions.markers import USES_KUBERNETES_API_MARKER
from mlops_infra.k8s import labels as lbl
from mlops_infra.k8s import objects
from mlops_infra.k8s.kubeflow_ir import KfpTrainingSteps, StepResources, platform_spec, training_ir
from mlops_infra.k8s.kubeflow_schedule import check_schedule_zone, kfp_cron
from mlops_infra.k8s.training_pipeline import ENV_NAME, SCHEDULE_BASE_NAME, TrainingGate
from mlops_infra.k8s.workload import ComputeResources
from mlops_infra.spec.base import Spec, StrInput, Switch
from mlops_infra.spec.schedule import Schedule, check_time_zone
from mlops_infra.spec.types import PinnedImage

PIPELINES_API = "pipelines.kubeflow.org/v2beta1"
SCHEDULED_WORKFLOW_API = "kubeflow.org/v1beta1"
KFP_VERSION = "2.17.0"  # the KFP release whose CRDs and controller behaviour this targets
NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class KubeflowTrainingPipelineArgs(Spec):
    """A gated training pipeline on KFP and its recurring run; limits in run counts."""

    namespace: StrInput = Field(description="A KFP profile/namespace (where KFP runs pipelines).")
    image: PinnedImage = Field(description="Training image, pinned by version tag or digest.")
    command: list[str] = Field(
        min_length=1, description="Training command: KFP's launcher replaces the image entrypoint (needs /bin/sh)."
    )
    args: list[str] = Field(default_factory=list)
    env: dict[str, StrInput] = Field(default_factory=dict, description="Plain settings only (KFP IR is not secret).")
    resources: ComputeResources = Field(
        default_factory=lambda: ComputeResources(
            cpu_request="2", cpu_limit="4", memory_request="8Gi", memory_limit="16Gi", gpus=1
        ),
        description="The train step's; default one GPU (gpus=0 for CPU-only training).",
    )
    gate: TrainingGate = Field(description="Register into MLflow only when the run's metric passes.")
    schedule: Schedule = Field(
        default_factory=lambda: Schedule(cron="0 3 * * *"),
        description="5-field cron, read in controller_time_zone (KFP has no per-schedule zone).",
    )
    controller_time_zone: str = Field(
        "UTC", description="The installation's cronScheduleTimezone (pipeline-install-config); UTC when empty."
    )
    suspend: Switch = Field(False, description="Disable the recurring run (enabled: false).")
    backoff_limit: int = Field(2, ge=0, le=10, description="Retries of a failed train step.")
    active_deadline_seconds: int = Field(14_400, ge=60, le=604_800, description="Hard wall-clock limit of training.")
    max_concurrency: int = Field(1, ge=1, le=10, description="Runs of this schedule at once (KFP allows 1-10).")
    max_history: int = Field(10, ge=0, le=100, description="Finished runs the controller keeps track of.")
    experiment_id: str | None = Field(None, description="KFP experiment of the runs; None: the default experiment.")
    launcher_config_map: str = Field("kfp-launcher", pattern=NAME_PATTERN, max_length=253)
    artifact_secret: str = Field(
        "mlpipeline-minio-artifact", pattern=NAME_PATTERN, max_length=253, description="Artifact store credentials."
    )
    service_account_annotations: dict[str, str] = Field(default_factory=dict)

    @field_validator("env")
    @classmethod
    def _env_names(cls, env: dict[str, StrInput]) -> dict[str, StrInput]:
        bad = [key for key in env if not re.match(ENV_NAME, key)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not an environment variable name")
        return env

    @field_validator("controller_time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_time_zone(value)

    @model_validator(mode="after")
    def _schedule_zone(self) -> KubeflowTrainingPipelineArgs:
        check_schedule_zone(self.schedule, self.controller_time_zone)
        return self


def _step_resources(resources: ComputeResources) -> StepResources:
    return StepResources(
        resources.cpu_request, resources.cpu_limit, resources.memory_request, resources.memory_limit, resources.gpus
    )


def ir_digest(ir: dict[str, Any]) -> str:
    """10 hex characters of the specs' SHA-256 (canonical JSON): a new digest is a new PipelineVersion."""
    return hashlib.sha256(json.dumps(ir, sort_keys=True).encode()).hexdigest()[:10]


def _uid(resource: Any) -> pulumi.Output[str]:
    """The created object's UID: KFP's id of a Pipeline/PipelineVersion in Kubernetes-native mode."""
    output: pulumi.Output[str] = resource.metadata.apply(lambda meta: str(getattr(meta, "uid", None) or ""))
    return output


class KubeflowTrainingPipeline(PlatformComponent[KubeflowTrainingPipelineArgs]):
    """A KFP pipeline (IR compiled by the kfp SDK) plus its recurring run, run as its own ServiceAccount."""

    TYPE_TOKEN = "mlops-infra:k8s:KubeflowTrainingPipeline"
    ARGS = KubeflowTrainingPipelineArgs

    def __init__(
        self,
        name: str,
        args: KubeflowTrainingPipelineArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        ns = a.namespace
        self.base: str = self.platform.name(name, SCHEDULE_BASE_NAME)
        self.labels: dict[str, str] = lbl.standard_labels(
            "training", self.base, lbl.TRAINING, self.platform.settings.project
        )
        self.cron: str = kfp_cron(a.schedule)
        # KFP's driver and Argo's executor call the API server: the token is declared, not implicit.
        self.service_account = objects.service_account(
            self,
            "sa",
            self.base,
            ns,
            self.labels,
            annotations={**a.service_account_annotations, USES_KUBERNETES_API_MARKER: "true"},
            automount=True,
        )
        self._rbac(ns)
        steps = pulumi.Output.from_input({"env": a.env, "tracking_uri": a.gate.tracking_uri}).apply(
            lambda resolved: self._steps(cast(dict[str, Any], resolved))
        )
        self.ir: pulumi.Output[dict[str, Any]] = steps.apply(training_ir)
        self.platform_spec: pulumi.Output[dict[str, Any]] = steps.apply(platform_spec)
        self.pipeline = k8s.apiextensions.CustomResource(
            self.child_name("pipeline"),
            api_version=PIPELINES_API,
            kind="Pipeline",
            metadata=objects.metadata(self.base, ns, self.labels),
            spec={"displayName": self.base, "description": "train -> evaluate -> register when the metric passes"},
            opts=self.child_opts(),
        )
        self.version_name: pulumi.Output[str] = pulumi.Output.all(self.ir, self.platform_spec).apply(
            lambda specs: f"{self.base}-{ir_digest({'pipelineSpec': specs[0], 'platformSpec': specs[1]})}"
        )
        self.version = k8s.apiextensions.CustomResource(
            self.child_name("pipeline-version"),
            api_version=PIPELINES_API,
            kind="PipelineVersion",
            metadata=objects.metadata(self.version_name, ns, self.labels),  # type: ignore[arg-type]
            spec={
                "pipelineName": self.base,
                "displayName": self.version_name,
                "pipelineSpec": self.ir,
                "platformSpec": self.platform_spec,
            },
            opts=self.child_opts(depends_on=[self.pipeline]),
        )
        recurring: dict[str, Any] = {
            "enabled": not a.suspend,
            "maxConcurrency": a.max_concurrency,
            "noCatchup": True,  # a missed run is not replayed: the next one trains on newer data
            "maxHistory": a.max_history,
            "trigger": {"cronSchedule": {"cron": self.cron}},
            "pipelineId": _uid(self.pipeline),
            "pipelineVersionId": _uid(self.version),
            "pipelineName": self.version_name,
            "serviceAccount": objects.name_of(self.service_account),
        }
        if a.experiment_id:
            recurring["experimentId"] = a.experiment_id
        self.schedule = pulumi.CustomResource(
            f"kubernetes:{SCHEDULED_WORKFLOW_API}:ScheduledWorkflow",
            self.child_name("schedule"),
            {
                "apiVersion": SCHEDULED_WORKFLOW_API,
                "kind": "ScheduledWorkflow",
                "metadata": objects.metadata(self.base, ns, self.labels),
                "spec": recurring,
                # The CRD requires status (it has no status subresource; the controller fills it in), which
                # pulumi_kubernetes' CustomResource cannot send: hence the plain resource of the same type.
                "status": {},
            },
            opts=self.child_opts(depends_on=[self.version, self.run_binding]),
        )
        self.register_outputs({"pipeline": self.base, "versionName": self.version_name, "cron": self.cron})

    def _rbac(self, ns: StrInput) -> None:
        a = self.args
        rules = [
            {"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"], "verbs": ["create", "patch"]},
            {
                "apiGroups": [""],
                "resources": ["configmaps"],
                "resourceNames": [a.launcher_config_map],
                "verbs": ["get"],
            },
            {"apiGroups": [""], "resources": ["secrets"], "resourceNames": [a.artifact_secret], "verbs": ["get"]},
        ]
        self.run_role = k8s.rbac.v1.Role(
            self.child_name("run-role"),
            metadata=objects.metadata(f"{self.base}-run", ns, self.labels),
            rules=objects.k8s_json(rules),
            opts=self.child_opts(),
        )
        self.run_binding = k8s.rbac.v1.RoleBinding(
            self.child_name("run-binding"),
            metadata=objects.metadata(f"{self.base}-run", ns, self.labels),
            role_ref=objects.k8s_json(
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{self.base}-run"}
            ),
            subjects=objects.k8s_json([{"kind": "ServiceAccount", "name": self.base, "namespace": ns}]),
            opts=self.child_opts(depends_on=[self.run_role]),
        )

    def _steps(self, resolved: dict[str, Any]) -> KfpTrainingSteps:
        """The IR's inputs, once ``env`` and ``tracking_uri`` are known (they may be Outputs)."""
        a, gate = self.args, self.args.gate
        env: dict[str, str] = resolved["env"]
        tracking_uri: str = resolved["tracking_uri"]
        return KfpTrainingSteps(
            name=self.base,
            image=a.image,
            command=tuple(a.command),
            args=tuple(a.args),
            env=tuple(sorted({"HOME": "/tmp", **env}.items())),  # noqa: S108
            resources=_step_resources(a.resources),
            retries=a.backoff_limit,
            metric=gate.metric,
            threshold=gate.threshold,
            direction=gate.direction,
            tracking_uri=tracking_uri,
            registered_model=gate.registered_model,
            approval_mode=gate.approval_mode,
            approved_alias=gate.approved_alias,
            model_artifact_path=gate.model_artifact_path,
            gate_image=gate.image,
            gate_resources=_step_resources(gate.resources),
            deadline_seconds=a.active_deadline_seconds,
            labels=tuple(sorted(self.labels.items())),
        )
