"""TrainingPipeline: least-privilege identity, CMEK artifacts, and the Cloud Scheduler retraining job."""

import base64
import json

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kfp import dsl

from mlops_infra.engine import ProgramError
from mlops_infra.engine.conformance.report import check_resource
from mlops_infra.gcp import TrainingPipeline, TrainingPipelineArgs
from mlops_infra.gcp.iam import PRIMITIVE_ROLES
from mlops_infra.testing import child_resources, one, required_tags_present

IMAGE = "us-central1-docker.pkg.dev/acme-ml/images/trainer@sha256:" + "d" * 64
KEY = "projects/acme-ml/locations/us-central1/keyRings/churn-dev-platform/cryptoKeys/churn-dev-platform"
SA_EMAIL = "churn-dev-training@acme-ml.iam.gserviceaccount.com"
PARAMS = {
    "source_uri": "bq://acme-ml.features.customer",
    "parent_model": "projects/acme-ml/locations/us-central1/models/churn-dev-churn",
    "serving_image": "us-central1-docker.pkg.dev/acme-ml/images/serving:1.0.0",
}


def pipeline(**overrides):
    args = {
        "spec": {"kind": "template", "name": "churn-training", "image": IMAGE},
        "parameter_values": PARAMS,
        "schedule": {"cron": "0 3 * * 1", "time_zone": "Europe/Paris", "retry_count": 2},
        **overrides,
    }
    return lambda: TrainingPipeline("training", args)


def job_body(stack):
    job = one(stack, "gcp:cloudscheduler/job:Job")
    return json.loads(base64.b64decode(job.inputs["httpTarget"]["body"]))


def test_scheduler_posts_a_pipeline_job_as_the_pipeline_account(gcp_plan):
    stack = gcp_plan(pipeline())
    job = one(stack, "gcp:cloudscheduler/job:Job")
    target = job.inputs["httpTarget"]
    assert (
        target["uri"]
        == "https://us-central1-aiplatform.googleapis.com/v1/projects/acme-ml/locations/us-central1/pipelineJobs"
    )
    assert target["httpMethod"] == "POST"
    assert target["headers"] == {"Content-Type": "application/json"}
    assert target["oauthToken"] == {
        "serviceAccountEmail": SA_EMAIL,
        "scope": "https://www.googleapis.com/auth/cloud-platform",
    }
    assert job.inputs["schedule"] == "0 3 * * 1"
    assert job.inputs["timeZone"] == "Europe/Paris"
    assert job.inputs["attemptDeadline"] == "180s"
    assert job.inputs["retryConfig"] == {
        "retryCount": 2,
        "minBackoffDuration": "30s",
        "maxBackoffDuration": "3600s",
        "maxDoublings": 5,
    }
    assert job.inputs["name"] == "churn-dev-training-retrain"
    assert job.inputs["region"] == "us-central1"


def test_job_body_is_encrypted_rooted_and_parameterised(gcp_plan):
    stack = gcp_plan(pipeline())
    body = job_body(stack)
    assert body["displayName"] == "churn-training"
    assert body["encryptionSpec"] == {"kmsKeyName": KEY}
    assert body["serviceAccount"] == SA_EMAIL
    assert body["runtimeConfig"]["gcsOutputDirectory"] == "gs://churn-dev-training-root/pipeline-root"
    # The template's CustomJobs: the platform key and this pipeline's identity (no network unless set).
    assert body["runtimeConfig"]["parameterValues"] == {**PARAMS, "kms_key_name": KEY, "service_account": SA_EMAIL}
    assert body["labels"] == {
        "project": "churn",
        "environment": "dev",
        "owner": "ml-platform",
        "cost-center": "cc-1234",
    }
    assert body["pipelineSpec"]["pipelineInfo"]["name"] == "churn-training"
    assert "templateUri" not in body


def test_template_uri_replaces_the_inline_spec(gcp_plan):
    uri = "https://us-central1-kfp.pkg.dev/acme-ml/churn-dev-training-templates/churn-training/v3"
    body = job_body(gcp_plan(pipeline(template_uri=uri, network="projects/123/global/networks/ml")))
    assert body["templateUri"] == uri
    assert "pipelineSpec" not in body
    assert body["network"] == "projects/123/global/networks/ml"
    assert body["runtimeConfig"]["parameterValues"]["network"] == "projects/123/global/networks/ml"


def test_service_account_has_only_scoped_roles(gcp_plan):
    stack = gcp_plan(pipeline(read_datasets=["features"], write_buckets=["models"], image_repositories=["images"]))
    member = f"serviceAccount:{SA_EMAIL}"
    project_roles = {
        r.inputs["role"] for r in stack.by_type("gcp:projects/iAMMember:IAMMember") if r.inputs["member"] == member
    }
    assert project_roles == {"roles/aiplatform.user", "roles/bigquery.jobUser"}
    bucket_grants = {
        (r.inputs["bucket"], r.inputs["role"]) for r in stack.by_type("gcp:storage/bucketIAMMember:BucketIAMMember")
    }
    assert bucket_grants == {
        ("churn-dev-training-root", "roles/storage.objectAdmin"),
        ("models", "roles/storage.objectAdmin"),
    }
    repo_grants = {
        (r.inputs["repository"], r.inputs["role"])
        for r in stack.by_type("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")
    }
    assert repo_grants == {
        ("churn-dev-training-templates", "roles/artifactregistry.reader"),
        ("images", "roles/artifactregistry.reader"),
    }
    dataset = one(stack, "gcp:bigquery/datasetIamMember:DatasetIamMember")
    assert (dataset.inputs["datasetId"], dataset.inputs["role"]) == ("features", "roles/bigquery.dataViewer")
    act_as = one(stack, "gcp:serviceaccount/iAMMember:IAMMember")
    assert act_as.inputs["role"] == "roles/iam.serviceAccountUser"
    assert act_as.inputs["serviceAccountId"] == "churn-dev-training"  # its own account only
    every_role = {r.inputs.get("role") for r in stack.resources if "role" in r.inputs}
    assert not every_role & PRIMITIVE_ROLES


def test_no_bigquery_job_role_without_datasets(gcp_plan):
    stack = gcp_plan(pipeline())
    assert {r.inputs["role"] for r in stack.by_type("gcp:projects/iAMMember:IAMMember")} == {"roles/aiplatform.user"}


def test_artifacts_are_cmek_encrypted(gcp_plan):
    stack = gcp_plan(pipeline())
    repo = one(stack, "gcp:artifactregistry/repository:Repository")
    assert repo.inputs["format"] == "KFP"
    assert repo.inputs["kmsKeyName"] == KEY
    assert repo.inputs["repositoryId"] == "churn-dev-training-templates"
    ar_grant = next(
        g
        for g in stack.by_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
        if "artifactregistry" in g.inputs["member"]
    )
    assert ar_grant.urn in repo.dependencies
    bucket = one(stack, "gcp:storage/bucket:Bucket")
    assert bucket.inputs["encryption"] == {"defaultKmsKeyName": KEY}
    assert bucket.inputs["publicAccessPrevention"] == "enforced"


def test_prod_protects_state_and_labels_everything(gcp_plan):
    stack = gcp_plan(pipeline(), environment="prod")
    assert required_tags_present(stack) == []
    assert one(stack, "gcp:artifactregistry/repository:Repository").protect
    assert one(stack, "gcp:storage/bucket:Bucket").protect
    assert not one(stack, "gcp:cloudscheduler/job:Job").protect
    component = one(stack, "mlops-infra:gcp:TrainingPipeline")
    assert one(stack, "gcp:cloudscheduler/job:Job") in child_resources(stack, component.urn)


def test_vertex_schedule_engine_is_a_native_colab_schedule_with_a_cmek_pipeline_job(gcp_plan):
    stack = gcp_plan(
        pipeline(schedule={"cron": "0 3 * * 1", "engine": "vertex-schedule", "paused": True, "max_concurrent_runs": 2})
    )
    assert stack.by_type("gcp:cloudscheduler/job:Job") == []
    assert stack.by_type("pulumi-python:dynamic/vertex:VertexSchedule") == []
    schedule = one(stack, "gcp:colab/schedule:Schedule")
    assert schedule.name == "training-vertex-schedule"  # the child name the dynamic resource had
    inputs = schedule.inputs
    assert inputs["cron"] == "TZ=UTC 0 3 * * 1"  # the spec Schedule's default zone
    assert inputs["maxConcurrentRunCount"] == "2"  # the provider's type: a string
    assert inputs["desiredState"] == "PAUSED"
    assert inputs["location"] == "us-central1" and inputs["project"] == "acme-ml"
    assert inputs["displayName"] == "churn-dev-training-retrain"
    request = inputs["createPipelineJobRequest"]
    assert request["parent"] == "projects/acme-ml/locations/us-central1"
    job = request["pipelineJob"]
    assert job["encryptionSpec"] == {"kmsKeyName": KEY}
    assert job["serviceAccount"] == SA_EMAIL
    assert job["runtimeConfig"]["gcsOutputDirectory"].endswith("/pipeline-root")
    assert job["runtimeConfig"]["parameterValues"] == {**PARAMS, "kms_key_name": KEY, "service_account": SA_EMAIL}
    assert json.loads(job["pipelineSpec"])["pipelineInfo"]["name"] == "churn-training"
    assert job["labels"]["environment"] == "dev"
    errors, skipped = check_resource(schedule)  # what a preview would refuse: nothing
    assert errors == [] and skipped is None


def test_vertex_schedule_refuses_parameter_values_that_are_not_strings(gcp_plan):
    with pytest.raises(ProgramError, match="schedule") as info:
        gcp_plan(
            pipeline(
                spec={"kind": "function", "function": _counting_pipeline()},
                parameter_values={"count": 3},
                schedule={"cron": "0 3 * * 1", "engine": "vertex-schedule"},
            )
        )
    assert "parameter_values count are not strings" in str(info.value)


def _counting_pipeline():
    @dsl.container_component
    def echo_count(count: int):
        return dsl.ContainerSpec(image="python:3.11-slim", command=["echo"], args=[str(count)])

    @dsl.pipeline(name="counting")
    def counting(count: int = 1):
        echo_count(count=count)

    return counting


def test_no_schedule_means_on_demand_only(gcp_plan):
    stack = gcp_plan(pipeline(schedule=None))
    assert stack.by_type("gcp:cloudscheduler/job:Job") == []
    assert one(stack, "gcp:serviceaccount/account:Account").inputs["accountId"] == "churn-dev-training"


def test_compiled_function_and_file_specs(gcp_plan, tmp_path):
    @dsl.container_component
    def hello(name: str):
        return dsl.ContainerSpec(image="python:3.11-slim", command=["echo"], args=[name])

    @dsl.pipeline(name="hello")
    def hello_pipeline(name: str = "world"):
        hello(name=name)

    body = job_body(
        gcp_plan(pipeline(spec={"kind": "function", "function": hello_pipeline}, parameter_values={"name": "x"}))
    )
    assert body["pipelineSpec"]["pipelineInfo"]["name"] == "hello"
    assert body["runtimeConfig"]["parameterValues"] == {"name": "x"}
    path = tmp_path / "hello.json"
    path.write_text(json.dumps(body["pipelineSpec"]))
    again = job_body(gcp_plan(pipeline(spec={"kind": "file", "path": str(path)}, parameter_values={})))
    assert again["pipelineSpec"] == body["pipelineSpec"]


def test_unknown_parameter_fails_before_anything_is_registered(gcp_plan):
    with pytest.raises(ProgramError, match="parameter_values") as info:
        gcp_plan(pipeline(parameter_values={**PARAMS, "learning_rate": 0.1}))
    assert "learning_rate" in str(info.value)
    assert info.value.registered == []


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"schedule": {"cron": "every monday"}}, ("schedule", "cron")),
        ({"schedule": {"cron": "0 3 * * 1", "attempt_deadline_seconds": 5}}, ("schedule", "attempt_deadline_seconds")),
        # Values outside their field's range, and expressions that never fire, are refused.
        ({"schedule": {"cron": "99 99 * * *"}}, ("schedule", "cron")),
        ({"schedule": {"cron": "0 0 31 2 *"}}, ("schedule", "cron")),
        ({"schedule": {"cron": "CRON_TZ=UTC 0 3 * * 1"}}, ("schedule", "cron")),
        ({"schedule": {"cron": "0 3 * * 1", "time_zone": "Europe/Atlantis"}}, ("schedule", "time_zone")),
        ({"schedule": {"cron": "0 3 * * 1", "time_zone": "Not A Zone"}}, ("schedule", "time_zone")),
        (
            {"schedule": {"cron": "0 3 * * 1", "min_backoff_seconds": 600, "max_backoff_seconds": 60}},
            ("schedule", "max_backoff_seconds"),
        ),
        ({"schedule": {"cron": "0 3 * * 1", "paused": "yes"}}, ("schedule", "paused")),
        ({"kms_key_name": "my-key"}, ("kms_key_name",)),
        ({"spec": {"kind": "template", "image": "trainer"}}, ("spec", "template", "image")),
        ({"spec": {"kind": "notebook"}}, ("spec",)),
        ({"template_uri": "gs://bucket/spec.json"}, ("template_uri",)),
        ({"parameter_values": {"source_uri": 3}}, ("parameter_values",)),
    ],
)
def test_invalid_settings_name_the_field(change, location):
    args = {"region": "us-central1", "spec": {"kind": "template", "image": IMAGE}, "parameter_values": PARAMS, **change}
    with pytest.raises(pydantic.ValidationError) as info:
        TrainingPipelineArgs.model_validate(args)
    assert info.value.errors()[0]["loc"] == location


def test_backoff_error_names_both_bounds():
    schedule = {"cron": "0 3 * * 1", "min_backoff_seconds": 600, "max_backoff_seconds": 60}
    args = {"region": "us-central1", "spec": {"kind": "template", "image": IMAGE}, "parameter_values": PARAMS}
    with pytest.raises(pydantic.ValidationError) as info:
        TrainingPipelineArgs.model_validate({**args, "schedule": schedule})
    assert info.value.errors()[0]["msg"].endswith("max_backoff_seconds (60) is below min_backoff_seconds (600)")


@settings(max_examples=25, deadline=None)
@given(retries=st.one_of(st.integers(max_value=-1), st.integers(min_value=6)))
def test_invalid_retry_count_always_names_the_field(retries):
    with pytest.raises(pydantic.ValidationError) as info:
        TrainingPipelineArgs.model_validate(
            {
                "region": "us-central1",
                "spec": {"kind": "template", "image": IMAGE},
                "parameter_values": PARAMS,
                "schedule": {"cron": "0 3 * * 1", "retry_count": retries},
            }
        )
    assert info.value.errors()[0]["loc"] == ("schedule", "retry_count")


def test_each_named_resource_gets_one_role_on_itself(gcp_plan):
    stack = gcp_plan(
        pipeline(
            read_datasets=["churn_features"],
            read_buckets=["churn-raw"],
            write_buckets=["churn-models"],
            image_repositories=["churn-images"],
        )
    )
    grants = {
        r.name: r.inputs
        for r in stack.resources
        if any(k in r.name for k in ("dataset-reader", "bucket-reader", "bucket-writer", "images-reader"))
    }
    assert {
        name: (inputs["role"], inputs.get("datasetId") or inputs.get("bucket") or inputs.get("repository"))
        for name, inputs in grants.items()
    } == {
        "training-dataset-reader-0": ("roles/bigquery.dataViewer", "churn_features"),
        "training-bucket-reader-0": ("roles/storage.objectViewer", "churn-raw"),
        "training-bucket-writer-0": ("roles/storage.objectAdmin", "churn-models"),
        "training-images-reader-0": ("roles/artifactregistry.reader", "churn-images"),
    }
    assert grants["training-images-reader-0"]["location"] == "us-central1"
