"""Retraining on drift for Vertex AI endpoints, from services that pulumi-gcp can declare.

pulumi-gcp has no Vertex model-monitoring job, so the loop is built from parts that exist:

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
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.gcp.drift_query import DriftFeature, drift_query
from mlops_infra.gcp.iam import KMS_ENCRYPTER_DECRYPTER, service_account_member, workflows_agent_member
from mlops_infra.gcp.pipeline_job import CLOUD_PLATFORM_SCOPE, pipeline_jobs_url
from mlops_infra.gcp.platform_key import key_for
from mlops_infra.gcp.project import project_id, project_number
from mlops_infra.gcp.settings import KmsKeyName, Region
from mlops_infra.gcp.validation import BIGQUERY_ID_PATTERN
from mlops_infra.spec.base import Spec, StrInput
from mlops_infra.spec.schedule import Schedule

DRIFT_EVENT = "mlops-drift"
# Project-level roles of the drift workflow: BigQuery jobs and its own log entries (+ Vertex jobs to retrain).
PROJECT_ROLES = ("roles/bigquery.jobUser", "roles/logging.logWriter")
RETRAIN_ROLE = "roles/aiplatform.user"


class DriftRetrainingArgs(Spec):
    """What is compared, when, how far it may move, and which pipeline job a drift starts."""

    region: Region
    kms_key_name: KmsKeyName = None
    schedule: Schedule = Field(description="When drift is measured.")
    threshold: float = Field(
        gt=0, le=1, description="Distance (0-1) above which a feature has drifted, unless the feature sets its own."
    )
    features: list[DriftFeature] = Field(min_length=1, max_length=100)
    baseline_table: StrInput = Field(description="Training data, project.dataset.table.")
    baseline_time_column: str = Field(pattern=BIGQUERY_ID_PATTERN, description="Event-time column of the baseline.")
    baseline_days: int = Field(30, ge=1, le=3650, description="Baseline rows from the last N days.")
    window_hours: int = Field(24, ge=1, le=720, description="Logged requests from the last N hours.")
    logging_tables: list[StrInput] = Field(min_length=1, description="Request logs, project.dataset.table.")
    read_datasets: list[StrInput] = Field(min_length=1, description="Dataset ids holding the tables above.")
    pipeline_job: Any = Field(None, description="PipelineJob body to submit on drift; None only alerts.")
    pipeline_service_account: StrInput | None = Field(None, description="E-mail of the account the pipeline runs as.")
    notification_channels: list[StrInput] = Field(default_factory=list, description="Who hears about drift.")


class DriftRetraining(PlatformComponent[DriftRetrainingArgs]):
    """Scheduled drift query, retraining workflow, drift log metric and alert policy."""

    TYPE_TOKEN = "mlops-infra:gcp:DriftRetraining"
    ARGS = DriftRetrainingArgs

    def __init__(
        self, name: str, args: DriftRetrainingArgs | dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        project = project_id(pulumi.InvokeOutputOptions(parent=self))
        self.service_account = gcp.serviceaccount.Account(
            self.child_name("sa"),
            account_id=self.platform.name(name, naming.GCP_SERVICE_ACCOUNT_ID),
            display_name=f"{name} drift check ({self.platform.environment})",
            description="Measures drift in BigQuery and starts the training pipeline when it is exceeded.",
            opts=self.child_opts(),
        )
        member = service_account_member(self.service_account.email)
        grants: list[pulumi.Resource] = [
            gcp.projects.IAMMember(
                self.child_name(role.split("/")[1].replace(".", "-")),
                project=project,
                role=role,
                member=member,
                opts=self.child_opts(),
            )
            for role in (*PROJECT_ROLES, *([RETRAIN_ROLE] if a.pipeline_job is not None else []))
        ]
        for index, dataset in enumerate(a.read_datasets):
            grants.append(
                gcp.bigquery.DatasetIamMember(
                    self.child_name(f"dataset-reader-{index}"),
                    dataset_id=dataset,
                    role="roles/bigquery.dataViewer",
                    member=member,
                    opts=self.child_opts(),
                )
            )
        if a.pipeline_service_account is not None:
            # Submitting a pipeline job that runs as the pipeline's account needs actAs on that account only.
            grants.append(
                gcp.serviceaccount.IAMMember(
                    self.child_name("act-as-pipeline"),
                    service_account_id=pulumi.Output.concat(
                        "projects/", project, "/serviceAccounts/", a.pipeline_service_account
                    ),
                    role="roles/iam.serviceAccountUser",
                    member=member,
                    opts=self.child_opts(),
                )
            )
        key = key_for(a.kms_key_name, a.region, requester=self)
        # The Workflows agent encrypts the workflow's data with the key: granted on this key only.
        key_grant = gcp.kms.CryptoKeyIAMMember(
            self.child_name("key-workflows-agent"),
            crypto_key_id=key.name,
            role=KMS_ENCRYPTER_DECRYPTER,
            member=workflows_agent_member(project_number(pulumi.InvokeOutputOptions(parent=self))),
            opts=self.child_opts(),
        )
        workflow_name = self.platform.name(name, naming.GCP_RESOURCE)
        self.workflow = gcp.workflows.Workflow(
            self.child_name("workflow"),
            name=workflow_name,
            region=a.region,
            description="Measure feature drift; on drift, log it and start the training pipeline",
            service_account=self.service_account.id,
            crypto_key_name=key.name,
            call_log_level="LOG_ERRORS_ONLY",
            source_contents=self._definition(project),
            labels=self.platform.gcp_labels,
            opts=self.child_opts(depends_on=[*grants, key_grant]),
        )
        invoker = gcp.projects.IAMMember(
            self.child_name("workflows-invoker"),
            project=project,
            role="roles/workflows.invoker",
            member=member,
            opts=self.child_opts(),
        )
        self.scheduler_job = gcp.cloudscheduler.Job(
            self.child_name("schedule"),
            name=self.platform.name(f"{name}-check", naming.GCP_RESOURCE),
            region=a.region,
            description="Runs the drift check workflow",
            schedule=a.schedule.cron,
            time_zone=a.schedule.time_zone,
            http_target=gcp.cloudscheduler.JobHttpTargetArgs(
                uri=pulumi.Output.concat(
                    "https://workflowexecutions.googleapis.com/v1/", self.workflow.id, "/executions"
                ),
                http_method="POST",
                headers={"Content-Type": "application/json"},
                body="e30=",  # base64 of "{}": no workflow arguments
                oauth_token=gcp.cloudscheduler.JobHttpTargetOauthTokenArgs(
                    service_account_email=self.service_account.email, scope=CLOUD_PLATFORM_SCOPE
                ),
            ),
            opts=self.child_opts(depends_on=[invoker]),
        )
        metric_name = self.platform.name(f"{name}-detected", naming.GCP_RESOURCE)
        self.metric_type: str = f"logging.googleapis.com/user/{metric_name}"
        """The Cloud Monitoring metric type counting drift detections (dashboards chart it)."""
        self.metric = gcp.logging.Metric(
            self.child_name("metric"),
            name=metric_name,
            description="Drift checks that found a feature beyond its threshold",
            filter=pulumi.Output.concat(
                'resource.type="workflows.googleapis.com/Workflow" AND resource.labels.workflow_id="',
                workflow_name,
                f'" AND jsonPayload.event="{DRIFT_EVENT}"',
            ),
            metric_descriptor=gcp.logging.MetricMetricDescriptorArgs(metric_kind="DELTA", value_type="INT64"),
            opts=self.child_opts(),
        )
        period = "300s"
        self.alert_policy = gcp.monitoring.AlertPolicy(
            self.child_name("alert"),
            display_name=f"{workflow_name} feature drift",
            combiner="OR",
            severity="WARNING",
            notification_channels=a.notification_channels,
            user_labels={**self.platform.gcp_labels, "severity": "warning"},
            documentation=gcp.monitoring.AlertPolicyDocumentationArgs(
                content="A watched feature drifted beyond its threshold (a retraining run was started), "
                "or the drift check itself failed: see the workflow's executions.",
                mime_type="text/markdown",
            ),
            conditions=[
                gcp.monitoring.AlertPolicyConditionArgs(
                    display_name="drift detected",
                    condition_threshold=gcp.monitoring.AlertPolicyConditionConditionThresholdArgs(
                        filter=self.metric.name.apply(
                            lambda m: (
                                f'metric.type="logging.googleapis.com/user/{m}" '
                                'AND resource.type="workflows.googleapis.com/Workflow"'
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
                gcp.monitoring.AlertPolicyConditionArgs(
                    display_name="drift check failed",
                    condition_threshold=gcp.monitoring.AlertPolicyConditionConditionThresholdArgs(
                        filter=(
                            'metric.type="workflows.googleapis.com/finished_execution_count" '
                            'AND resource.type="workflows.googleapis.com/Workflow" '
                            f'AND resource.labels.workflow_id="{workflow_name}" AND metric.labels.status="FAILED"'
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
            ],
            opts=self.child_opts(),
        )
        self.workflow_name: pulumi.Output[str] = self.workflow.name
        self.register_outputs({"workflow": self.workflow.name, "schedulerJob": self.scheduler_job.name})

    def _definition(self, project: pulumi.Output[str]) -> pulumi.Output[str]:
        """The workflow as JSON (Workflows reads JSON or YAML)."""
        a = self.args
        url = pipeline_jobs_url(project, a.region)
        query = pulumi.Output.all(a.baseline_table, *a.logging_tables).apply(
            lambda tables: drift_query(
                features=a.features,
                baseline_table=str(tables[0]),
                baseline_time_column=a.baseline_time_column,
                logging_tables=[str(t) for t in tables[1:]],
                threshold=a.threshold,
                baseline_days=a.baseline_days,
                window_hours=a.window_hours,
            )
        )
        thresholds = {f.name: f.threshold if f.threshold is not None else a.threshold for f in a.features}
        return pulumi.Output.all(project, query, url, a.pipeline_job).apply(
            lambda values: json.dumps(
                _workflow(values[0], a.region, values[1], values[2], values[3], thresholds=thresholds),
                sort_keys=True,
                indent=1,
            )
        )


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
