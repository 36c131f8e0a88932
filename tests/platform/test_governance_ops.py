"""Issue 13 §3-§4: experiment tracking, archive lifecycles and off-hours, realized from the platform spec."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pydantic import ValidationError

from mlops_infra.engine import ProgramError
from mlops_infra.engine.captured import CapturedStack
from mlops_infra.platform import MlPlatform
from mlops_infra.spec import OffHoursSpec, PlatformSpec
from mlops_infra.spec.load import deep_merge
from mlops_infra.testing import iam_statements, one, plan

SPEC_FILE = Path(__file__).resolve().parents[2] / "stacks" / "platform" / "platform.yaml"
GCP = {"billing_account": "01A2B3-C4D5E6-F7A8B9", "group_domain": "example.com"}
GCP_CONFIG = {"gcp:project": "acme-churn", "gcp:region": "europe-west4"}
K8S = {
    "team": "churn-ml",
    "model_store_uri": "s3://acme-churn/models",
    "oidc_issuer_url": "https://login.acme.example/realms/ml",
}
K8S_SECRETS = {
    "redisPassword": "a-long-redis-password",
    "postgresPassword": "a-long-postgres-password",
    "oidcClientSecret": "client-secret",
    "cookieSecret": "0123456789abcdef0123456789abcdef",
}
BUCKET = "aws:s3/bucket:Bucket"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
SCHEDULED = "aws:appautoscaling/scheduledAction:ScheduledAction"


def document(cloud: str, **overrides: Any) -> dict[str, Any]:
    spec = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    extra: dict[str, Any] = {"clouds": [cloud]}
    if cloud == "gcp":
        extra["gcp"] = GCP
    if cloud == "k8s":
        extra["k8s"] = K8S
    return deep_merge(spec, deep_merge(extra, overrides))


def realize(cloud: str, environment: str, config: dict[str, Any] | None = None, **overrides: Any) -> CapturedStack:
    spec = document(cloud, **overrides)

    def program() -> None:
        pulumi.export("platform", MlPlatform("churn", spec).outputs)

    return plan(program, environment=environment, config=config or {})


@pytest.fixture(scope="module")
def aws_prod() -> CapturedStack:
    return realize("aws", "prod", aws={"approved_model_packages": {"scoring": 7}})


@pytest.fixture(scope="module")
def aws_dev() -> CapturedStack:
    return realize("aws", "dev", off_hours={"stop": {"cron": "0 19 * * 1-5", "time_zone": "Europe/Berlin"}})


@pytest.fixture(scope="module")
def gcp_prod() -> CapturedStack:
    return realize("gcp", "prod", GCP_CONFIG)


# --- the spec --------------------------------------------------------------------------------------------------


def test_the_spec_sections_default_and_validate():
    bare = {k: v for k, v in document("aws").items() if k not in ("tracking", "lifecycle")}
    spec = PlatformSpec.model_validate(bare)
    assert spec.tracking is None and spec.off_hours is None
    assert spec.lifecycle.archive_after_days == 90  # on by default; null turns it off explicitly
    off = OffHoursSpec()
    assert (off.stop.cron, off.start.cron, off.environments) == ("0 20 * * 1-5", "0 7 * * 1-5", ["dev"])
    with pytest.raises(ValidationError, match="same schedule"):
        OffHoursSpec(stop={"cron": "0 7 * * *"}, start={"cron": "0 7 * * *"})
    with pytest.raises(ValidationError, match=r"lifecycle\.archive_after_days"):
        PlatformSpec.model_validate(document("aws", lifecycle={"archive_after_days": 0}))
    with pytest.raises(ValidationError, match=r"tracking\.experiment"):
        PlatformSpec.model_validate(document("aws", tracking={"experiment": "Churn Runs"}))


# --- AWS --------------------------------------------------------------------------------------------------------


def test_aws_prod_archives_every_bucket_and_expires_no_model_artifact(aws_prod):
    buckets = aws_prod.by_type(BUCKET)
    assert {b.inputs["tags"]["purpose"] for b in buckets} >= {
        "model-store",
        "data-capture",
        "feature-store-offline",
        "experiment-tracking",
    }
    rules = {
        r.urn.rsplit("::", 1)[1].removesuffix("-lifecycle"): r.inputs["rules"] for r in aws_prod.by_type(LIFECYCLE)
    }
    for bucket in buckets:
        name = bucket.urn.rsplit("::", 1)[1].removesuffix("-bucket")
        assert name in rules, f"{name} has no lifecycle"
        (rule,) = rules[name]
        # The offline feature store keeps its own feature_store.offline_retention_days (730 here).
        days = 730 if "offline-store" in name else 90
        assert {"days": days, "storageClass": "GLACIER_IR"} in rule["transitions"]
        assert "expiration" not in rule  # live objects are never expired
    store = next(rs for n, rs in rules.items() if n.endswith("model-store"))
    assert "noncurrentVersionExpiration" not in store[0]


def test_aws_tracking_server_bucket_role_and_registration(aws_prod):
    server = one(aws_prod, "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer")
    assert server.inputs["trackingServerSize"] == "Small"
    assert server.inputs["automaticModelRegistration"] is True
    assert server.inputs["artifactStoreUri"].startswith("s3://") and "aws-tracking-artifacts" in server.inputs[
        "artifactStoreUri"
    ].replace("churn-prod-", "")
    role_policy = next(p for p in aws_prod.by_type("aws:iam/rolePolicy:RolePolicy") if "aws-tracking" in p.urn)
    statements = {s["Sid"]: s for s in iam_statements(role_policy)}
    assert set(statements) == {"ArtifactBucket", "ArtifactObjects", "ArtifactKey", "RegisterModels"}
    tracking_bucket = next(b for b in aws_prod.by_type(BUCKET) if b.inputs["tags"]["purpose"] == "experiment-tracking")
    assert statements["ArtifactBucket"]["Resource"] == [f"arn:aws:s3:::{tracking_bucket.inputs['bucket']}"]
    assert statements["ArtifactObjects"]["Resource"] == [f"arn:aws:s3:::{tracking_bucket.inputs['bucket']}/*"]
    assert all("*" not in action for s in statements.values() for action in s["Action"])
    registration = statements["RegisterModels"]["Resource"]
    assert registration[0].endswith(":model-package-group/churn-prod-churn")
    assert registration[1].endswith(":model-package/churn-prod-churn/*")
    encryption = next(
        e
        for e in aws_prod.by_type(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        )
        if "aws-tracking" in e.urn
    )
    key = one(aws_prod, "aws:kms/key:Key")
    assert (
        encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"].endswith(key.name)
        or encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    )


def test_aws_training_jobs_log_to_the_tracking_server(aws_prod):
    server = one(aws_prod, "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer")
    pipeline = one(aws_prod, "aws:sagemaker/pipeline:Pipeline")
    steps = {s["Name"]: s for s in json.loads(pipeline.inputs["pipelineDefinition"])["Steps"]}
    expected = {"MLFLOW_EXPERIMENT_NAME": "churn"}
    for step in ("Train", "Evaluate"):
        environment = steps[step]["Arguments"]["Environment"]
        assert environment["MLFLOW_EXPERIMENT_NAME"] == expected["MLFLOW_EXPERIMENT_NAME"]
        assert environment["MLFLOW_TRACKING_URI"].startswith("arn:aws:sagemaker:")
        assert ":mlflow-tracking-server/" in environment["MLFLOW_TRACKING_URI"]
    execution = next(p for p in aws_prod.by_type("aws:iam/rolePolicy:RolePolicy") if "training" in p.urn)
    logging = next(s for s in iam_statements(execution) if s.get("Sid") == "LogToTrackingServer")
    assert logging["Resource"] == [steps["Train"]["Arguments"]["Environment"]["MLFLOW_TRACKING_URI"]]
    assert "sagemaker-mlflow:LogMetric" in logging["Action"]
    assert server.inputs["trackingServerName"].startswith("churn-prod-")


def test_aws_prod_has_no_off_hours_and_dev_scales_down_at_night(aws_prod, aws_dev):
    assert aws_prod.by_type(SCHEDULED) == []
    actions = {a.name.rsplit("-", 1)[1]: a.inputs for a in aws_dev.by_type(SCHEDULED)}
    assert set(actions) == {"stop", "start"}
    stop, start = actions["stop"], actions["start"]
    assert stop["schedule"] == "cron(0 19 ? * MON-FRI *)" and stop["timezone"] == "Europe/Berlin"
    assert stop["scalableTargetAction"] == {"minCapacity": 1, "maxCapacity": 1}  # SageMaker's floor
    target = one(aws_dev, "aws:appautoscaling/target:Target")
    assert start["schedule"] == "cron(0 7 ? * MON-FRI *)" and start["timezone"] == "UTC"
    assert start["scalableTargetAction"] == {
        "minCapacity": target.inputs["minCapacity"],
        "maxCapacity": target.inputs["maxCapacity"],
    }
    assert {a["scalableDimension"] for a in actions.values()} == {"sagemaker:variant:DesiredInstanceCount"}


def test_aws_refuses_an_off_hours_cron_eventbridge_cannot_say():
    with pytest.raises(ProgramError) as error:
        realize("aws", "dev", off_hours={"stop": {"cron": "0 20 1 * 1"}})
    assert "off_hours.stop.cron" in str(error.value) and error.value.registered == []


def test_aws_lifecycle_can_be_turned_off_by_name():
    spec = document("aws")
    spec["lifecycle"] = {"archive_after_days": None}  # as platform.yaml writes it (a stack override's null unsets)
    stack = plan(lambda: MlPlatform("churn", spec), environment="dev")
    assert not [r for r in stack.by_type(LIFECYCLE) if "model-store" in r.urn]


# --- GCP --------------------------------------------------------------------------------------------------------


def test_gcp_prod_archives_every_bucket_and_deletes_no_live_object(gcp_prod):
    buckets = gcp_prod.by_type("gcp:storage/bucket:Bucket")
    assert len(buckets) >= 3
    for bucket in buckets:
        rules = bucket.inputs["lifecycleRules"]
        archive = [r for r in rules if r["action"]["type"] == "SetStorageClass"]
        assert archive == [
            {
                "action": {"type": "SetStorageClass", "storageClass": "ARCHIVE"},
                "condition": {"age": 90, "matchesStorageClasses": ["STANDARD", "NEARLINE", "COLDLINE"]},
            }
        ], bucket.name
        deletes = [r for r in rules if r["action"]["type"] == "Delete"]
        assert all(r["condition"].get("withState") == "ARCHIVED" for r in deletes), bucket.name


def test_gcp_tracking_is_a_cmek_tensorboard_the_training_job_logs_to(gcp_prod):
    board = one(gcp_prod, "gcp:vertex/aiTensorboard:AiTensorboard")
    key = board.inputs["encryptionSpec"]["kmsKeyName"]
    assert key.startswith("projects/acme-churn/locations/europe-west4/keyRings/") and "/cryptoKeys/" in key
    assert board.inputs["region"] == "europe-west4"
    job = next(j for j in gcp_prod.by_type("gcp:cloudscheduler/job:Job") if j.name == "gcp-training-schedule")
    parameters = json.loads(base64.b64decode(job.inputs["httpTarget"]["body"]))["runtimeConfig"]["parameterValues"]
    assert parameters["tensorboard"].endswith(board.name) or "tensorboards/" in parameters["tensorboard"]
    assert parameters["tensorboard_logs"].startswith("gs://") and parameters["tensorboard_logs"].endswith(
        "/tensorboard"
    )


# --- Kubernetes ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def k8s_dev() -> CapturedStack:
    return realize(
        "k8s", "dev", K8S_SECRETS, off_hours={"stop": {"cron": "30 19 * * 1-5", "time_zone": "Europe/Berlin"}}
    )


def test_k8s_off_hours_cron_jobs_patch_only_the_endpoints(k8s_dev):
    jobs = {
        j.name.rsplit("-", 1)[1]: j.inputs
        for j in k8s_dev.by_type("kubernetes:batch/v1:CronJob")
        if "off-hours" in j.name
    }
    assert set(jobs) == {"stop", "start"}
    assert (jobs["stop"]["spec"]["schedule"], jobs["stop"]["spec"]["timeZone"]) == ("30 19 * * 1-5", "Europe/Berlin")
    assert (jobs["start"]["spec"]["schedule"], jobs["start"]["spec"]["timeZone"]) == ("0 7 * * 1-5", "UTC")
    isvc = one(k8s_dev, "kubernetes:serving.kserve.io/v1beta1:InferenceService")
    name = isvc.inputs["metadata"]["name"]
    floor = isvc.inputs["spec"]["predictor"]["minReplicas"]
    for phase, replicas in (("stop", 0), ("start", floor)):
        pod = jobs[phase]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert json.loads(env["TARGETS"]) == {name: replicas}
        assert pod["automountServiceAccountToken"] is False
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["resources"]["limits"]["memory"] == "64Mi"
    role = next(r for r in k8s_dev.by_type("kubernetes:rbac.authorization.k8s.io/v1:Role") if "off-hours" in r.name)
    assert role.inputs["rules"] == [
        {
            "apiGroups": ["serving.kserve.io"],
            "resources": ["inferenceservices"],
            "resourceNames": [name],
            "verbs": ["get", "patch"],
        }
    ]
    policy = next(p for p in k8s_dev.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy") if "off-hours" in p.name)
    assert policy.inputs["spec"]["policyTypes"] == ["Ingress", "Egress"] and policy.inputs["spec"]["ingress"] == []


def test_the_off_hours_script_sends_a_merge_patch_of_the_floor():
    from mlops_infra.k8s.off_hours_scaler import patch_body

    assert json.loads(patch_body(0)) == {"spec": {"predictor": {"minReplicas": 0}}}


def test_k8s_training_logs_to_the_platform_mlflow_experiment(k8s_dev):
    stack = k8s_dev
    envs = [
        {e["name"]: e.get("value") for e in container.get("env", [])}
        for resource in stack.resources
        if resource.type.startswith("kubernetes:batch/v1:CronJob") or resource.type.startswith("kubernetes:argoproj")
        for container in _containers(resource.inputs)
    ]
    tracked = [env for env in envs if "MLFLOW_TRACKING_URI" in env]
    assert tracked and all(env.get("MLFLOW_EXPERIMENT_NAME") == "churn" for env in tracked)


def _containers(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if "image" in node and "env" in node else []
        return found + [c for value in node.values() for c in _containers(value)]
    if isinstance(node, list):
        return [c for value in node for c in _containers(value)]
    return []


def test_aws_cost_anomalies_reach_the_warning_topic(aws_prod):
    monitor = one(aws_prod, "aws:costexplorer/anomalyMonitor:AnomalyMonitor")
    assert monitor.inputs["monitorType"] == "CUSTOM"
    assert json.loads(monitor.inputs["monitorSpecification"]) == {
        "And": [
            {"Tags": {"Key": "project", "Values": ["churn"], "MatchOptions": ["EQUALS"]}},
            {"Tags": {"Key": "environment", "Values": ["prod"], "MatchOptions": ["EQUALS"]}},
        ]
    }
    subscription = one(aws_prod, "aws:costexplorer/anomalySubscription:AnomalySubscription")
    assert subscription.inputs["frequency"] == "IMMEDIATE"
    assert subscription.inputs["thresholdExpression"]["dimension"] == {
        "key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
        "matchOptions": ["GREATER_THAN_OR_EQUAL"],
        "values": ["100"],
    }
    (subscriber,) = subscription.inputs["subscribers"]
    warning = next(t for t in aws_prod.by_type("aws:sns/topic:Topic") if t.name == "aws-alerts-topic")
    assert subscriber["type"] == "SNS" and subscriber["address"].endswith(f":{warning.inputs['name']}")
    policy = next(p for p in aws_prod.by_type("aws:sns/topicPolicy:TopicPolicy") if p.name.startswith("aws-alerts-"))
    publishers = [s for s in iam_statements(policy) if s.get("Sid") == "CostAnomalyDetectionPublish"]
    assert publishers and publishers[0]["Principal"] == {"Service": "costalerts.amazonaws.com"}
