"""Serving modes on GCP Vertex AI through the platform spec: what is realized, what is refused and why."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from test_gcp_realize import CONFIG, churn_spec

from mlops_infra.cost import load_catalogue
from mlops_infra.cost.estimate import estimate_stack
from mlops_infra.engine import ProgramError
from mlops_infra.engine.captured import CapturedStack
from mlops_infra.engine.conformance import check_stack
from mlops_infra.platform import MlPlatform
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.policy.model import Enforcement
from mlops_infra.testing import one, plan

DIGEST = "@sha256:" + "c" * 64
CHALLENGER_IMAGE = "europe-west4-docker.pkg.dev/churn-ml/images/churn-serve-v8" + DIGEST
RECEIVERS = {"emails": ["ml-platform@example.com"]}
DEPLOYMENT = "pulumi-python:dynamic/vertex:VertexModelDeployment"


def with_endpoint(**fields: Any) -> dict[str, Any]:
    """platform.yaml's endpoint with ``fields`` set."""
    return {"endpoints": [{**churn_spec()["endpoints"][0], **fields}]}


def challenger(**fields: Any) -> dict[str, Any]:
    return {
        "model": {"artifact": "churn/v8/model.tar.gz", "serving": {"per_cloud": {"gcp": CHALLENGER_IMAGE}}},
        **fields,
    }


def realize(environment: str, **overrides: Any) -> CapturedStack:
    spec = churn_spec(**overrides)

    def program() -> None:
        pulumi.export("platform", MlPlatform("churn", spec).outputs)

    return plan(program, environment=environment, config=CONFIG)


@pytest.fixture(scope="module")
def ab_prod() -> CapturedStack:
    # A large challenger costs about 4 x n1-standard-16 a month more: the budget makes room for it.
    return realize(
        "prod",
        alerts=RECEIVERS,
        budget={"monthly_limit_usd": 5000},
        **with_endpoint(challenger=challenger(percent=15, compute={"size": "large"})),
    )


# --- A/B -----------------------------------------------------------------------------------------


def test_ab_challenger_is_a_second_deployment_on_the_same_endpoint(ab_prod):
    deployment = one(ab_prod, DEPLOYMENT).inputs
    primary, second = deployment["deployments"]
    assert (primary["key"], second["key"]) == ("primary", "challenger")
    assert primary["model"].endswith("/models/churn-prod-churn")
    assert second["model"].endswith("/models/churn-prod-churn-scoring-challenger")
    # Both serve the version holding the approved alias: prod deploys approved versions only.
    assert primary["alias"] == second["alias"] == "champion"
    assert deployment["required_alias"] == "champion"
    # The challenger's own compute (large), one replica at least, the endpoint's most.
    assert (second["machine_type"], second["min_replica_count"], second["max_replica_count"]) == (
        "n1-standard-16",
        1,
        4,
    )
    assert primary["machine_type"] == "n1-standard-2"
    # The split is the only declared step; the champion's canary stages keep it (tests/gcp challenger tests).
    assert deployment["traffic_steps"] == [{"primary": 85, "challenger": 15}]
    assert deployment["canary_percentages"] == [10, 100]
    assert len(ab_prod.by_type("gcp:vertex/aiEndpoint:AiEndpoint")) == 1


def test_ab_challenger_is_its_own_cmek_model_in_the_registry(ab_prod):
    models = {m.name: m.inputs for m in ab_prod.by_type("pulumi-python:dynamic/vertex:VertexModel")}
    model = models["gcp-registry-model-churn-scoring-challenger"]
    assert model["artifact_uri"] == "gs://churn-prod-gcp-registry-models/churn/v8/"
    assert model["serving_image_uri"] == CHALLENGER_IMAGE
    assert model["kms_key_name"] == models["gcp-registry-model-churn"]["kms_key_name"]
    assert model["kms_key_name"].endswith("/cryptoKeys/churn-prod-gcp-key")
    # Manual approval in prod: registered as challenger until a reviewer moves the approved alias.
    assert model["version_aliases"] == ["challenger"]


def test_ab_without_own_compute_uses_the_endpoints():
    stack = realize("dev", **with_endpoint(challenger=challenger(percent=30)))
    primary, second = one(stack, DEPLOYMENT).inputs["deployments"]
    assert second["machine_type"] == primary["machine_type"] == "n1-standard-2"
    assert one(stack, DEPLOYMENT).inputs["traffic_steps"] == [{"primary": 70, "challenger": 30}]


def test_ab_in_prod_passes_the_mandatory_policies_and_the_provider_schemas(ab_prod):
    assert [v for v in evaluate_stack(ab_prod) if v.enforcement is Enforcement.MANDATORY] == []
    report = check_stack(ab_prod)
    assert report.errors == [] and report.checked > 50


def test_the_challengers_replicas_are_priced(ab_prod):
    estimate = estimate_stack(ab_prod, load_catalogue())
    item = next(i for i in estimate.items if i.type == DEPLOYMENT)
    # Champion: 4 (expected 2) x n1-standard-2; challenger: 4 (expected 1) x n1-standard-16.
    assert item.basis.count(" x 730 h") == 2
    assert "4 (expected 1) x (n1-standard-16" in item.basis
    alone = realize("prod", alerts=RECEIVERS, budget={"monthly_limit_usd": 5000})
    without = next(i for i in estimate_stack(alone, load_catalogue()).items if i.type == DEPLOYMENT)
    assert item.monthly_max > without.monthly_max * 5  # n1-standard-16 is 8 x n1-standard-2


# --- refused, with the reason ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "path", "reason"),
    [
        (
            with_endpoint(challenger=challenger(mode="shadow")),
            "endpoints.0.challenger.mode",
            "nothing on Vertex copies live requests",
        ),
        (
            with_endpoint(invocation={"kind": "async"}),
            "endpoints.0.invocation.kind",
            "no asynchronous (queued) endpoints; for large payloads or long requests declare a `batch` entry",
        ),
        (
            with_endpoint(multi_model=True, model={**churn_spec()["endpoints"][0]["model"], "artifact": "churn/"}),
            "endpoints.0.multi_model",
            "one endpoint per model, or co-host",
        ),
        (
            with_endpoint(scaling={"min_replicas": 0, "max_replicas": 2}),
            "endpoints.0.scaling.min_replicas",
            "preview in the v1beta1 API only",
        ),
        (
            with_endpoint(challenger=challenger(percent=12.5)),
            "endpoints.0.challenger.percent",
            "whole percents",
        ),
        (
            with_endpoint(challenger={"model": {"artifact": "s3://models/v8/model.tar.gz"}}),
            "endpoints.0.challenger.model.serving",
            "no challenger serving image for gcp",
        ),
        (
            with_endpoint(
                challenger=challenger(
                    model={"artifact": "s3://churn-models/v8/model.tar.gz", "serving": {"image": CHALLENGER_IMAGE}}
                )
            ),
            "endpoints.0.challenger.model.artifact",
            "not s3://",
        ),
    ],
)
def test_unrealizable_modes_are_refused_by_field_before_registering(overrides, path, reason):
    spec = churn_spec(**overrides)
    with pytest.raises(ProgramError) as info:
        plan(lambda: MlPlatform("churn", spec), environment="dev", config=CONFIG)
    message = str(info.value)
    assert path in message and reason in message, message
    assert info.value.registered == []


def test_a_tag_pinned_challenger_image_is_refused_in_prod():
    spec = churn_spec(
        alerts=RECEIVERS,
        **with_endpoint(challenger={"model": {"artifact": "churn/v8/", "serving": {"image": "ghcr.io/a/s:1.0"}}}),
    )
    with pytest.raises(ProgramError) as info:
        plan(lambda: MlPlatform("churn", spec), environment="prod", config=CONFIG)
    assert "endpoints.0.challenger.model.serving.image" in str(info.value)
    assert "digest-pinned" in str(info.value)


# --- scheduled batch prediction --------------------------------------------------------------------

SERVING = (
    "europe-west4-docker.pkg.dev/churn-ml/images/churn-serve@sha256:"
    + "ca302cd636c92cbec6e4b30c2823e7cffd1a247d7454c1fb0f74cc7844210b8c"
)
NIGHTLY = {
    "name": "nightly",
    "model": {"artifact": "churn/champion/model.tar.gz", "serving": {"per_cloud": {"gcp": SERVING}}},
    "input": "scoring/daily/",
    "schedule": {"cron": "0 2 * * *", "time_zone": "Europe/Amsterdam"},
    "compute": {"size": "medium"},
    "max_replicas": 4,
    "max_runtime_seconds": 7200,
}
PLATFORM_KEY = "projects/acme-churn/locations/europe-west4/keyRings/churn-prod-gcp-key/cryptoKeys/churn-prod-gcp-key"


def batch_child(stack: CapturedStack, type_: str, suffix: str) -> Any:
    return next(r for r in stack.by_type(type_) if r.name == f"gcp-batch-nightly-{suffix}")


def workflow_of(stack: CapturedStack) -> dict[str, Any]:
    return json.loads(batch_child(stack, "gcp:workflows/workflow:Workflow", "workflow").inputs["sourceContents"])


@pytest.fixture(scope="module")
def batch_prod() -> CapturedStack:
    return realize("prod", alerts=RECEIVERS, batch=[NIGHTLY])


def test_batch_runs_on_the_spec_schedule_through_the_cmek_workflow(batch_prod):
    job = batch_child(batch_prod, "gcp:cloudscheduler/job:Job", "schedule").inputs
    assert (job["schedule"], job["timeZone"]) == ("0 2 * * *", "Europe/Amsterdam")
    assert job["httpTarget"]["uri"].endswith("/workflows/churn-prod-gcp-batch-nightly/executions")
    assert job["httpTarget"]["uri"].startswith("https://workflowexecutions.googleapis.com/v1/projects/acme-churn/")
    runner = batch_child(batch_prod, "gcp:serviceaccount/account:Account", "sa").inputs
    assert job["httpTarget"]["oauthToken"]["serviceAccountEmail"].startswith(runner["accountId"])
    workflow = batch_child(batch_prod, "gcp:workflows/workflow:Workflow", "workflow").inputs
    assert workflow["cryptoKeyName"] == PLATFORM_KEY
    assert workflow["serviceAccount"].endswith(runner["accountId"] + "@acme-churn.iam.gserviceaccount.com")


def test_batch_job_is_cmek_on_the_approved_version_and_writes_under_the_cmek_bucket(batch_prod):
    steps = {name: step for entry in workflow_of(batch_prod)["main"]["steps"] for name, step in entry.items()}
    create = steps["create"]["args"]
    assert create["url"] == (
        "https://europe-west4-aiplatform.googleapis.com/v1/projects/acme-churn/locations/europe-west4/"
        "batchPredictionJobs"
    )
    body = create["body"]
    assert body["encryptionSpec"] == {"kmsKeyName": PLATFORM_KEY}
    assert body["model"] == "projects/acme-churn/locations/europe-west4/models/churn-prod-churn@champion"
    assert body["inputConfig"] == {
        "instancesFormat": "jsonl",
        "gcsSource": {"uris": ["gs://churn-prod-gcp-batch-data/scoring/daily/*"]},
    }
    assert body["outputConfig"] == {
        "predictionsFormat": "jsonl",
        "gcsDestination": {"outputUriPrefix": "gs://churn-prod-gcp-batch-data/predictions/nightly/"},
    }
    assert body["dedicatedResources"] == {
        "machineSpec": {"machineType": "n1-standard-4"},
        "startingReplicaCount": 1,
        "maxReplicaCount": 4,
    }
    job_account = batch_child(batch_prod, "gcp:serviceaccount/account:Account", "job-sa").inputs
    assert body["serviceAccount"].startswith(job_account["accountId"] + "@")
    bucket = next(b for b in batch_prod.by_type("gcp:storage/bucket:Bucket") if b.name == "gcp-batch-data-bucket")
    assert bucket.inputs["name"] == "churn-prod-gcp-batch-data"
    assert bucket.inputs["encryption"]["defaultKmsKeyName"] == PLATFORM_KEY
    assert bucket.inputs["publicAccessPrevention"] == "enforced"
    assert bucket.protect  # prod: the predictions' bucket is protected


def test_batch_run_is_cancelled_at_max_runtime(batch_prod):
    steps = {name: step for entry in workflow_of(batch_prod)["main"]["steps"] for name, step in entry.items()}
    assert steps["start"]["assign"] == [{"deadline": "${sys.now() + 7200}"}]
    decide = steps["decide"]["switch"]
    assert decide[0]["condition"] == '${job.body.state == "JOB_STATE_SUCCEEDED"}'
    assert "JOB_STATE_PARTIALLY_SUCCEEDED" in decide[1]["condition"] and "raise" in decide[1]
    assert decide[2] == {"condition": "${sys.now() > deadline}", "next": "cancel"}
    assert steps["decide"]["next"] == "wait" and steps["wait"]["args"] == {"seconds": 60}
    assert steps["cancel"]["call"] == "http.post" and steps["cancel"]["args"]["url"].endswith(' + ":cancel"}')
    assert "raise" in steps["stopped"]


def test_batch_identities_are_least_privilege(batch_prod):
    def members(type_: str) -> dict[str, dict[str, Any]]:
        return {r.name: r.inputs for r in batch_prod.by_type(type_) if r.name.startswith("gcp-batch-nightly-")}

    project = members("gcp:projects/iAMMember:IAMMember")
    assert sorted(m["role"] for m in project.values()) == ["roles/aiplatform.user", "roles/workflows.invoker"]
    runner = {m["member"] for m in project.values()}
    assert len(runner) == 1  # only the runner holds project roles; the job account holds none
    act_as = members("gcp:serviceaccount/iAMMember:IAMMember")
    assert [(m["role"], m["member"] in runner) for m in act_as.values()] == [("roles/iam.serviceAccountUser", True)]
    buckets = members("gcp:storage/bucketIAMMember:BucketIAMMember")
    assert {(m["bucket"], m["role"]) for m in buckets.values()} == {
        ("churn-prod-gcp-batch-data", "roles/storage.objectViewer"),
        ("churn-prod-gcp-batch-data", "roles/storage.objectCreator"),
    }
    assert not {m["member"] for m in buckets.values()} & runner


def test_batch_shares_the_drift_workflows_key_grant_or_grants_it(batch_prod):
    # prod has a drift workflow: its Workflows-agent key grant is reused, not bound a second time.
    grants = [r.name for r in batch_prod.by_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")]
    assert "gcp-batch-nightly-key-workflows-agent" not in grants and "gcp-drift-key-workflows-agent" in grants
    drift_grant = next(r for r in batch_prod.resources if r.name == "gcp-drift-key-workflows-agent")
    assert drift_grant.urn in batch_child(batch_prod, "gcp:workflows/workflow:Workflow", "workflow").dependencies
    dev = realize("dev", batch=[NIGHTLY], monitoring={"drift": None})
    assert not any(r.name == "gcp-drift-key-workflows-agent" for r in dev.resources)
    grant = next(r for r in dev.resources if r.name == "gcp-batch-nightly-key-workflows-agent")
    assert grant.inputs["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert grant.inputs["member"].endswith("@gcp-sa-workflows.iam.gserviceaccount.com")
    # Turning drift off moves the grant to another owner: the old one is retained on delete, or deleting it
    # would drop the binding the new one shares (non-authoritative IAM members of one key, role and member).
    assert drift_grant.retain_on_delete and grant.retain_on_delete


def test_batch_failures_alert_the_warning_receivers(batch_prod):
    policy = batch_child(batch_prod, "gcp:monitoring/alertPolicy:AlertPolicy", "alert").inputs
    condition = policy["conditions"][0]["conditionThreshold"]
    assert 'resource.labels.workflow_id="churn-prod-gcp-batch-nightly"' in condition["filter"]
    assert 'metric.labels.status="FAILED"' in condition["filter"]
    assert policy["notificationChannels"]


def test_batch_in_prod_passes_the_mandatory_policies_and_the_provider_schemas(batch_prod):
    assert [v for v in evaluate_stack(batch_prod) if v.enforcement is Enforcement.MANDATORY] == []
    report = check_stack(batch_prod)
    assert report.errors == [] and report.checked > 50


def test_batch_runs_are_priced(batch_prod):
    estimate = estimate_stack(batch_prod, load_catalogue())
    item = next(i for i in estimate.items if i.urn.endswith("::gcp-batch-nightly-workflow"))
    hourly = 0.219 * 1.1  # n1-standard-4 prediction node-hour: us-central1 row x the europe-west4 factor
    runs = 30.4  # daily
    assert item.monthly_max == pytest.approx(runs * 4 * 2 * hourly, rel=0.01)
    assert item.monthly_expected == pytest.approx(runs * 1 * 2 * hourly, rel=0.01)
    assert "30.4 runs (0 2 * * *) x 4 (expected 1) x (n1-standard-4" in item.basis


def test_a_batch_model_of_its_own_is_registered():
    other = {**NIGHTLY, "model": {"artifact": "gs://churn-archive/v5/model.tar.gz", "serving": {"image": SERVING}}}
    stack = realize("dev", batch=[other])
    models = {m.name: m.inputs for m in stack.by_type("pulumi-python:dynamic/vertex:VertexModel")}
    assert models["gcp-registry-model-churn-batch-nightly"]["artifact_uri"] == "gs://churn-archive/v5/"
    assert workflow_of(stack)["main"]["steps"][1]["create"]["args"]["body"]["model"].endswith(
        "/models/churn-dev-churn-batch-nightly@champion"
    )


@pytest.mark.parametrize(
    ("change", "path", "reason"),
    [
        ({"format": "csv"}, "batch.0.format", "never CSV"),
        ({"input": "s3://churn-data/scoring/"}, "batch.0.input", "not s3://"),
        ({"output": "s3://churn-data/out/"}, "batch.0.output", "not s3://"),
        ({"model": {"artifact": "churn/v5/model.tar.gz"}}, "batch.0.model.serving", "no batch serving image"),
    ],
)
def test_batch_refusals_name_the_field(change, path, reason):
    spec = churn_spec(batch=[{**NIGHTLY, **change}])
    with pytest.raises(ProgramError) as info:
        plan(lambda: MlPlatform("churn", spec), environment="dev", config=CONFIG)
    assert path in str(info.value) and reason in str(info.value), str(info.value)
    assert info.value.registered == []
