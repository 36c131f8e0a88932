"""Scheduled batch inference: a model run over a dataset on a cron, as a CronJob or an Argo CronWorkflow.

The scoring container is the model's batch image (pinned), run with the hardened pod spec; it
reads its work from the environment (the contract is documented in docs/components/k8s-batch-inference.md):
``MLOPS_MODEL_URI``, ``MLOPS_MODEL_FORMAT``, ``MLOPS_INPUT_URI``, ``MLOPS_OUTPUT_URI``, ``MLOPS_FORMAT``
(jsonl | csv), ``MLOPS_SHARD_COUNT`` and ``MLOPS_SHARD_INDEX`` (0-based): shard ``i`` of ``n`` scores the
input records whose position modulo ``n`` is ``i`` and writes ``part-<i>`` under the output prefix.

- CronJob (default): an Indexed Job of ``shards`` completions run ``shards`` at a time; the shard
  index comes from the Job's completion index annotation (downward API).
- Argo (``argo_enabled``): a CronWorkflow whose step fans out over ``withSequence`` (``shards``
  pods, ``parallelism`` ``shards``); the index is the sequence item.

Both forbid overlapping runs (``concurrencyPolicy: Forbid``), stop a run after
``active_deadline_seconds`` and keep a bounded history. Object storage is reached over HTTPS only.
"""

from __future__ import annotations

from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from mlops_infra.component import PlatformComponent
from mlops_infra.conventions.markers import USES_KUBERNETES_API_MARKER
from mlops_infra.k8s import labels as lbl
from mlops_infra.k8s import network, objects
from mlops_infra.k8s.training_pipeline import SCHEDULE_BASE_NAME
from mlops_infra.k8s.workload import (
    ARGO_API,
    ComputeResources,
    Container,
    RunPolicy,
    argo_container_template,
    argo_cron_workflow_spec,
    argo_workflow_spec,
    cron_job_spec,
    pod_spec,
)
from mlops_infra.spec.base import Spec, StrInput, Switch
from mlops_infra.spec.schedule import Schedule
from mlops_infra.spec.types import ObjectUri, PinnedImage

BATCH: str = "batch-inference"  # app.kubernetes.io/component of the scoring pods
COMPLETION_INDEX = "metadata.annotations['batch.kubernetes.io/job-completion-index']"
SHARD_PARAMETER = "shard"


class BatchInferenceArgs(Spec):
    """One scheduled batch prediction: what to score, with which model, where results go; seconds."""

    namespace: StrInput
    image: PinnedImage = Field(description="The batch scoring image (reads the MLOPS_* contract), pinned.")
    model_uri: ObjectUri = Field(description="The model artifact (s3://, gs://, pvc://, ...); may be an Output.")
    model_format: str = Field(pattern=r"^[a-z][a-z0-9-]{1,30}$", description="sklearn, xgboost, onnx, ...")
    input_uri: ObjectUri = Field(description="The dataset to score (a prefix or one object).")
    output_uri: ObjectUri = Field(description="Prefix the predictions are written under (part-<shard> files).")
    format: Literal["jsonl", "csv"] = Field("jsonl", description="Record layout of input and output.")
    schedule: Schedule = Field(description="5-field cron read in time_zone.")
    resources: ComputeResources = Field(
        default_factory=lambda: ComputeResources(
            cpu_request="1", cpu_limit="1", memory_request="2Gi", memory_limit="2Gi"
        ),
        description="Per scoring pod.",
    )
    shards: int = Field(1, ge=1, le=100, description="Pods scoring one run in parallel (each one shard).")
    active_deadline_seconds: int = Field(3600, ge=60, le=604_800, description="Hard stop of one run, seconds.")
    backoff_limit: int = Field(2, ge=0, le=10, description="Retries of failed shards in one run.")
    starting_deadline_seconds: int = Field(600, ge=10, le=86_400, description="A run missed by more is skipped.")
    successful_history_limit: int = Field(3, ge=0, le=50)
    failed_history_limit: int = Field(5, ge=1, le=50)
    suspend: Switch = Field(False, description="Pause the schedule.")
    argo_enabled: Switch = Field(False, description="An Argo CronWorkflow instead of a CronJob.")
    service_account_annotations: dict[str, str] = Field(
        default_factory=dict, description="Workload identity for object storage (IRSA role ARN, GKE account)."
    )
    https_egress_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0"], min_length=1)


class BatchInference(PlatformComponent[BatchInferenceArgs]):
    """A scheduled batch scoring run (CronJob or Argo CronWorkflow) with its ServiceAccount and egress policy."""

    TYPE_TOKEN = "mlops-infra:k8s:BatchInference"
    ARGS = BatchInferenceArgs

    def __init__(
        self,
        name: str,
        args: BatchInferenceArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        ns = a.namespace
        self.base: str = self.platform.name(name, SCHEDULE_BASE_NAME)
        part_of = self.platform.settings.project
        self.labels: dict[str, str] = lbl.standard_labels(a.model_format, self.base, BATCH, part_of)
        self.service_account = objects.run_service_account(
            self, self.base, ns, self.labels, a.service_account_annotations, argo=a.argo_enabled
        )
        sa_name = objects.name_of(self.service_account)
        env: dict[str, pulumi.Input[str]] = {
            "HOME": "/tmp",  # noqa: S108 - the emptyDir scratch
            "MLOPS_MODEL_URI": a.model_uri,
            "MLOPS_MODEL_FORMAT": a.model_format,
            "MLOPS_INPUT_URI": a.input_uri,
            "MLOPS_OUTPUT_URI": a.output_uri,
            "MLOPS_FORMAT": a.format,
            "MLOPS_SHARD_COUNT": str(a.shards),
        }
        if a.argo_enabled:
            env["MLOPS_SHARD_INDEX"] = f"{{{{inputs.parameters.{SHARD_PARAMETER}}}}}"
        container = Container(name="score", image=a.image, resources=a.resources, env=env)
        spec = pod_spec(
            [container], service_account_name=sa_name, automount_token=a.argo_enabled, restart_policy="Never"
        )
        self.schedule: k8s.batch.v1.CronJob | k8s.apiextensions.CustomResource
        if a.argo_enabled:
            self.schedule = self._cron_workflow(ns, spec)
        else:
            index = {"name": "MLOPS_SHARD_INDEX", "valueFrom": {"fieldRef": {"fieldPath": COMPLETION_INDEX}}}
            spec["containers"][0]["env"] = sorted([*spec["containers"][0]["env"], index], key=lambda e: e["name"])
            self.schedule = self._cron_job(ns, spec)
        self.network_policy = network.https_egress(
            self,
            "allow-https",
            f"{self.base}-https",
            ns,
            self.labels,
            pods=network.components(part_of, BATCH),
            cidrs=a.https_egress_cidrs,
        )
        self.register_outputs(
            {"name": self.base, "schedule": a.schedule.cron, "kind": "CronWorkflow" if a.argo_enabled else "CronJob"}
        )

    def _cron_job(self, ns: StrInput, spec: dict[str, Any]) -> k8s.batch.v1.CronJob:
        """An Indexed Job per run: ``shards`` completions at once, each pod its completion index."""
        shards = self.args.shards
        job = {"completionMode": "Indexed", "completions": shards, "parallelism": shards}
        return k8s.batch.v1.CronJob(
            self.child_name("schedule"),
            metadata=objects.metadata(self.base, ns, self.labels),
            spec=objects.k8s_json(cron_job_spec(RunPolicy.of(self.args), self.labels, spec, job=job)),
            opts=self.child_opts(),
        )

    def _cron_workflow(self, ns: StrInput, spec: dict[str, Any]) -> k8s.apiextensions.CustomResource:
        """One step fanned out over ``withSequence``: ``shards`` pods, each its item as the shard index."""
        a = self.args
        policy = RunPolicy.of(a)
        _, binding = objects.argo_executor_rbac(self, self.base, ns, self.labels)
        shard = argo_container_template(
            "shard", spec, a.backoff_limit, inputs={"parameters": [{"name": SHARD_PARAMETER}]}
        )
        fan_out = {
            "name": "score",
            "steps": [
                [
                    {
                        "name": "shard",
                        "template": "shard",
                        "withSequence": {"count": str(a.shards)},
                        "arguments": {"parameters": [{"name": SHARD_PARAMETER, "value": "{{item}}"}]},
                    }
                ]
            ],
        }
        workflow = argo_workflow_spec(policy, self.labels, spec, [fan_out, shard], "score", parallelism=a.shards)
        return k8s.apiextensions.CustomResource(
            self.child_name("schedule"),
            api_version=ARGO_API,
            kind="CronWorkflow",
            metadata=objects.metadata(self.base, ns, self.labels, annotations={USES_KUBERNETES_API_MARKER: "true"}),
            spec=argo_cron_workflow_spec(policy, self.labels, workflow),
            opts=self.child_opts(depends_on=[binding]),
        )
