"""Anomalies of a Vertex model monitoring job start the retraining workflow, without a person.

The path, all of it declared with pulumi-gcp resources:

1. the monitoring jobs log each anomaly to Cloud Logging (``enable_logging``: log
   ``aiplatform.googleapis.com/model_monitoring_anomaly`` on resource
   ``aiplatform.googleapis.com/ModelDeploymentMonitoringJob``, label ``model_deployment_monitoring_job``);
2. a ``gcp.logging.ProjectSink`` whose filter names exactly those job ids routes the entries to a
   CMEK-encrypted ``gcp.pubsub.Topic`` (its unique writer identity may only publish to that topic);
3. a ``gcp.eventarc.Trigger`` on the topic (``google.cloud.pubsub.topic.v1.messagePublished``) executes
   the retraining ``gcp.workflows.Workflow`` as its own service account, which may only invoke workflows;
4. the workflow (:func:`retrain_on_anomaly`) decodes the log entry, writes the ``mlops-drift`` entry the
   drift metric counts, and creates the training ``PipelineJob`` (CMEK, pipeline root, service account).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from mlops_infra.gcp.dynamic.vertex_monitoring import ANOMALY_LOG, MONITORING_JOB_RESOURCE
from mlops_infra.gcp.topic_trigger import cmek_topic, workflow_trigger
from mlops_infra.outputs import combined, concat


def anomaly_filter(project: pulumi.Input[str], job_ids: Sequence[pulumi.Input[str]]) -> pulumi.Output[str]:
    """Cloud Logging filter of the anomalies the given monitoring jobs log (and nothing else)."""
    return combined(
        lambda project_id, *ids: (
            f'logName="projects/{project_id}/logs/{ANOMALY_LOG}" '
            f'AND resource.type="{MONITORING_JOB_RESOURCE}" '
            "AND resource.labels.model_deployment_monitoring_job=(" + " OR ".join(f'"{job_id}"' for job_id in ids) + ")"
        ),
        project,
        *job_ids,
    )


def retrain_on_anomaly(
    url: str, job: dict[str, Any] | None, thresholds: dict[str, float], *, event: str
) -> dict[str, Any]:
    """The workflow an anomaly runs: log ``event`` (the anomalies, the thresholds), then submit ``job``.

    Eventarc passes the Pub/Sub CloudEvent as the workflow's argument; ``data.message.data`` is the
    base64 of the log entry, whose ``jsonPayload`` lists ``featureAnomalies`` (feature, deviation, threshold).
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
        retrain = [{"alerted": {"return": "${entry.jsonPayload.modelDeploymentMonitoringJob}"}}]
    return {
        "main": {
            "params": ["event"],
            "steps": [
                {"decode": {"assign": [{"entry": "${json.decode(base64.decode(event.data.message.data))}"}]}},
                {
                    "alarm": {
                        "call": "sys.log",
                        "args": {
                            "severity": "WARNING",
                            "json": {
                                "event": event,
                                "engine": "vertex_model_monitoring",
                                "job": "${entry.jsonPayload.modelDeploymentMonitoringJob}",
                                "deployedModelId": "${entry.jsonPayload.deployedModelId}",
                                "objective": "${entry.jsonPayload.anomalyObjective}",
                                "anomalies": "${entry.jsonPayload.featureAnomalies}",
                                "thresholds": thresholds,
                            },
                        },
                    }
                },
                *retrain,
            ],
        }
    }


@dataclass(frozen=True)
class AnomalyTrigger:
    """What routes anomalies to the workflow (tests and the policy pack read their wiring)."""

    topic: gcp.pubsub.Topic
    sink: gcp.logging.ProjectSink
    trigger: gcp.eventarc.Trigger
    service_account: gcp.serviceaccount.Account


def anomaly_trigger(
    owner: Any,
    *,
    project: pulumi.Input[str],
    project_number: pulumi.Input[str],
    region: str,
    key: pulumi.Input[str],
    job_ids: Sequence[pulumi.Input[str]],
    workflow: gcp.workflows.Workflow,
    labels: dict[str, str],
    topic_name: str,
    account_id: str,
) -> AnomalyTrigger:
    """Sink -> CMEK topic -> Eventarc -> ``workflow``, children of ``owner`` (a PlatformComponent).

    Least privilege: the sink's writer identity may publish to this topic only; the trigger's account
    may invoke workflows (Workflows has no per-workflow IAM); the Pub/Sub agent may use the key and
    mint tokens for the trigger's account only (authenticated push to Eventarc).
    """
    topic = cmek_topic(owner, child="anomalies", name=topic_name, key=key, labels=labels)
    sink = gcp.logging.ProjectSink(
        owner.child_name("anomaly-sink"),
        name=topic_name,
        project=project,
        description="Vertex model monitoring anomalies of the watched endpoints, to the retraining topic",
        destination=concat("pubsub.googleapis.com/", topic.id),
        filter=anomaly_filter(project, job_ids),
        unique_writer_identity=True,
        opts=owner.child_opts(),
    )
    publisher = gcp.pubsub.TopicIAMMember(
        owner.child_name("anomaly-sink-publisher"),
        project=project,
        topic=topic.name,
        role="roles/pubsub.publisher",
        member=sink.writer_identity,
        opts=owner.child_opts(depends_on=[sink]),
    )
    trigger, account = workflow_trigger(
        owner,
        topic=topic,
        workflow=workflow,
        project=project,
        project_number=project_number,
        region=region,
        name=topic_name,
        account_id=account_id,
        display_name="drift anomaly trigger",
        description="Eventarc runs the retraining workflow as this account when a monitoring job logs an anomaly.",
        labels=labels,
        depends_on=[publisher],
    )
    return AnomalyTrigger(topic=topic, sink=sink, trigger=trigger, service_account=account)
