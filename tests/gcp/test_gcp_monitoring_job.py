"""VertexModelMonitoringJob: the request body, input checks, replace vs update, and CRUD against the fake Vertex."""

import json

import pytest

from mlops_infra.gcp.dynamic.errors import VertexError
from mlops_infra.gcp.dynamic.vertex_monitoring import (
    REPLACE_FIELDS,
    UPDATE_MASKS,
    VertexModelMonitoringJobProvider,
    check_props,
    job_message,
)

pytestmark = [pytest.mark.filterwarnings("ignore::FutureWarning")]

PARENT = "projects/acme-ml/locations/us-central1"
ENDPOINT = f"{PARENT}/endpoints/4242424242"
KEY = f"{PARENT}/keyRings/platform/cryptoKeys/platform"
CHANNEL = "projects/acme-ml/notificationChannels/77"


def job_props(url="us-central1-aiplatform.googleapis.com", **extra):
    return {
        "project": "acme-ml",
        "region": "us-central1",
        "api_endpoint": url,
        "endpoint": ENDPOINT,
        "deployed_model_ids": ["111", "222"],
        "display_name": "churn-dev-drift-scoring",
        "kms_key_name": KEY,
        "feature_thresholds": {"tenure_months": 0.35, "contract_type": 0.1},
        "default_threshold": 0.2,
        "baseline_table": "acme-ml.churn_features.customer_features",
        "objectives": ["skew"],
        "target_field": None,
        "monitor_interval_hours": 1.0,  # the engine sends numbers as floats
        "sample_rate": 0.5,
        "log_ttl_days": 30.0,
        "notification_channels": [CHANNEL],
        "labels": {"environment": "dev", "project": "churn"},
        "timeout_seconds": 30.0,
        "name": None,
        "job_id": None,
        "__provider": "serialized",
        **extra,
    }


def body(props):
    from google.cloud.aiplatform_v1 import types

    return json.loads(types.ModelDeploymentMonitoringJob.to_json(job_message(props)))


# --- the request body ---------------------------------------------------------------------------------


def test_body_compares_every_deployed_model_with_the_baseline_table_per_feature():
    sent = body(job_props())
    assert sent["endpoint"] == ENDPOINT and sent["displayName"] == "churn-dev-drift-scoring"
    configs = sent["modelDeploymentMonitoringObjectiveConfigs"]
    assert [c["deployedModelId"] for c in configs] == ["111", "222"]
    for config in configs:
        objective = config["objectiveConfig"]
        assert objective["trainingDataset"]["bigquerySource"] == {
            "inputUri": "bq://acme-ml.churn_features.customer_features"
        }
        skew = objective["trainingPredictionSkewDetectionConfig"]
        assert skew["skewThresholds"] == {"tenure_months": {"value": 0.35}, "contract_type": {"value": 0.1}}
        assert skew["defaultSkewThreshold"] == {"value": 0.2}  # the features without their own threshold
        assert "predictionDriftDetectionConfig" not in objective


def test_body_drift_objective_uses_the_same_thresholds():
    objective = body(job_props(objectives=["skew", "drift"], target_field="churned"))[
        "modelDeploymentMonitoringObjectiveConfigs"
    ][0]["objectiveConfig"]
    drift = objective["predictionDriftDetectionConfig"]
    assert drift["driftThresholds"] == {"tenure_months": {"value": 0.35}, "contract_type": {"value": 0.1}}
    assert drift["defaultDriftThreshold"] == {"value": 0.2}
    assert objective["trainingDataset"]["targetField"] == "churned"


def test_body_schedule_sampling_ttl_cmek_alerts_and_labels():
    sent = body(job_props(monitor_interval_hours=6.0, log_ttl_days=7.0))
    assert sent["modelDeploymentMonitoringScheduleConfig"] == {"monitorInterval": "21600s"}  # 6 h
    assert sent["loggingSamplingStrategy"] == {"randomSampleConfig": {"sampleRate": 0.5}}
    assert sent["logTtl"] == "604800s"  # 7 days
    assert sent["encryptionSpec"] == {"kmsKeyName": KEY}
    assert sent["modelMonitoringAlertConfig"] == {"enableLogging": True, "notificationChannels": [CHANNEL]}
    assert sent["labels"] == {"environment": "dev", "project": "churn"}


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"feature_thresholds": {"tenure_months": 1.5}}, "feature_thresholds.tenure_months", "(0, 1]"),
        ({"default_threshold": 0.0}, "default_threshold", "(0, 1]"),
        ({"monitor_interval_hours": 0.5}, "monitor_interval_hours", "whole hours"),
        ({"sample_rate": 0.0}, "sample_rate", "(0, 1]"),
        ({"log_ttl_days": 0.0}, "log_ttl_days", "whole days"),
        ({"kms_key_name": "google-managed"}, "kms_key_name", "CMEK"),
        ({"kms_key_name": None}, "kms_key_name", "required"),
        ({"endpoint": "endpoints/1"}, "endpoint", "projects/P/locations/L/endpoints/ID"),
        ({"baseline_table": None}, "baseline_table", "skew detection"),
        ({"baseline_table": "features"}, "baseline_table", "project.dataset.table"),
        ({"objectives": ["psi"]}, "objectives", "one or both"),
        ({"notification_channels": ["pagerduty"]}, "notification_channels", "notificationChannels"),
        ({"deployed_model_ids": []}, "deployed_model_ids", "no deployed model"),
    ],
)
def test_bad_input_is_named_before_any_call(change, field, reason):
    failures = check_props(job_props(**change))
    assert any(f == field and reason in r for f, r in failures), failures
    assert check_props(job_props()) == []
    provider = VertexModelMonitoringJobProvider()
    checked = provider.check({}, job_props(**change))
    assert field in {f.property for f in checked.failures}
    with pytest.raises(VertexError, match=field.split(".")[0]):
        provider.create(job_props(url="http://127.0.0.1:9", **change))  # refused before any request


def test_drift_only_needs_no_baseline_table():
    assert check_props(job_props(objectives=["drift"], baseline_table=None)) == []
    objective = body(job_props(objectives=["drift"], baseline_table=None))["modelDeploymentMonitoringObjectiveConfigs"][
        0
    ]["objectiveConfig"]
    assert set(objective) == {"predictionDriftDetectionConfig"}


# --- replace vs update ----------------------------------------------------------------------------------


@pytest.mark.parametrize("field", REPLACE_FIELDS)
def test_identity_and_encryption_changes_replace_deleting_first(field):
    olds = job_props()
    value = {"kms_key_name": f"{PARENT}/keyRings/platform/cryptoKeys/other", "endpoint": f"{PARENT}/endpoints/1"}
    news = {**olds, field: value.get(field, "other-value")}
    diff = VertexModelMonitoringJobProvider().diff("id", olds, news)
    assert diff.changes and diff.replaces == [field]
    assert diff.delete_before_replace  # Vertex allows one monitoring job per endpoint


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("display_name", "renamed"),
        ("labels", {"environment": "prod"}),
        ("monitor_interval_hours", 2.0),
        ("sample_rate", 0.1),
        ("log_ttl_days", 60.0),
        ("notification_channels", []),
        ("deployed_model_ids", ["333"]),
        ("feature_thresholds", {"tenure_months": 0.5}),
        ("default_threshold", 0.3),
        ("objectives", ["drift"]),
        ("baseline_table", "acme-ml.churn_features.v2"),
    ],
)
def test_config_changes_update_in_place(field, value):
    olds = job_props()
    diff = VertexModelMonitoringJobProvider().diff("id", olds, {**olds, field: value})
    assert diff.changes and diff.replaces == [] and diff.stables == ["name"]
    assert field in UPDATE_MASKS


def test_no_change_and_reordered_deployed_models_are_no_diff():
    olds = job_props()
    provider = VertexModelMonitoringJobProvider()
    assert not provider.diff("id", olds, dict(olds)).changes
    assert not provider.diff("id", olds, {**olds, "deployed_model_ids": ["222", "111"]}).changes
    moved = provider.diff("id", olds, {**olds, "api_endpoint": "https://us-central1-aiplatform.googleapis.com/"})
    assert not moved.changes  # the same host written differently


# --- against the fake Vertex server ---------------------------------------------------------------------


@pytest.fixture
def served(fake_vertex):
    """The fake endpoint with deployed models 111 and 222 (and 333 for rollouts)."""
    fake_vertex.fake.add_endpoint(ENDPOINT)
    fake_vertex.fake.endpoints[ENDPOINT]["deployedModels"] = [
        {"id": i, "model": "m", "modelVersionId": v} for i, v in (("111", "1"), ("222", "2"), ("333", "3"))
    ]
    return fake_vertex


@pytest.mark.integration
def test_create_update_read_delete(served):
    fake = served.fake
    provider = VertexModelMonitoringJobProvider()
    created = provider.create(job_props(served.url))
    name = created.id
    assert name.startswith(f"{PARENT}/modelDeploymentMonitoringJobs/")
    assert created.outs["job_id"] == name.rsplit("/", 1)[-1] and created.outs["name"] == name
    assert "__provider" not in created.outs
    assert fake.routes() == ["listModelDeploymentMonitoringJobs", "createModelDeploymentMonitoringJob"]
    stored = fake.monitoring_jobs[name]
    assert stored["encryptionSpec"] == {"kmsKeyName": KEY}
    assert stored["modelMonitoringAlertConfig"]["enableLogging"] is True

    # A rollout replaced the deployed models and the interval moved: one patch of those two paths.
    news = {**job_props(served.url), "deployed_model_ids": ["333"], "monitor_interval_hours": 3.0}
    updated = provider.update(name, created.outs, news)
    assert fake.monitoring_masks == [
        "modelDeploymentMonitoringObjectiveConfigs,modelDeploymentMonitoringScheduleConfig"
    ]
    assert [c["deployedModelId"] for c in stored["modelDeploymentMonitoringObjectiveConfigs"]] == ["333"]
    assert stored["modelDeploymentMonitoringScheduleConfig"] == {"monitorInterval": "10800s"}
    assert updated.outs["job_id"] == created.outs["job_id"]

    live = provider.read(name, updated.outs)
    assert live.id == name
    assert live.outs["monitor_interval_hours"] == 3 and live.outs["deployed_model_ids"] == ["333"]

    provider.delete(name, updated.outs)
    assert fake.monitoring_jobs == {}
    assert fake.routes()[-4:] == [
        "getModelDeploymentMonitoringJob",
        "pauseModelDeploymentMonitoringJob",  # Vertex deletes only paused jobs
        "deleteModelDeploymentMonitoringJob",
        "getOperation",
    ]
    assert fake.errors == []
    provider.delete(name, updated.outs)  # already gone: success
    assert provider.read(name, updated.outs).id is None


@pytest.mark.integration
def test_an_unchanged_update_makes_no_call(served):
    provider = VertexModelMonitoringJobProvider()
    created = provider.create(job_props(served.url))
    before = len(served.fake.requests)
    provider.update(created.id, created.outs, job_props(served.url))
    assert len(served.fake.requests) == before


@pytest.mark.integration
def test_create_adopts_its_own_job_and_resumes_it(served):
    fake = served.fake
    provider = VertexModelMonitoringJobProvider()
    first = provider.create(job_props(served.url, sample_rate=0.9))
    fake.monitoring_jobs[first.id]["state"] = "JOB_STATE_PAUSED"
    # The create's answer was lost: Pulumi retries with the same display name and the declared config.
    again = provider.create(job_props(served.url))
    assert again.id == first.id and len(fake.monitoring_jobs) == 1
    stored = fake.monitoring_jobs[first.id]
    assert stored["loggingSamplingStrategy"] == {"randomSampleConfig": {"sampleRate": 0.5}}
    assert stored["state"] == "JOB_STATE_RUNNING"
    # Adopting rewrites every updatable field to the declaration.
    assert set(fake.monitoring_masks[0].split(",")) == {
        "displayName",
        "labels",
        "logTtl",
        "loggingSamplingStrategy",
        "modelDeploymentMonitoringObjectiveConfigs",
        "modelDeploymentMonitoringScheduleConfig",
        "modelMonitoringAlertConfig",
    }
    assert fake.errors == []


@pytest.mark.integration
def test_a_foreign_job_on_the_endpoint_is_refused_by_name(served):
    provider = VertexModelMonitoringJobProvider()
    other = provider.create(job_props(served.url, display_name="made-by-hand"))
    with pytest.raises(VertexError, match=r"already has monitoring job .*'made-by-hand'.*pause, then delete"):
        provider.create(job_props(served.url))
    assert list(served.fake.monitoring_jobs) == [other.id]


@pytest.mark.integration
def test_the_fake_refuses_what_vertex_refuses(served):
    """The fake's body checks are real checks: an undeployed model, a sub-hour interval, no CMEK."""
    from google.cloud.aiplatform_v1 import types

    from mlops_infra.gcp.dynamic import clients

    service = clients.job_service(served.url)
    for change, message in (
        ({"deployed_model_ids": ["999"]}, "is not deployed"),
        ({"kms_key_name": "not-a-key"}, "kmsKeyName"),
    ):
        job = job_message(job_props(served.url, **change))
        with pytest.raises(Exception, match=message):
            service.create_model_deployment_monitoring_job(parent=PARENT, model_deployment_monitoring_job=job)
    job = job_message(job_props(served.url))
    job.model_deployment_monitoring_schedule_config = types.ModelDeploymentMonitoringScheduleConfig(
        monitor_interval={"seconds": 1800}
    )
    with pytest.raises(Exception, match="whole hours"):
        service.create_model_deployment_monitoring_job(parent=PARENT, model_deployment_monitoring_job=job)
    assert len(served.fake.errors) == 3 and served.fake.monitoring_jobs == {}
