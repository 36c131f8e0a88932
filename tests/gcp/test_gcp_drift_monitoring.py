"""DriftRetraining(engine="vertex_model_monitoring") under the offline engine: the monitoring job, the
anomaly -> retraining wiring (sink filter, CMEK topic, Eventarc trigger, workflow), IAM, and policy acceptance.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pytest

from mlops_infra.engine import ProgramError
from mlops_infra.engine.captured import CapturedResource, CapturedStack
from mlops_infra.gcp import shared_platform_key
from mlops_infra.gcp.drift import DriftRetraining, monitor_interval_hours
from mlops_infra.gcp.pipeline_job import pipeline_job_body
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.spec.schedule import Schedule
from mlops_infra.testing import plan

JOB = "pulumi-python:dynamic/vertex:VertexModelMonitoringJob"
ENDPOINT_ID = "1234567890"
CHANNEL = "projects/acme-ml/notificationChannels/42"
TRAINING_SA = "training@acme-ml.iam.gserviceaccount.com"
PIPELINE_ROOT = "gs://acme-ml-pipelines/root"
GCP_CONFIG = {"gcp:project": "acme-ml", "gcp:region": "us-central1"}


def drift_args(**extra: Any) -> dict[str, Any]:
    key = shared_platform_key("us-central1").key_name
    return {
        "engine": "vertex_model_monitoring",
        "threshold": 0.2,
        "features": [{"name": "tenure_months", "numeric": True, "threshold": 0.35}, {"name": "contract_type"}],
        "baseline_table": "acme-ml.churn_features.customer_features",
        "read_datasets": ["churn_features"],
        "monitored_endpoints": [
            {
                "key": "scoring",
                "endpoint": f"projects/acme-ml/locations/us-central1/endpoints/{ENDPOINT_ID}",
                "deployed_model_ids": {"blue": "222", "green": "111"},
            }
        ],
        "monitor_interval_hours": 2,
        "sample_rate": 0.5,
        "pipeline_job": pipeline_job_body(
            display_name="churn-training",
            pipeline_root=PIPELINE_ROOT,
            kms_key_name=key,
            service_account=TRAINING_SA,
            labels={"environment": "prod"},
            parameter_values={"model_alias": "challenger"},
            template_uri="https://us-central1-kfp.pkg.dev/acme-ml/pipelines/churn/v1",
        ),
        "pipeline_service_account": TRAINING_SA,
        "notification_channels": [CHANNEL],
        **extra,
    }


def program(with_drift: bool = True, **extra: Any) -> None:
    key = shared_platform_key("us-central1").key_name
    endpoint = gcp.vertex.AiEndpoint(
        "scoring",
        name=ENDPOINT_ID,
        display_name="scoring",
        location="us-central1",
        region="us-central1",
        encryption_spec={"kms_key_name": key},
        predict_request_response_logging_config={
            "enabled": True,
            "sampling_rate": 1.0,
            "bigquery_destination": {"output_uri": "bq://acme-ml.logs.requests"},
        },
        labels={"environment": "prod"},
    )
    gcp.monitoring.AlertPolicy(
        "scoring-errors",
        display_name="scoring errors",
        combiner="OR",
        conditions=[
            {
                "display_name": "error rate",
                "condition_threshold": {
                    "filter": f'resource.type = "aiplatform.googleapis.com/Endpoint" AND '
                    f'resource.labels.endpoint_id = "{ENDPOINT_ID}"',
                    "comparison": "COMPARISON_GT",
                    "duration": "300s",
                    "threshold_value": 5,
                },
            }
        ],
        notification_channels=[CHANNEL],
    )
    if not with_drift:
        return
    args = drift_args(**extra)
    args["monitored_endpoints"][0]["endpoint"] = pulumi.Output.concat(
        "projects/acme-ml/locations/us-central1/endpoints/", endpoint.name
    )
    drift = DriftRetraining("drift", args)
    pulumi.export("key", key)
    pulumi.export("jobIds", {k: j.id for k, j in drift.monitoring_jobs.items()})
    assert drift.trigger is not None
    pulumi.export("topic", drift.trigger.topic.id)
    pulumi.export("workflow", drift.workflow.id)


@pytest.fixture(scope="module")
def stack() -> CapturedStack:
    return plan(program, environment="prod", config=GCP_CONFIG)


def named(stack: CapturedStack, type_token: str, name: str) -> CapturedResource:
    found = [r for r in stack.by_type(type_token) if r.name == name]
    assert len(found) == 1, [r.name for r in stack.by_type(type_token)]
    return found[0]


def members(stack: CapturedStack, type_token: str) -> dict[str, tuple[str, Any]]:
    return {r.name: (r.inputs["role"], r.inputs["member"]) for r in stack.by_type(type_token)}


def test_one_cmek_monitoring_job_per_endpoint_with_per_feature_thresholds(stack):
    job = named(stack, JOB, "drift-monitor-scoring")
    inputs = job.inputs
    assert inputs["endpoint"] == f"projects/acme-ml/locations/us-central1/endpoints/{ENDPOINT_ID}"
    assert inputs["deployed_model_ids"] == ["111", "222"]  # every deployed model, from the deployment's map
    # DriftSpec.threshold_for's vocabulary: each feature's own 0-1 threshold, the default for the rest.
    assert inputs["feature_thresholds"] == {"tenure_months": 0.35, "contract_type": 0.2}
    assert inputs["default_threshold"] == 0.2
    assert inputs["baseline_table"] == "acme-ml.churn_features.customer_features"
    assert inputs["objectives"] == ["skew"]
    assert (inputs["monitor_interval_hours"], inputs["sample_rate"], inputs["log_ttl_days"]) == (2, 0.5, 30)
    assert inputs["kms_key_name"] == stack.outputs["key"]
    assert inputs["notification_channels"] == [CHANNEL]
    assert inputs["labels"]["environment"] == "prod"
    assert inputs["api_endpoint"] == "us-central1-aiplatform.googleapis.com"
    assert job.parent == named(stack, "mlops-infra:gcp:DriftRetraining", "drift").urn
    # The Vertex AI service agent reads the baseline dataset (and only it) before the job runs.
    reader = named(stack, "gcp:bigquery/datasetIamMember:DatasetIamMember", "drift-vertex-agent-reader-0")
    assert reader.inputs == {
        "datasetId": "churn_features",
        "role": "roles/bigquery.dataViewer",
        "member": "serviceAccount:service-123456789012@gcp-sa-aiplatform.iam.gserviceaccount.com",
    }
    assert reader.urn in job.dependencies


def test_anomalies_of_exactly_these_jobs_reach_a_cmek_topic(stack):
    job_id = stack.outputs["jobIds"]["scoring"].rsplit("/", 1)[-1]
    sink = named(stack, "gcp:logging/projectSink:ProjectSink", "drift-anomaly-sink").inputs
    assert sink["filter"] == (
        'logName="projects/acme-ml/logs/aiplatform.googleapis.com%2Fmodel_monitoring_anomaly" '
        'AND resource.type="aiplatform.googleapis.com/ModelDeploymentMonitoringJob" '
        f'AND resource.labels.model_deployment_monitoring_job=("{job_id}")'
    )
    assert sink["destination"] == f"pubsub.googleapis.com/{stack.outputs['topic']}"
    assert sink["uniqueWriterIdentity"] is True
    topic = named(stack, "gcp:pubsub/topic:Topic", "drift-anomalies").inputs
    assert topic["kmsKeyName"] == stack.outputs["key"]
    assert topic["labels"]["environment"] == "prod"
    pubsub_agent = "serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com"
    key_grant = named(stack, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "drift-key-pubsub-agent")
    assert (key_grant.inputs["role"], key_grant.inputs["member"]) == (
        "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        pubsub_agent,
    )
    assert key_grant.urn in named(stack, "gcp:pubsub/topic:Topic", "drift-anomalies").dependencies
    # The sink's own identity (writer_identity, known once the sink exists) may publish to this topic only.
    publisher = named(stack, "gcp:pubsub/topicIAMMember:TopicIAMMember", "drift-anomaly-sink-publisher")
    assert publisher.inputs["role"] == "roles/pubsub.publisher"
    assert publisher.inputs["topic"] == topic["name"]
    assert named(stack, "gcp:logging/projectSink:ProjectSink", "drift-anomaly-sink").urn in publisher.dependencies


def test_eventarc_runs_the_retraining_workflow_as_an_invoker_only_account(stack):
    trigger = named(stack, "gcp:eventarc/trigger:Trigger", "drift-trigger").inputs
    assert trigger["matchingCriterias"] == [
        {"attribute": "type", "value": "google.cloud.pubsub.topic.v1.messagePublished"}
    ]
    assert trigger["transport"] == {"pubsub": {"topic": stack.outputs["topic"]}}
    assert trigger["destination"] == {"workflow": stack.outputs["workflow"]}
    account = named(stack, "gcp:serviceaccount/account:Account", "drift-trigger-sa").inputs["accountId"]
    assert trigger["serviceAccount"] == f"{account}@acme-ml.iam.gserviceaccount.com"
    assert trigger["location"] == "us-central1" and trigger["labels"]["environment"] == "prod"
    trigger_member = f"serviceAccount:{account}@acme-ml.iam.gserviceaccount.com"
    project_roles = members(stack, "gcp:projects/iAMMember:IAMMember")
    assert [r for r, m in project_roles.values() if m == trigger_member] == ["roles/workflows.invoker"]
    token = named(stack, "gcp:serviceaccount/iAMMember:IAMMember", "drift-trigger-pubsub-token-creator").inputs
    assert token["serviceAccountId"] == f"projects/acme-ml/serviceAccounts/{account}@acme-ml.iam.gserviceaccount.com"
    assert token["role"] == "roles/iam.serviceAccountTokenCreator"  # on the trigger's account only
    assert token["member"] == "serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com"


def test_the_workflow_logs_the_anomaly_and_submits_the_cmek_pipeline_job(stack):
    workflow = named(stack, "gcp:workflows/workflow:Workflow", "drift-workflow").inputs
    assert workflow["cryptoKeyName"] == stack.outputs["key"]
    main = json.loads(workflow["sourceContents"])["main"]
    assert main["params"] == ["event"]
    steps = dict(next(iter(s.items())) for s in main["steps"])
    assert steps["decode"]["assign"] == [{"entry": "${json.decode(base64.decode(event.data.message.data))}"}]
    logged = steps["alarm"]["args"]["json"]
    assert logged["event"] == "mlops-drift" and logged["anomalies"] == "${entry.jsonPayload.featureAnomalies}"
    assert logged["thresholds"] == {"tenure_months": 0.35, "contract_type": 0.2}
    retrain = steps["retrain"]["args"]
    assert retrain["url"] == (
        "https://us-central1-aiplatform.googleapis.com/v1/projects/acme-ml/locations/us-central1/pipelineJobs"
    )
    assert retrain["body"]["encryptionSpec"] == {"kmsKeyName": stack.outputs["key"]}
    assert retrain["body"]["serviceAccount"] == TRAINING_SA
    assert retrain["body"]["runtimeConfig"]["gcsOutputDirectory"] == PIPELINE_ROOT
    # Its account: log entries, pipeline jobs, actAs the pipeline's account; no BigQuery role (Vertex measures).
    account = named(stack, "gcp:serviceaccount/account:Account", "drift-sa").inputs["accountId"]
    member = f"serviceAccount:{account}@acme-ml.iam.gserviceaccount.com"
    project_roles = members(stack, "gcp:projects/iAMMember:IAMMember")
    assert sorted(r for r, m in project_roles.values() if m == member) == [
        "roles/aiplatform.user",
        "roles/logging.logWriter",
    ]
    act_as = named(stack, "gcp:serviceaccount/iAMMember:IAMMember", "drift-act-as-pipeline").inputs
    assert act_as["serviceAccountId"] == f"projects/acme-ml/serviceAccounts/{TRAINING_SA}"
    assert act_as["member"] == member
    assert stack.by_type("gcp:cloudscheduler/job:Job") == []  # nothing scheduled: Vertex AI runs the analysis


def test_the_drift_alert_counts_the_anomalies(stack):
    job_id = stack.outputs["jobIds"]["scoring"].rsplit("/", 1)[-1]
    metric = named(stack, "gcp:logging/metric:Metric", "drift-metric").inputs
    assert f'model_deployment_monitoring_job=("{job_id}")' in metric["filter"]
    assert "model_monitoring_anomaly" in metric["filter"]
    alert = named(stack, "gcp:monitoring/alertPolicy:AlertPolicy", "drift-alert").inputs
    detected = alert["conditions"][0]["conditionThreshold"]["filter"]
    assert detected == (
        f'metric.type="logging.googleapis.com/user/{metric["name"]}" '
        'AND resource.type="aiplatform.googleapis.com/ModelDeploymentMonitoringJob"'
    )
    failed = alert["conditions"][1]["conditionThreshold"]["filter"]
    assert "finished_execution_count" in failed and 'metric.labels.status="FAILED"' in failed
    assert alert["notificationChannels"] == [CHANNEL]


def test_monitoring_required_accepts_the_vertex_monitoring_job(stack):
    """The raw program passes monitoring-required in prod with the job; without it the endpoint is flagged."""
    drift = [v for v in evaluate_stack(stack) if v.policy_id == "monitoring-required" and not v.note]
    assert drift == []
    # Only the monitoring job can satisfy it: the workflow neither reads the endpoint's logs nor names it.
    workflow = named(stack, "gcp:workflows/workflow:Workflow", "drift-workflow")
    assert ENDPOINT_ID not in workflow.inputs["sourceContents"] and "requests" not in workflow.inputs["sourceContents"]
    assert named(stack, "gcp:vertex/aiEndpoint:AiEndpoint", "scoring").urn not in workflow.dependencies
    bare = plan(lambda: program(with_drift=False), environment="prod", config=GCP_CONFIG)
    flagged = [v for v in evaluate_stack(bare) if v.policy_id == "monitoring-required"]
    assert any("no drift check starts retraining" in v.message for v in flagged)


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"monitored_endpoints": []}, "monitored_endpoints", "at least one endpoint"),
        ({"schedule": {"cron": "0 * * * *"}}, "schedule", "monitor_interval_hours"),
        ({"monitor_interval_hours": 0}, "monitor_interval_hours", "greater than or equal to 1"),
        ({"sample_rate": 1.5}, "sample_rate", "less than or equal to 1"),
        ({"objectives": ["drift"], "target_field": "churned"}, "target_field", "only skew"),
        ({"engine": "bigquery"}, "schedule", "engine bigquery needs it"),
    ],
)
def test_bad_engine_input_is_named_before_anything_registers(change, field, reason):
    with pytest.raises(ProgramError, match=rf"{field}[\s\S]*{reason}") as info:
        plan(lambda: DriftRetraining("drift", drift_args(**change)), environment="prod", config=GCP_CONFIG)
    assert not [u for u in info.value.registered if "DriftRetraining" in u]


@pytest.mark.parametrize(
    ("cron", "hours"),
    [("0 * * * *", 1), ("15 */6 * * *", 6), ("0 3 * * *", 24), ("0 */5 * * *", None), ("0 3 * * 1", None)],
)
def test_hourly_regular_crons_map_to_an_interval(cron, hours):
    assert monitor_interval_hours(Schedule(cron=cron)) == hours
