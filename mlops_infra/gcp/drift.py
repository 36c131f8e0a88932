"""Retraining on drift for Vertex AI endpoints: two engines, one vocabulary (0-1 thresholds per feature).

``engine="bigquery"`` (the default) is built from services that pulumi-gcp can declare:

1. Cloud Scheduler runs a Cloud Workflow on the drift ``Schedule`` (cron read in its time zone);
2. the workflow runs a BigQuery query (:mod:`mlops_infra.gcp.drift_query`) comparing each watched
   feature in the endpoints' request logs with the training data, distance 0-1;
3. when a feature's distance exceeds its threshold (the feature's own, else ``threshold``), the
   workflow writes a ``mlops-drift`` log entry (drifted features, every distance/threshold) and
   submits the training pipeline job (the same CMEK job the retraining schedule posts);
4. a log-based metric counts those entries; an alert policy notifies the platform's channels of a
   drift, and of a drift check that failed (a failing check must not read as "no drift").

The workflow runs as its own service account: it may run BigQuery jobs, read the named datasets,
write its log entries, create Vertex pipeline jobs and act as the pipeline's account, nothing else.

``engine="vertex_model_monitoring"`` lets Vertex AI measure: one
:class:`~mlops_infra.gcp.dynamic.vertex_monitoring.VertexModelMonitoringJob` per monitored endpoint
(skew against the baseline table and/or drift, every ``monitor_interval_hours``, CMEK) logs its
anomalies, and :mod:`mlops_infra.gcp.drift_trigger` routes them (log sink -> CMEK Pub/Sub -> Eventarc)
to a workflow that logs the same ``mlops-drift`` entry and submits the same pipeline job. Its
account may write log entries, create pipeline jobs and act as the pipeline's account; the Vertex
AI service agent may read the baseline datasets.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from mlops_infra.component import PlatformComponent
from mlops_infra.config.base import validate_args
from mlops_infra.conventions import naming
from mlops_infra.gcp.alert_policy import severity_alert_policy
from mlops_infra.gcp.drift_query import DriftFeature, drift_query
from mlops_infra.gcp.drift_trigger import AnomalyTrigger, anomaly_filter, anomaly_trigger, retrain_on_anomaly
from mlops_infra.gcp.dynamic.vertex_monitoring import MONITORING_JOB_RESOURCE, VertexModelMonitoringJob
from mlops_infra.gcp.iam import (
    ServiceAgent,
    service_account_member,
    service_agent_member,
)
from mlops_infra.gcp.pipeline_job import pipeline_jobs_url
from mlops_infra.gcp.platform_key import key_for, workflows_agent_grant
from mlops_infra.gcp.project import project_id, project_number, vertex_api_endpoint
from mlops_infra.gcp.scheduled_workflow import (
    WORKFLOWS_INVOKER,
    cmek_workflow,
    failed_executions,
    project_role_grants,
    workflow_schedule,
)
from mlops_infra.gcp.settings import KmsKeyName, Region
from mlops_infra.gcp.validation import BIGQUERY_ID_PATTERN
from mlops_infra.outputs import combined, concat
from mlops_infra.spec.base import Spec, StrInput, field_error
from mlops_infra.spec.schedule import Schedule

DRIFT_EVENT = "mlops-drift"
# Project-level roles of the drift workflow: BigQuery jobs and its own log entries (+ Vertex jobs to retrain).
PROJECT_ROLES = ("roles/bigquery.jobUser", "roles/logging.logWriter")
RETRAIN_ROLE = "roles/aiplatform.user"
# The Vertex engine's workflow only logs and retrains: Vertex AI measures, so no BigQuery role.
VERTEX_ENGINE_PROJECT_ROLES = ("roles/logging.logWriter",)
Engine = Literal["bigquery", "vertex_model_monitoring"]
Objective = Literal["skew", "drift"]


def _skew_only() -> list[Objective]:
    return ["skew"]


class MonitoredEndpoint(Spec):
    """An endpoint a Vertex monitoring job watches: every deployed model of it, by id."""

    key: str = Field(pattern=r"^[a-z][a-z0-9-]{0,39}$", description="Names the job's resources.")
    endpoint: StrInput = Field(description="projects/P/locations/L/endpoints/ID.")
    deployed_model_ids: Any = Field(description="Ids of the deployed models (a VertexModelDeployment output).")
    sample_rate: float | None = Field(None, gt=0, le=1, description="Share (0-1) of its requests analysed.")


class DriftRetrainingArgs(Spec):
    """What is compared, when, how far it may move, and which pipeline job a drift starts."""

    region: Region
    kms_key_name: KmsKeyName = None
    engine: Engine = Field(
        "bigquery",
        description="bigquery: a scheduled query of the request logs; vertex_model_monitoring: Vertex AI measures.",
    )
    schedule: Schedule | None = Field(None, description="When drift is measured (engine bigquery; required).")
    threshold: float = Field(
        gt=0, le=1, description="Distance (0-1) above which a feature has drifted, unless the feature sets its own."
    )
    features: list[DriftFeature] = Field(min_length=1, max_length=100)
    baseline_table: StrInput = Field(description="Training data, project.dataset.table.")
    baseline_time_column: str | None = Field(
        None, pattern=BIGQUERY_ID_PATTERN, description="Event-time column of the baseline (engine bigquery)."
    )
    baseline_days: int = Field(30, ge=1, le=3650, description="Baseline rows from the last N days.")
    window_hours: int = Field(24, ge=1, le=720, description="Logged requests from the last N hours.")
    logging_tables: list[StrInput] = Field(
        default_factory=list, description="Request logs, project.dataset.table (engine bigquery; at least one)."
    )
    read_datasets: list[StrInput] = Field(min_length=1, description="Dataset ids holding the tables above.")
    monitored_endpoints: list[MonitoredEndpoint] = Field(
        default_factory=list, description="Endpoints a Vertex monitoring job watches (engine vertex_model_monitoring)."
    )
    monitor_interval_hours: int = Field(1, ge=1, le=168, description="Vertex engine: hours between analyses.")
    objectives: list[Objective] = Field(
        default_factory=_skew_only,
        min_length=1,
        description="Vertex engine: skew (vs the baseline table) and/or drift (between serving windows).",
    )
    sample_rate: float = Field(
        1.0, gt=0, le=1, description="Vertex engine: share (0-1) of requests analysed, unless the endpoint sets one."
    )
    log_ttl_days: int = Field(30, ge=1, le=3650, description="Vertex engine: days the job keeps logged requests.")
    target_field: str | None = Field(
        None, pattern=BIGQUERY_ID_PATTERN, description="Vertex engine: label column of the baseline, not compared."
    )
    api_endpoint: str | None = Field(None, description="Vertex API host; default {region}-aiplatform.googleapis.com.")
    pipeline_job: Any = Field(None, description="PipelineJob body to submit on drift; None only alerts.")
    pipeline_service_account: StrInput | None = Field(None, description="E-mail of the account the pipeline runs as.")
    notification_channels: list[StrInput] = Field(default_factory=list, description="Who hears about drift.")


def check_engine(args: DriftRetrainingArgs) -> None:
    """The fields each engine needs (and refuses), named, before anything registers."""
    title = "DriftRetrainingArgs"
    if args.engine == "bigquery":
        for field, value in (
            ("schedule", args.schedule),
            ("baseline_time_column", args.baseline_time_column),
            ("logging_tables", args.logging_tables),
        ):
            if not value:
                raise field_error(title, (field,), "engine bigquery needs it (the scheduled query reads it)", value)
        return
    if args.schedule is not None:
        raise field_error(
            title,
            ("schedule",),
            "engine vertex_model_monitoring runs every monitor_interval_hours; leave schedule unset",
            args.schedule.cron,
        )
    if not args.monitored_endpoints:
        raise field_error(
            title, ("monitored_endpoints",), "engine vertex_model_monitoring needs at least one endpoint to watch"
        )
    if "skew" not in args.objectives and args.target_field is not None:
        raise field_error(title, ("target_field",), "only skew detection reads the baseline's label column")
    keys = [e.key for e in args.monitored_endpoints]
    if len(set(keys)) != len(keys):
        raise field_error(title, ("monitored_endpoints",), f"keys must be unique, got {keys}")


def monitor_interval_hours(schedule: Schedule) -> int | None:
    """Hours between runs of an hourly-regular cron (``M * * * *``, ``M */N * * *``, ``M H * * *``), else None."""
    minute, hour, day, month, weekday = schedule.cron.split()
    if not minute.isdigit() or (day, month, weekday) != ("*", "*", "*"):
        return None
    if hour == "*":
        return 1
    if hour.startswith("*/") and hour[2:].isdigit() and 24 % int(hour[2:]) == 0:
        return int(hour[2:])
    return 24 if hour.isdigit() else None


class DriftRetraining(PlatformComponent[DriftRetrainingArgs]):
    """Drift measurement (scheduled BigQuery query or Vertex monitoring jobs), retraining workflow, metric, alert."""

    TYPE_TOKEN = "mlops-infra:gcp:DriftRetraining"
    ARGS = DriftRetrainingArgs

    def __init__(
        self, name: str, args: DriftRetrainingArgs | dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_engine(validate_args(DriftRetrainingArgs, args))
        super().__init__(name, args, opts)
        a = self.args
        vertex = a.engine == "vertex_model_monitoring"
        project = project_id(pulumi.InvokeOutputOptions(parent=self))
        self.service_account = gcp.serviceaccount.Account(
            self.child_name("sa"),
            account_id=self.platform.name(name, naming.GCP_SERVICE_ACCOUNT_ID),
            display_name=f"{name} drift check ({self.platform.environment})",
            description=(
                "Starts the training pipeline when Vertex AI model monitoring logs an anomaly."
                if vertex
                else "Measures drift in BigQuery and starts the training pipeline when it is exceeded."
            ),
            opts=self.child_opts(),
        )
        member = service_account_member(self.service_account.email)
        roles = VERTEX_ENGINE_PROJECT_ROLES if vertex else PROJECT_ROLES
        grants = project_role_grants(
            self, project, member, (*roles, *([RETRAIN_ROLE] if a.pipeline_job is not None else []))
        )
        # The reader of the baseline (and logs): the workflow's query, or Vertex AI's monitoring pipeline.
        reader = (
            service_agent_member(ServiceAgent.AIPLATFORM, project_number(pulumi.InvokeOutputOptions(parent=self)))
            if vertex
            else member
        )
        readers: list[pulumi.Resource] = []
        for index, dataset in enumerate(a.read_datasets):
            readers.append(
                gcp.bigquery.DatasetIamMember(
                    self.child_name(f"{'vertex-agent-' if vertex else 'dataset-'}reader-{index}"),
                    dataset_id=dataset,
                    role="roles/bigquery.dataViewer",
                    member=reader,
                    opts=self.child_opts(),
                )
            )
        if not vertex:
            grants.extend(readers)
        if a.pipeline_service_account is not None:
            # Submitting a pipeline job that runs as the pipeline's account needs actAs on that account only.
            grants.append(
                gcp.serviceaccount.IAMMember(
                    self.child_name("act-as-pipeline"),
                    service_account_id=concat("projects/", project, "/serviceAccounts/", a.pipeline_service_account),
                    role="roles/iam.serviceAccountUser",
                    member=member,
                    opts=self.child_opts(),
                )
            )
        key = key_for(a.kms_key_name, a.region, requester=self)
        # The Workflows agent encrypts the workflow's data with the key: one grant per key, shared with
        # any other CMEK workflow of the stack (the deploy webhook's, batch prediction's, off-hours').
        key_grant = workflows_agent_grant(key, self)
        workflow_name = self.platform.name(name, naming.GCP_RESOURCE)
        self.workflow = cmek_workflow(
            self,
            name=workflow_name,
            region=a.region,
            description=(
                "On a Vertex model monitoring anomaly, log it and start the training pipeline"
                if vertex
                else "Measure feature drift; on drift, log it and start the training pipeline"
            ),
            service_account=self.service_account.id,
            key_name=key.name,
            source=self._retrain_definition(project) if vertex else self._definition(project),
            depends_on=[*grants, key_grant],
        )
        self.scheduler_job: gcp.cloudscheduler.Job | None = None
        self.monitoring_jobs: dict[str, VertexModelMonitoringJob] = {}
        self.trigger: AnomalyTrigger | None = None
        if vertex:
            vertex_key = key_for(a.kms_key_name, a.region, ServiceAgent.AIPLATFORM, requester=self)
            self._monitor(project, vertex_key.name, [*readers, *vertex_key.depends_on])
            self.trigger = anomaly_trigger(
                self,
                project=project,
                project_number=project_number(pulumi.InvokeOutputOptions(parent=self)),
                region=a.region,
                key=key.name,
                job_ids=[job.id.apply(_job_id) for job in self.monitoring_jobs.values()],
                workflow=self.workflow,
                labels=self.platform.gcp_labels,
                topic_name=self.platform.name(f"{name}-anomalies", naming.GCP_RESOURCE),
                account_id=self.platform.name(f"{name}-trigger", naming.GCP_SERVICE_ACCOUNT_ID),
            )
        else:
            self._schedule(name, project, member)
        self._alert(name, project, workflow_name)
        self.workflow_name: pulumi.Output[str] = self.workflow.name
        self.register_outputs(
            {
                "workflow": self.workflow.name,
                "schedulerJob": self.scheduler_job.name if self.scheduler_job is not None else None,
                "monitoringJobs": {k: j.name for k, j in self.monitoring_jobs.items()},
            }
        )

    def _monitor(self, project: pulumi.Output[str], key: pulumi.Input[str], after: list[pulumi.Resource]) -> None:
        """One Vertex monitoring job per endpoint: every deployed model against the baseline table."""
        a = self.args
        thresholds = {f.name: f.threshold if f.threshold is not None else a.threshold for f in a.features}
        for watched in a.monitored_endpoints:
            self.monitoring_jobs[watched.key] = VertexModelMonitoringJob(
                self.child_name(f"monitor-{watched.key}"),
                project=project,
                region=a.region,
                api_endpoint=a.api_endpoint or vertex_api_endpoint(a.region),
                endpoint=watched.endpoint,
                deployed_model_ids=pulumi.Output.from_input(watched.deployed_model_ids).apply(_ids),
                display_name=self.platform.name(f"{self.logical_name}-{watched.key}", naming.GCP_RESOURCE),
                kms_key_name=key,
                feature_thresholds=thresholds,
                default_threshold=a.threshold,
                baseline_table=a.baseline_table,
                objectives=list(a.objectives),
                target_field=a.target_field,
                monitor_interval_hours=a.monitor_interval_hours,
                sample_rate=watched.sample_rate if watched.sample_rate is not None else a.sample_rate,
                log_ttl_days=a.log_ttl_days,
                notification_channels=list(a.notification_channels),
                labels=self.platform.gcp_labels,
                opts=self.child_opts(depends_on=after),
            )

    def _schedule(self, name: str, project: pulumi.Output[str], member: pulumi.Output[str]) -> None:
        """Engine bigquery: Cloud Scheduler executes the drift workflow on the schedule."""
        a = self.args
        assert a.schedule is not None  # check_engine
        invoker = project_role_grants(self, project, member, (WORKFLOWS_INVOKER,))
        self.scheduler_job = workflow_schedule(
            self,
            name=self.platform.name(f"{name}-check", naming.GCP_RESOURCE),
            region=a.region,
            description="Runs the drift check workflow",
            schedule=a.schedule,
            workflow=self.workflow,
            invoker_email=self.service_account.email,
            depends_on=invoker,
        )

    def _alert(self, name: str, project: pulumi.Output[str], workflow_name: str) -> None:
        """A log-based metric of drift detections and the alert policy on it and on failed workflow runs."""
        a = self.args
        metric_name = self.platform.name(f"{name}-detected", naming.GCP_RESOURCE)
        self.metric_type: str = f"logging.googleapis.com/user/{metric_name}"
        """The Cloud Monitoring metric type counting drift detections (dashboards chart it)."""
        metric_resource = "workflows.googleapis.com/Workflow"
        detections: pulumi.Input[str] = concat(
            'resource.type="workflows.googleapis.com/Workflow" AND resource.labels.workflow_id="',
            workflow_name,
            f'" AND jsonPayload.event="{DRIFT_EVENT}"',
        )
        if self.monitoring_jobs:
            # Vertex engine: the anomalies themselves (the workflow's entry is written only when it runs).
            metric_resource = MONITORING_JOB_RESOURCE
            detections = anomaly_filter(project, [j.id.apply(_job_id) for j in self.monitoring_jobs.values()])
        self.metric = gcp.logging.Metric(
            self.child_name("metric"),
            name=metric_name,
            description=(
                "Vertex AI model monitoring anomalies (a feature beyond its threshold)"
                if self.monitoring_jobs
                else "Drift checks that found a feature beyond its threshold"
            ),
            filter=detections,
            metric_descriptor=gcp.logging.MetricMetricDescriptorArgs(metric_kind="DELTA", value_type="INT64"),
            opts=self.child_opts(),
        )
        period = "300s"
        self.alert_policy = severity_alert_policy(
            self.child_name("alert"),
            display_name=f"{workflow_name} feature drift",
            severity="warning",
            channels=a.notification_channels,
            labels=self.platform.gcp_labels,
            content="A watched feature drifted beyond its threshold (a retraining run was started), "
            "or the drift check itself failed: see the workflow's executions.",
            conditions=[
                gcp.monitoring.AlertPolicyConditionArgs(
                    display_name="drift detected",
                    condition_threshold=gcp.monitoring.AlertPolicyConditionConditionThresholdArgs(
                        filter=self.metric.name.apply(
                            lambda m: (
                                f'metric.type="logging.googleapis.com/user/{m}" AND resource.type="{metric_resource}"'
                            )
                        ),
                        comparison="COMPARISON_GT",
                        threshold_value=0,
                        duration="0s",
                        aggregations=[
                            gcp.monitoring.AlertPolicyConditionConditionThresholdAggregationArgs(
                                alignment_period=period, per_series_aligner="ALIGN_SUM"
                            )
                        ],
                    ),
                ),
                # A drift check that fails (query error, missing table) must not look like "no drift".
                failed_executions("drift check failed", workflow_name, period),
            ],
            opts=self.child_opts(),
        )

    def _retrain_definition(self, project: pulumi.Output[str]) -> pulumi.Output[str]:
        """Engine vertex_model_monitoring: the workflow an anomaly runs, as JSON."""
        a = self.args
        thresholds = {f.name: f.threshold if f.threshold is not None else a.threshold for f in a.features}
        return pulumi.Output.all(pipeline_jobs_url(project, a.region), a.pipeline_job).apply(
            lambda values: json.dumps(
                retrain_on_anomaly(values[0], values[1], thresholds, event=DRIFT_EVENT), sort_keys=True, indent=1
            )
        )

    def _definition(self, project: pulumi.Output[str]) -> pulumi.Output[str]:
        """The workflow as JSON (Workflows reads JSON or YAML)."""
        a = self.args
        assert a.baseline_time_column is not None  # check_engine
        time_column = a.baseline_time_column
        url = pipeline_jobs_url(project, a.region)
        query = combined(
            lambda baseline, *logged: drift_query(
                features=a.features,
                baseline_table=str(baseline),
                baseline_time_column=time_column,
                logging_tables=[str(t) for t in logged],
                threshold=a.threshold,
                baseline_days=a.baseline_days,
                window_hours=a.window_hours,
            ),
            a.baseline_table,
            *a.logging_tables,
        )
        thresholds = {f.name: f.threshold if f.threshold is not None else a.threshold for f in a.features}
        return pulumi.Output.all(project, query, url, a.pipeline_job).apply(
            lambda values: json.dumps(
                _workflow(values[0], a.region, values[1], values[2], values[3], thresholds=thresholds),
                sort_keys=True,
                indent=1,
            )
        )


def _job_id(name: str) -> str:
    """The job id (last segment of its resource name): what its log entries are labelled with."""
    return str(name).rsplit("/", 1)[-1]


def _ids(value: Any) -> list[str]:
    """Deployed model ids from a list or a key -> id map (VertexModelDeployment.deployed_model_ids)."""
    if isinstance(value, dict):
        return sorted(str(v) for v in value.values())
    return sorted(str(v) for v in value or [])


def _workflow(
    project: str,
    region: str,
    query: str,
    url: str,
    job: dict[str, Any] | None,
    *,
    thresholds: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Measure, then on drift log a ``mlops-drift`` entry and (with a job) create the pipeline job.

    The query's row: ``f[0]`` drifted count, ``f[1]`` every ``feature=distance/threshold``, ``f[2]`` the
    drifted features; ``thresholds`` (feature -> 0-1) is logged with them so an entry explains itself.
    """
    retrain: list[dict[str, Any]] = [
        {
            "retrain": {
                "call": "http.post",
                "args": {"url": url, "auth": {"type": "OAuth2"}, "body": job},
                "result": "run",
            }
        },
        {"started": {"return": "${run.body.name}"}},
    ]
    if job is None:
        retrain = [{"alerted": {"return": "${drift.rows[0].f[1].v}"}}]
    return {
        "main": {
            "steps": [
                {
                    "measure": {
                        "call": "googleapis.bigquery.v2.jobs.query",
                        "args": {
                            "projectId": project,
                            "body": {
                                "query": query,
                                "useLegacySql": False,
                                "location": region,
                                "timeoutMs": 600000,
                            },
                        },
                        "result": "drift",
                    }
                },
                {
                    "decide": {
                        "switch": [{"condition": "${int(drift.rows[0].f[0].v) > 0}", "next": "alarm"}],
                        "next": "stable",
                    }
                },
                {
                    "alarm": {
                        "call": "sys.log",
                        "args": {
                            "severity": "WARNING",
                            "json": {
                                "event": DRIFT_EVENT,
                                "features": "${drift.rows[0].f[2].v}",
                                "distances": "${drift.rows[0].f[1].v}",
                                "thresholds": thresholds or {},
                            },
                        },
                    }
                },
                *retrain,
                {"stable": {"return": "${drift.rows[0].f[1].v}"}},
            ]
        }
    }
