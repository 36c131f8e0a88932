"""A Vertex AI training pipeline with its own identity, CMEK artifacts, and a retraining schedule.

Continuous training runs on Cloud Scheduler by default: an HTTP job that calls
``pipelineJobs.create`` with an OAuth token of the pipeline's service account (pulumi-gcp has
no pipeline-job resource). ``schedule.engine="vertex-schedule"`` uses a Vertex AI Schedule
instead: pulumi-gcp's native ``gcp.colab.Schedule`` with a CMEK ``create_pipeline_job_request``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pulumi
import pulumi_gcp as gcp
from pydantic import Field, ValidationInfo, field_validator

from mlops_infra.component import PlatformComponent
from mlops_infra.config.base import ComponentArgs, StrInput
from mlops_infra.conventions import naming
from mlops_infra.gcp.iam import ServiceAgent, service_account_member
from mlops_infra.gcp.pipeline_job import (
    CLOUD_PLATFORM_SCOPE,
    encode_body,
    pipeline_job_body,
    pipeline_jobs_url,
    schedule_pipeline_job_request,
)
from mlops_infra.gcp.pipeline_spec import (
    SpecSource,
    SpecTemplate,
    check_parameter_values,
    load_pipeline_spec,
    pipeline_name,
)
from mlops_infra.gcp.platform_key import key_for
from mlops_infra.gcp.project import project_id
from mlops_infra.gcp.secure_bucket import SecureBucket
from mlops_infra.gcp.settings import KmsKeyName, Network, Region
from mlops_infra.outputs import concat
from mlops_infra.spec.base import Switch
from mlops_infra.spec.schedule import Schedule

# Project-level roles the pipeline identity needs; everything else is granted on single resources.
PROJECT_ROLES = ("roles/aiplatform.user",)
BIGQUERY_JOB_ROLE = "roles/bigquery.jobUser"


class ScheduleArgs(Schedule):
    """When retraining runs (``cron`` read in ``time_zone``), and how a failed submission is retried."""

    engine: Literal["cloud-scheduler", "vertex-schedule"] = "cloud-scheduler"
    paused: Switch = False
    retry_count: int = Field(3, ge=0, le=5, description="Retries of a failed submission.")
    min_backoff_seconds: int = Field(30, ge=1, le=3600, description="First retry delay, seconds.")
    max_backoff_seconds: int = Field(3600, ge=1, le=86400, description="Longest retry delay, seconds.")
    max_doublings: int = Field(5, ge=0, le=16, description="Times the retry delay doubles before growing linearly.")
    attempt_deadline_seconds: int = Field(180, ge=15, le=1800, description="HTTP attempt deadline (15-1800 s).")
    max_concurrent_runs: int = Field(1, ge=1, le=100, description="Vertex Schedule only: runs at once.")

    @field_validator("max_backoff_seconds")
    @classmethod
    def _backoff(cls, value: int, info: ValidationInfo) -> int:
        minimum = info.data.get("min_backoff_seconds")
        if minimum is not None and value < minimum:
            raise ValueError(f"max_backoff_seconds ({value}) is below min_backoff_seconds ({minimum})")
        return value


class TrainingPipelineArgs(ComponentArgs):
    """Settings of a training pipeline."""

    region: Region
    kms_key_name: KmsKeyName = None
    spec: SpecSource
    parameter_values: dict[str, Any] = Field(default_factory=dict, description="Runtime parameter values.")
    display_name: str | None = Field(None, max_length=128)
    schedule: ScheduleArgs | None = Field(None, description="Continuous training; None runs on demand only.")
    template_uri: str | None = Field(
        None,
        pattern=r"^https://[a-z0-9-]+-kfp\.pkg\.dev/.+",
        description="Run a template pushed to Artifact Registry instead of the inline spec.",
    )
    network: Network | None = Field(None, description="VPC the pipeline's jobs peer with.")
    read_datasets: list[StrInput] = Field(default_factory=list, description="BigQuery dataset ids the pipeline reads.")
    read_buckets: list[StrInput] = Field(default_factory=list, description="Buckets the pipeline reads.")
    write_buckets: list[StrInput] = Field(default_factory=list, description="Buckets the pipeline writes (models).")
    image_repositories: list[StrInput] = Field(
        default_factory=list, description="Artifact Registry repository ids (same region) whose images it pulls."
    )
    pipeline_root_bucket_name: str | None = Field(None, description="Explicit global name of the root bucket.")
    archive_after_days: int | None = Field(
        None, ge=1, le=36500, description="Days before pipeline-root objects move to the ARCHIVE class."
    )
    tensorboard: StrInput | None = Field(
        None,
        description="Vertex TensorBoard resource name (projects/P/locations/R/tensorboards/ID) the training job "
        "logs to; its logs are written under the pipeline root's tensorboard/ prefix.",
    )

    @field_validator("schedule")
    @classmethod
    def _schedule_parameters_are_strings(cls, value: ScheduleArgs | None, info: ValidationInfo) -> ScheduleArgs | None:
        """gcp.colab.Schedule sends runtime parameter values as strings: refuse others by name."""
        if value is None or value.engine != "vertex-schedule":
            return value
        others = sorted(k for k, v in (info.data.get("parameter_values") or {}).items() if not isinstance(v, str))
        if others:
            raise ValueError(
                "engine vertex-schedule (gcp.colab.Schedule) sends runtime parameter values as strings, and "
                f"parameter_values {', '.join(others)} are not strings; use engine cloud-scheduler or string parameters"
            )
        return value

    @field_validator("parameter_values")
    @classmethod
    def _parameters_match_spec(cls, values: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        spec = info.data.get("spec")
        if spec is None:
            return values  # the spec itself failed validation
        check_parameter_values(load_pipeline_spec(spec), _with_template_defaults(spec, values))
        return values


def _with_template_defaults(spec: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The built-in template's platform parameters are filled in by the component."""
    if isinstance(spec, SpecTemplate):
        return {"kms_key_name": "", **values}
    return values


class TrainingPipeline(PlatformComponent[TrainingPipelineArgs]):
    """Service account, pipeline root bucket, KFP template repository, spec, and retraining schedule."""

    TYPE_TOKEN = "mlops-infra:gcp:TrainingPipeline"
    ARGS = TrainingPipelineArgs

    def __init__(
        self,
        name: str,
        args: TrainingPipelineArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        project = project_id(pulumi.InvokeOutputOptions(parent=self))
        self.spec: dict[str, Any] = load_pipeline_spec(a.spec)
        self.service_account = gcp.serviceaccount.Account(
            self.child_name("sa"),
            account_id=self.platform.name(name, naming.GCP_SERVICE_ACCOUNT_ID),
            display_name=f"{name} training pipeline ({self.platform.environment})",
            description="Runs Vertex AI pipeline jobs; roles are scoped to the pipeline's own resources.",
            opts=self.child_opts(),
        )
        self.service_account_email: pulumi.Output[str] = self.service_account.email
        member = service_account_member(self.service_account.email)
        self.pipeline_root_bucket = SecureBucket(
            self.child_name("root"),
            {
                "region": a.region,
                "kms_key_name": a.kms_key_name,
                "bucket_name": a.pipeline_root_bucket_name,
                "archive_after_days": a.archive_after_days,
            },
            opts=self.child_opts(),
        )
        self.pipeline_root: pulumi.Output[str] = concat(self.pipeline_root_bucket.url, "/pipeline-root")
        ar_key = key_for(a.kms_key_name, a.region, ServiceAgent.ARTIFACT_REGISTRY, requester=self)
        self.repository = gcp.artifactregistry.Repository(
            self.child_name("templates"),
            repository_id=self.platform.name(f"{name}-templates", naming.GCP_RESOURCE),
            location=a.region,
            format="KFP",
            description="Pipeline templates (compiled PipelineSpecs)",
            kms_key_name=ar_key.name,
            opts=self.child_opts(depends_on=list(ar_key.depends_on)),
        )
        self._grant_roles(project, member)
        self.key_name = key_for(a.kms_key_name, a.region, ServiceAgent.AIPLATFORM, requester=self).name
        self.job_body: pulumi.Output[dict[str, Any]] = pipeline_job_body(
            display_name=a.display_name or pipeline_name(self.spec),
            pipeline_root=self.pipeline_root,
            kms_key_name=self.key_name,
            service_account=self.service_account.email,
            labels=self.platform.gcp_labels,
            parameter_values=self._parameter_values(),
            spec=None if a.template_uri else self.spec,
            template_uri=a.template_uri,
            network=a.network,
        )
        self.scheduler_job: gcp.cloudscheduler.Job | None = None
        self.vertex_schedule: pulumi.Resource | None = None
        if a.schedule is not None and a.schedule.engine == "cloud-scheduler":
            self.scheduler_job = self._scheduler_job(name, a.schedule, project)
        elif a.schedule is not None:
            self.vertex_schedule = self._vertex_schedule(name, a.schedule, project)
        self.register_outputs(
            {
                "serviceAccountEmail": self.service_account_email,
                "pipelineRoot": self.pipeline_root,
                "templateRepository": self.repository.id,
                "schedulerJob": self.scheduler_job.name if self.scheduler_job else None,
            }
        )

    def _parameter_values(self) -> dict[str, Any]:
        """The template's CustomJobs: the platform key, this pipeline's identity and network."""
        if isinstance(self.args.spec, SpecTemplate):
            platform: dict[str, Any] = {"kms_key_name": self.key_name, "service_account": self.service_account.email}
            if self.args.network is not None:
                platform["network"] = self.args.network
            if self.args.tensorboard is not None:
                platform["tensorboard"] = self.args.tensorboard
                platform["tensorboard_logs"] = concat(self.pipeline_root_bucket.url, "/tensorboard")
            return {**platform, **self.args.parameter_values}
        return dict(self.args.parameter_values)

    def _grant_roles(self, project: pulumi.Output[str], member: pulumi.Output[str]) -> None:
        """Least privilege: Vertex use in the project, everything else on the named resources only."""
        a = self.args
        roles = list(PROJECT_ROLES) + ([BIGQUERY_JOB_ROLE] if a.read_datasets else [])
        for role in roles:
            gcp.projects.IAMMember(
                self.child_name(role.split("/")[1].replace(".", "-")),
                project=project,
                role=role,
                member=member,
                opts=self.child_opts(),
            )
        gcp.storage.BucketIAMMember(
            self.child_name("root-writer"),
            bucket=self.pipeline_root_bucket.bucket_name,
            role="roles/storage.objectAdmin",
            member=member,
            opts=self.child_opts(),
        )
        gcp.artifactregistry.RepositoryIamMember(
            self.child_name("templates-reader"),
            repository=self.repository.repository_id,
            location=a.region,
            role="roles/artifactregistry.reader",
            member=member,
            opts=self.child_opts(),
        )
        # Each resource the user names gets exactly one role, granted on that resource alone.
        grants: list[tuple[str, list[StrInput], str, Callable[..., pulumi.CustomResource]]] = [
            ("dataset-reader", a.read_datasets, "roles/bigquery.dataViewer", self._dataset_member),
            ("bucket-reader", a.read_buckets, "roles/storage.objectViewer", self._bucket_member),
            ("bucket-writer", a.write_buckets, "roles/storage.objectAdmin", self._bucket_member),
            ("images-reader", a.image_repositories, "roles/artifactregistry.reader", self._repository_member),
        ]
        for suffix, targets, role, grant in grants:
            for i, target in enumerate(targets):
                grant(self.child_name(f"{suffix}-{i}"), target, role, member)
        # The schedule submits jobs as this account that run as this account: actAs on itself only.
        gcp.serviceaccount.IAMMember(
            self.child_name("act-as-self"),
            service_account_id=self.service_account.name,
            role="roles/iam.serviceAccountUser",
            member=member,
            opts=self.child_opts(),
        )

    def _dataset_member(
        self, resource_name: str, dataset: pulumi.Input[str], role: str, member: pulumi.Input[str]
    ) -> pulumi.CustomResource:
        return gcp.bigquery.DatasetIamMember(
            resource_name, dataset_id=dataset, role=role, member=member, opts=self.child_opts()
        )

    def _bucket_member(
        self, resource_name: str, bucket: pulumi.Input[str], role: str, member: pulumi.Input[str]
    ) -> pulumi.CustomResource:
        return gcp.storage.BucketIAMMember(
            resource_name, bucket=bucket, role=role, member=member, opts=self.child_opts()
        )

    def _repository_member(
        self, resource_name: str, repository: pulumi.Input[str], role: str, member: pulumi.Input[str]
    ) -> pulumi.CustomResource:
        return gcp.artifactregistry.RepositoryIamMember(
            resource_name,
            repository=repository,
            location=self.args.region,
            role=role,
            member=member,
            opts=self.child_opts(),
        )

    def _scheduler_job(self, name: str, schedule: ScheduleArgs, project: pulumi.Output[str]) -> gcp.cloudscheduler.Job:
        return gcp.cloudscheduler.Job(
            self.child_name("schedule"),
            name=self.platform.name(f"{name}-retrain", naming.GCP_RESOURCE),
            region=self.args.region,
            description=f"Continuous training: submits the {name} Vertex pipeline",
            schedule=schedule.cron,
            time_zone=schedule.time_zone,
            paused=schedule.paused,
            attempt_deadline=f"{schedule.attempt_deadline_seconds}s",
            retry_config=gcp.cloudscheduler.JobRetryConfigArgs(
                retry_count=schedule.retry_count,
                min_backoff_duration=f"{schedule.min_backoff_seconds}s",
                max_backoff_duration=f"{schedule.max_backoff_seconds}s",
                max_doublings=schedule.max_doublings,
            ),
            http_target=gcp.cloudscheduler.JobHttpTargetArgs(
                uri=pipeline_jobs_url(project, self.args.region),
                http_method="POST",
                headers={"Content-Type": "application/json"},
                body=encode_body(self.job_body),
                oauth_token=gcp.cloudscheduler.JobHttpTargetOauthTokenArgs(
                    service_account_email=self.service_account.email, scope=CLOUD_PLATFORM_SCOPE
                ),
            ),
            opts=self.child_opts(),
        )

    def _vertex_schedule(self, name: str, schedule: ScheduleArgs, project: pulumi.Output[str]) -> gcp.colab.Schedule:
        """A Vertex AI Schedule (pulumi-gcp's ``colab.Schedule``) creating this CMEK PipelineJob on the cron."""
        region = self.args.region
        request: pulumi.Output[Any] = pulumi.Output.all(self.job_body, project).apply(
            lambda resolved: schedule_pipeline_job_request(resolved[0], resolved[1], region)
        )
        return gcp.colab.Schedule(
            self.child_name("vertex-schedule"),
            project=project,
            location=region,
            display_name=self.platform.name(f"{name}-retrain", naming.GCP_RESOURCE),
            cron=f"TZ={schedule.time_zone} {schedule.cron}",
            max_concurrent_run_count=str(schedule.max_concurrent_runs),
            desired_state="PAUSED" if schedule.paused else "ACTIVE",
            create_pipeline_job_request=request,
            opts=self.child_opts(),
        )
