"""Scheduled Vertex AI batch prediction: a CMEK job over Cloud Storage inputs, with a hard stop and an alert.

pulumi-gcp has no batch prediction job resource (a job is a run, not infrastructure), so each run is
created when the schedule fires:

    Cloud Scheduler (cron, time zone) -> Cloud Workflow (CMEK) -> batchPredictionJobs.create (CMEK)
                                                      -> poll every 60 s -> cancel at max_runtime_seconds

Two identities keep privileges apart:

- the *runner* account executes the workflow and is the scheduler's OAuth identity: Vertex AI use in the
  project (create, read and cancel batch prediction jobs), ``workflows.invoker``, and ``actAs`` on the job
  account only;
- the *job* account is what the job (the model's serving container) runs as: read access to the input
  buckets and write access to the output buckets, nothing else.

The Vertex AI service agent encrypts the job's outputs with the key; the Workflows service agent encrypts
the workflow's data with it. A failed, cancelled, partly successful or timed-out run fails the workflow
execution, which the alert policy reports to ``notification_channels``.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import pulumi
import pulumi_gcp as gcp
from pydantic import Field, field_validator, model_validator

from mlops_infra.component import PlatformComponent
from mlops_infra.config.base import ComponentArgs, StrInput
from mlops_infra.conventions import naming
from mlops_infra.gcp.alert_policy import severity_alert_policy
from mlops_infra.gcp.batch_workflow import batch_workflow
from mlops_infra.gcp.iam import ServiceAgent, service_account_member
from mlops_infra.gcp.platform_key import key_for, workflows_agent_grant
from mlops_infra.gcp.project import project_id
from mlops_infra.gcp.scheduled_workflow import cmek_workflow, failed_executions, project_role_grants, workflow_schedule
from mlops_infra.gcp.settings import KmsKeyName, Region
from mlops_infra.gcp.validation import VERSION_ALIAS_PATTERN
from mlops_infra.outputs import concat
from mlops_infra.spec.compute import check_gcp_machine_type
from mlops_infra.spec.schedule import Schedule

RUNNER_PROJECT_ROLES = ("roles/aiplatform.user", "roles/workflows.invoker")
"""Project roles of the runner: create/read/cancel Vertex jobs, start this workflow (no narrower role exists)."""


class BatchPredictionArgs(ComponentArgs):
    """Settings of a scheduled batch prediction."""

    region: Region
    kms_key_name: KmsKeyName = None
    model: StrInput = Field(description="Vertex model resource name without version (ModelRegistry.model_name(...)).")
    alias: str = Field(
        "champion", pattern=VERSION_ALIAS_PATTERN, description="Each run scores with the version holding this alias."
    )
    input_uris: list[StrInput] = Field(min_length=1, max_length=100, description="gs:// files or wildcards to score.")
    instances_format: Literal["jsonl", "csv"] = Field("jsonl", description="Layout of the input records.")
    output_uri_prefix: StrInput = Field(description="gs:// prefix each run writes its own directory under.")
    machine_type: str = Field("n1-standard-4", description="Vertex machine type of each replica.")
    accelerator_type: str | None = Field(None, pattern=r"^[A-Z0-9_]+$", description="For example NVIDIA_TESLA_T4.")
    accelerator_count: int = Field(0, ge=0, le=16)
    max_replicas: int = Field(1, ge=1, le=100, description="Most replicas one run scales out to.")
    max_runtime_seconds: int = Field(3600, ge=60, le=7 * 24 * 3600, description="Hard stop of one run, seconds.")
    schedule: Schedule
    read_buckets: list[StrInput] = Field(default_factory=list, description="Buckets the job reads inputs from.")
    write_buckets: list[StrInput] = Field(default_factory=list, description="Buckets the job writes predictions to.")
    notification_channels: list[StrInput] = Field(
        default_factory=list, description="Cloud Monitoring channels told of a failed or timed-out run."
    )

    @field_validator("machine_type")
    @classmethod
    def _machine(cls, value: str) -> str:
        return check_gcp_machine_type(value, "prediction")

    @model_validator(mode="after")
    def _accelerator(self) -> BatchPredictionArgs:
        if (self.accelerator_type is None) != (self.accelerator_count == 0):
            raise ValueError("accelerator_type and accelerator_count > 0 go together")
        return self


class BatchPrediction(PlatformComponent[BatchPredictionArgs]):
    """Job and runner accounts, CMEK workflow, Cloud Scheduler job, and an alert on failed runs."""

    TYPE_TOKEN = "mlops-infra:gcp:BatchPrediction"
    ARGS = BatchPredictionArgs

    def __init__(
        self,
        name: str,
        args: BatchPredictionArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        invoke = pulumi.InvokeOutputOptions(parent=self)
        project = project_id(invoke)
        physical = self.platform.name(name, naming.GCP_RESOURCE)
        self.job_account = gcp.serviceaccount.Account(
            self.child_name("job-sa"),
            account_id=self.platform.name(f"{name}-job", naming.GCP_SERVICE_ACCOUNT_ID),
            display_name=f"{name} batch prediction job ({self.platform.environment})",
            description="Runs the model's container in batch prediction: reads the inputs, writes the predictions.",
            opts=self.child_opts(),
        )
        self.runner_account = gcp.serviceaccount.Account(
            self.child_name("sa"),
            account_id=self.platform.name(name, naming.GCP_SERVICE_ACCOUNT_ID),
            display_name=f"{name} batch prediction runner ({self.platform.environment})",
            description="Starts each scheduled batch prediction job, waits for it, cancels it at its deadline.",
            opts=self.child_opts(),
        )
        grants = self._grant(project)
        # Children do not inherit the component's depends_on: the workflow and schedule wait for it explicitly
        given = opts.depends_on if opts is not None else None
        listed: list[Any] = given if isinstance(given, list) else [given] if given is not None else []
        grants.extend(r for r in listed if isinstance(r, pulumi.Resource))
        vertex_key = key_for(a.kms_key_name, a.region, ServiceAgent.AIPLATFORM, requester=self)
        grants.extend(vertex_key.depends_on)
        # The Workflows agent's use of the key: the stack's one grant (the drift or webhook workflow's, if first).
        grants.append(workflows_agent_grant(vertex_key, self))
        self.job_body: pulumi.Output[dict[str, Any]] = pulumi.Output.from_input(
            {
                "displayName": physical,
                "model": concat(a.model, "@", a.alias),
                "inputConfig": {"instancesFormat": a.instances_format, "gcsSource": {"uris": a.input_uris}},
                # Vertex writes a custom-trained model's predictions as JSON Lines (or to BigQuery), never CSV.
                "outputConfig": {
                    "predictionsFormat": "jsonl",
                    "gcsDestination": {"outputUriPrefix": a.output_uri_prefix},
                },
                "dedicatedResources": {
                    "machineSpec": self._machine_spec(),
                    "startingReplicaCount": 1,
                    "maxReplicaCount": a.max_replicas,
                },
                "serviceAccount": self.job_account.email,
                "encryptionSpec": {"kmsKeyName": vertex_key.name},
                "labels": dict(self.platform.gcp_labels),
            }
        )
        region, runtime = a.region, a.max_runtime_seconds
        self.workflow = cmek_workflow(
            self,
            name=physical,
            region=a.region,
            description=f"Scheduled batch prediction {name}: create the job, wait, cancel it after {runtime} s",
            service_account=self.runner_account.id,
            key_name=vertex_key.name,
            source=pulumi.Output.all(project, self.job_body).apply(
                lambda v: json.dumps(
                    batch_workflow(project=v[0], region=region, job=v[1], max_runtime_seconds=runtime),
                    sort_keys=True,
                    indent=1,
                )
            ),
            depends_on=grants,
        )
        self.scheduler_job = workflow_schedule(
            self,
            name=physical,
            region=a.region,
            description=f"Starts the {name} batch prediction workflow",
            schedule=a.schedule,
            workflow=self.workflow,
            invoker_email=self.runner_account.email,
            depends_on=grants,
        )
        self.alert_policy = self._alert(physical)
        self.workflow_name: pulumi.Output[str] = self.workflow.name
        self.register_outputs(
            {
                "workflow": self.workflow.name,
                "schedulerJob": self.scheduler_job.name,
                "jobServiceAccount": self.job_account.email,
                "outputUriPrefix": a.output_uri_prefix,
            }
        )

    def _machine_spec(self) -> dict[str, Any]:
        a = self.args
        spec: dict[str, Any] = {"machineType": a.machine_type}
        if a.accelerator_type is not None:
            spec.update(acceleratorType=a.accelerator_type, acceleratorCount=a.accelerator_count)
        return spec

    def _grant(self, project: pulumi.Output[str]) -> list[pulumi.Resource]:
        """Least privilege: the runner may run Vertex jobs as the job account only; the job touches its buckets."""
        a = self.args
        runner = service_account_member(self.runner_account.email)
        job = service_account_member(self.job_account.email)
        grants = project_role_grants(self, project, runner, RUNNER_PROJECT_ROLES)
        grants.append(
            gcp.serviceaccount.IAMMember(
                self.child_name("act-as-job"),
                service_account_id=self.job_account.name,
                role="roles/iam.serviceAccountUser",
                member=runner,
                opts=self.child_opts(),
            )
        )
        for suffix, buckets, role in (
            ("input-reader", a.read_buckets, "roles/storage.objectViewer"),
            ("output-writer", a.write_buckets, "roles/storage.objectCreator"),
        ):
            for index, bucket in enumerate(buckets):
                grants.append(
                    gcp.storage.BucketIAMMember(
                        self.child_name(f"{suffix}-{index}"),
                        bucket=bucket,
                        role=role,
                        member=job,
                        opts=self.child_opts(),
                    )
                )
        return grants

    def _alert(self, workflow_name: str) -> gcp.monitoring.AlertPolicy:
        """A failed run (job failed, cancelled, partly succeeded, past its deadline, or not created) alerts."""
        return severity_alert_policy(
            self.child_name("alert"),
            display_name=f"{workflow_name} batch prediction failed",
            severity="warning",
            channels=self.args.notification_channels,
            labels=self.platform.gcp_labels,
            content="A scheduled batch prediction run failed, was cancelled at its max runtime, or scored only "
            "part of its input: see the workflow's executions and the Vertex AI batch prediction job.",
            conditions=[failed_executions("batch prediction run failed", workflow_name)],
            opts=self.child_opts(),
        )
