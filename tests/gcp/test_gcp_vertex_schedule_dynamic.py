"""VertexSchedule provider against the fake Vertex REST server: create (paused), update, resume, delete."""

import pytest

from mlops_infra.gcp.dynamic.vertex_schedule import VertexScheduleProvider

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore::FutureWarning")]

KEY = "projects/acme-ml/locations/us-central1/keyRings/platform/cryptoKeys/platform"
PARENT = "projects/acme-ml/locations/us-central1"
SPEC = {
    "pipelineInfo": {"name": "training"},
    "root": {"inputDefinitions": {"parameters": {"source_uri": {"parameterType": "STRING"}}}},
    "schemaVersion": "2.1.0",
}


@pytest.fixture
def props(fake_vertex):
    return {
        "project": "acme-ml",
        "region": "us-central1",
        "api_endpoint": fake_vertex.url,
        "display_name": "churn-dev-training-retrain",
        "cron": "TZ=Etc/UTC 0 3 * * 1",
        "max_concurrent_run_count": 1.0,
        "paused": True,
        "pipeline_job": {
            "displayName": "training",
            "pipelineSpec": SPEC,
            "runtimeConfig": {
                "gcsOutputDirectory": "gs://root/pipeline-root",
                "parameterValues": {"source_uri": "bq://a.b.c"},
            },
            "encryptionSpec": {"kmsKeyName": KEY},
            "serviceAccount": "training@acme-ml.iam.gserviceaccount.com",
            "labels": {"environment": "dev"},
        },
    }


def test_schedule_lifecycle(fake_vertex, props):
    fake = fake_vertex.fake
    provider = VertexScheduleProvider()
    created = provider.create(props)
    assert created.id.startswith(f"{PARENT}/schedules/")
    stored = fake.schedules[created.id]
    assert stored["state"] == "PAUSED"
    job = stored["createPipelineJobRequest"]["pipelineJob"]
    assert stored["createPipelineJobRequest"]["parent"] == PARENT
    assert job["encryptionSpec"] == {"kmsKeyName": KEY}
    assert job["serviceAccount"] == "training@acme-ml.iam.gserviceaccount.com"
    assert job["runtimeConfig"]["gcsOutputDirectory"] == "gs://root/pipeline-root"
    assert job["pipelineSpec"]["pipelineInfo"] == {"name": "training"}
    assert (
        stored["cron"] == "TZ=Etc/UTC 0 3 * * 1" and stored["maxConcurrentRunCount"] == "1"
    )  # int64 travels as a JSON string

    news = {**props, "cron": "TZ=Etc/UTC 0 4 * * *", "paused": False}
    assert provider.diff(created.id, created.outs, news).changes
    provider.update(created.id, created.outs, news)
    assert fake.schedules[created.id]["cron"] == "TZ=Etc/UTC 0 4 * * *"
    assert fake.schedules[created.id]["state"] == "ACTIVE"
    assert provider.read(created.id, news).outs["paused"] is False

    provider.delete(created.id, news)
    assert created.id not in fake.schedules
    assert provider.read(created.id, news).id is None
    assert fake.routes() == [
        "createSchedule",
        "pauseSchedule",
        "updateSchedule",
        "resumeSchedule",
        "getSchedule",
        "deleteSchedule",
        "getOperation",
        "getSchedule",
    ]
    assert fake.errors == []


def test_a_job_without_cmek_is_rejected_by_the_fake(fake_vertex, props):
    job = {k: v for k, v in props["pipeline_job"].items() if k != "encryptionSpec"}
    with pytest.raises(Exception, match="encryptionSpec"):
        VertexScheduleProvider().create({**props, "pipeline_job": job})
    assert fake_vertex.fake.errors


def test_region_change_replaces(props):
    diff = VertexScheduleProvider().diff("s", props, {**props, "region": "europe-west4"})
    assert diff.replaces == ["region"]
