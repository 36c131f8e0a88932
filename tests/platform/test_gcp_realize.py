"""The churn PlatformSpec realized on GCP Vertex AI: what each spec section becomes, and what GCP refuses."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops_infra.engine import ProgramError
from mlops_infra.engine.captured import CapturedStack
from mlops_infra.gcp.drift_query import DriftFeature, drift_query
from mlops_infra.gcp.realize import canary_percentages
from mlops_infra.platform import MlPlatform
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.policy.model import Enforcement
from mlops_infra.spec import Rollout
from mlops_infra.spec.load import deep_merge
from mlops_infra.testing import one, plan

SPEC_FILE = Path(__file__).resolve().parents[2] / "stacks" / "platform" / "platform.yaml"
CONFIG = {"gcp:project": "acme-churn", "gcp:region": "europe-west4"}
BILLING = "01A2B3-C4D5E6-F7A8B9"
KEY = "projects/acme-churn/locations/europe-west4/keyRings/churn-{env}-gcp-key/cryptoKeys/churn-{env}-gcp-key"
ENCRYPTING = {
    "gcp:storage/bucket:Bucket": lambda i: i["encryption"]["defaultKmsKeyName"],
    "gcp:bigquery/dataset:Dataset": lambda i: i["defaultEncryptionConfiguration"]["kmsKeyName"],
    "gcp:bigquery/table:Table": lambda i: i["encryptionConfiguration"]["kmsKeyName"],
    "gcp:vertex/aiEndpoint:AiEndpoint": lambda i: i["encryptionSpec"]["kmsKeyName"],
    "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore": lambda i: i["encryptionSpec"]["kmsKeyName"],
    "gcp:artifactregistry/repository:Repository": lambda i: i["kmsKeyName"],
    "pulumi-python:dynamic/vertex:VertexModel": lambda i: i["kms_key_name"],
}


def training_job(stack: CapturedStack) -> Any:
    return next(j for j in stack.by_type("gcp:cloudscheduler/job:Job") if j.name == "gcp-training-schedule")


def churn_spec(**overrides: Any) -> dict[str, Any]:
    """platform.yaml on GCP with a billing account, and ``overrides`` deep-merged over it."""
    document = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    return deep_merge(
        document,
        deep_merge({"clouds": ["gcp"], "gcp": {"billing_account": BILLING, "group_domain": "example.com"}}, overrides),
    )


def realize(environment: str = "dev", **overrides: Any) -> CapturedStack:
    spec = churn_spec(**overrides)

    def program() -> None:
        pulumi.export("platform", MlPlatform("churn", spec).outputs)

    return plan(program, environment=environment, config=CONFIG)


@pytest.fixture(scope="module")
def dev() -> CapturedStack:
    return realize("dev")


@pytest.fixture(scope="module")
def prod() -> CapturedStack:
    return realize("prod", alerts={"emails": ["ml-platform@example.com", "ml-oncall@example.com"]})


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_every_encrypting_child_uses_the_platform_key(environment, dev, prod):
    stack = dev if environment == "dev" else prod
    key = KEY.format(env=environment)
    seen = 0
    for type_, read in ENCRYPTING.items():
        for resource in stack.by_type(type_):
            assert read(resource.inputs) == key, resource.urn
            seen += 1
    assert seen >= 8
    job = training_job(stack)
    body = json.loads(base64.b64decode(job.inputs["httpTarget"]["body"]))
    assert body["encryptionSpec"] == {"kmsKeyName": key}
    # One platform key, owned by the platform component, rotating every 90 days.
    crypto_key = one(stack, "gcp:kms/cryptoKey:CryptoKey")
    assert crypto_key.inputs["rotationPeriod"] == f"{90 * 86400}s"
    assert "mlops-infra:index:MlPlatform" in crypto_key.urn and "gcp-key" in crypto_key.urn


def test_feature_store_maps_feature_types_to_bigquery(dev):
    table = one(dev, "gcp:bigquery/table:Table")
    schema = {c["name"]: (c["type"], c["mode"]) for c in json.loads(table.inputs["schema"])}
    assert schema == {
        "customer_id": ("STRING", "REQUIRED"),
        "event_time": ("TIMESTAMP", "REQUIRED"),
        "tenure_months": ("INT64", "NULLABLE"),
        "monthly_charges": ("FLOAT64", "NULLABLE"),
        "contract_type": ("STRING", "NULLABLE"),
    }
    assert table.inputs["timePartitioning"] == {"type": "DAY", "field": "event_time"}
    group = one(dev, "gcp:vertex/aiFeatureGroup:AiFeatureGroup")
    assert group.inputs["bigQuery"]["entityIdColumns"] == ["customer_id"]
    features = {f.inputs["name"] for f in dev.by_type("gcp:vertex/aiFeatureGroupFeature:AiFeatureGroupFeature")}
    assert features == {"tenure_months", "monthly_charges", "contract_type"}
    online = one(dev, "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore")
    psc = online.inputs["dedicatedServingEndpoint"]["privateServiceConnectConfig"]
    assert psc == {"enablePrivateServiceConnect": True, "projectAllowlists": ["acme-churn"]}
    view = one(dev, "gcp:vertex/aiFeatureOnlineStoreFeatureview:AiFeatureOnlineStoreFeatureview")
    assert view.inputs["featureRegistrySource"]["featureGroups"][0]["featureIds"] == [
        "tenure_months",
        "monthly_charges",
        "contract_type",
    ]


def train_job_inputs(spec: dict[str, Any]) -> dict[str, Any]:
    """The train step's CustomJob inputs (google-cloud-pipeline-components: defaults of the component)."""
    return spec["components"]["comp-train"]["inputDefinitions"]["parameters"]


def test_training_schedule_image_machine_and_gate(prod):
    job = training_job(prod)
    assert (job.inputs["schedule"], job.inputs["timeZone"]) == ("0 3 * * 1", "Europe/Berlin")
    body = json.loads(base64.b64decode(job.inputs["httpTarget"]["body"]))
    parameters = body["runtimeConfig"]["parameterValues"]
    assert parameters["model_alias"] == "challenger"  # manual approval: a reviewer promotes
    assert parameters["source_uri"] == "bq://acme-churn.churn_prod_gcp_features.customer_profile"
    assert parameters["parent_model"] == "projects/acme-churn/locations/europe-west4/models/churn-prod-churn"
    assert parameters["serving_image"].endswith(
        "churn-serve@sha256:" + "ca302cd636c92cbec6e4b30c2823e7cffd1a247d7454c1fb0f74cc7844210b8c"
    )
    # The train step is a Vertex CustomJob: medium = n1-standard-4, the spec's runtime, disk and capacity.
    train = train_job_inputs(body["pipelineSpec"])
    (pool,) = train["worker_pool_specs"]["defaultValue"]
    assert pool["container_spec"]["image_uri"].startswith(
        "europe-west4-docker.pkg.dev/churn-ml/images/churn-train@sha256:"
    )
    assert pool["machine_spec"] == {"machine_type": "n1-standard-4"}
    assert train["timeout"]["defaultValue"] == "7200s"
    assert pool["disk_spec"]["boot_disk_size_gb"] == 100  # the spec's 50 GB, raised to Vertex's minimum
    assert parameters["kms_key_name"].endswith("/cryptoKeys/churn-prod-gcp-key")
    assert parameters["service_account"].startswith("churn-prod-gcp-training@")
    assert body["pipelineSpec"]["root"]["inputDefinitions"]["parameters"]["metric_threshold"]["defaultValue"] == 0.8


def test_gpu_training_and_a_minimized_metric():
    stack = realize(
        "dev",
        training={
            "compute": {"size": "gpu-small"},
            "gate": {"name": "rmse", "threshold": 0.3, "direction": "minimize"},
        },
    )
    body = json.loads(base64.b64decode(training_job(stack).inputs["httpTarget"]["body"]))
    spec = body["pipelineSpec"]
    (pool,) = train_job_inputs(spec)["worker_pool_specs"]["defaultValue"]
    # gpu-small = n1-standard-4 + 1 NVIDIA_TESLA_T4.
    assert pool["machine_spec"] == {
        "machine_type": "n1-standard-4",
        "accelerator_type": "NVIDIA_TESLA_T4",
        "accelerator_count": 1,
    }
    assert " <= " in spec["root"]["dag"]["tasks"]["condition-1"]["triggerPolicy"]["condition"]


def test_registry_approval_alias_per_environment(dev, prod):
    dev_model = one(dev, "pulumi-python:dynamic/vertex:VertexModel")
    assert dev_model.inputs["version_aliases"] == ["champion"]  # automatic: approved at registration
    prod_model = one(prod, "pulumi-python:dynamic/vertex:VertexModel")
    assert prod_model.inputs["version_aliases"] == ["challenger"]  # manual: a reviewer sets champion
    # The relative artifact resolves against the registry's models bucket, as a directory.
    assert prod_model.inputs["artifact_uri"] == "gs://churn-prod-gcp-registry-models/churn/champion/"
    deployment = one(prod, "pulumi-python:dynamic/vertex:VertexModelDeployment")
    assert deployment.inputs["deployments"][0]["alias"] == "champion"
    assert deployment.inputs["required_alias"] == "champion"


def test_endpoint_private_scaling_rollout_and_logging(dev, prod):
    endpoint = one(prod, "gcp:vertex/aiEndpoint:AiEndpoint")
    assert endpoint.inputs["privateServiceConnectConfig"] == {
        "enablePrivateServiceConnect": True,
        "projectAllowlists": ["acme-churn"],
    }
    assert "mlops-infra_allow-public" not in endpoint.inputs["labels"]
    # prod default capture: 20 percent of requests, written as Vertex's 0-1 sampling rate.
    assert endpoint.inputs["predictRequestResponseLoggingConfig"]["samplingRate"] == 0.2
    deployment = one(prod, "pulumi-python:dynamic/vertex:VertexModelDeployment").inputs
    served = deployment["deployments"][0]
    assert (served["machine_type"], served["min_replica_count"], served["max_replica_count"]) == (
        "n1-standard-2",
        2,
        4,
    )
    assert served["autoscaling_metric_specs"] == [
        {"metric_name": "aiplatform.googleapis.com/prediction/online/cpu/utilization", "target": 60}
    ]
    # prod default rollout: a 10 percent canary baked for 600 s.
    assert (deployment["canary_percentages"], deployment["step_wait_seconds"]) == ([10, 100], 600)
    # Rollback on the alert thresholds after each stage (platform.yaml: 1 %, 300 ms).
    assert deployment["rollback_metrics"] == {"error_rate_percent": 1, "p95_latency_ms": 300}
    dev_endpoint = one(dev, "gcp:vertex/aiEndpoint:AiEndpoint")
    assert "predictRequestResponseLoggingConfig" not in dev_endpoint.inputs  # dev: no capture
    dev_deployment = one(dev, "pulumi-python:dynamic/vertex:VertexModelDeployment").inputs
    # Vertex cannot scale to zero: dev gets one replica, all at once.
    assert dev_deployment["deployments"][0]["min_replica_count"] == 1
    assert (dev_deployment["canary_percentages"], dev_deployment["step_wait_seconds"]) == ([100], 0)
    assert "rollback_metrics" not in dev_deployment  # all at once: nothing to roll back to in steps


def test_alert_thresholds_in_spec_units_and_notification_channels(prod):
    channels = prod.by_type("gcp:monitoring/notificationChannel:NotificationChannel")
    assert sorted(c.name for c in channels) == ["gcp-alert-ml-oncall-example-com", "gcp-alert-ml-platform-example-com"]
    assert sorted(c.inputs["labels"]["email_address"] for c in channels) == [
        "ml-oncall@example.com",
        "ml-platform@example.com",
    ]
    assert all(c.inputs["type"] == "email" for c in channels)
    policies = {p.name: p.inputs for p in prod.by_type("gcp:monitoring/alertPolicy:AlertPolicy")}
    errors = policies["gcp-scoring-alert-error-rate"]["conditions"][0]["conditionThreshold"]
    latency = policies["gcp-scoring-alert-latency"]["conditions"][0]["conditionThreshold"]
    # platform.yaml: error_rate_percent 1 -> a 0.01 ratio; p95_latency_ms 300 -> 300 ms at the 95th percentile.
    assert errors["thresholdValue"] == 0.01
    assert latency["thresholdValue"] == 300
    assert latency["aggregations"][0]["perSeriesAligner"] == "ALIGN_PERCENTILE_95"
    assert errors["duration"] == "120s"  # 2 breaching 60 s periods
    assert all(len(p["notificationChannels"]) == 2 for p in policies.values())


def test_budget_thresholds_and_channels(prod):
    budget = one(prod, "gcp:billing/budget:Budget").inputs
    assert budget["billingAccount"] == BILLING
    assert budget["amount"]["specifiedAmount"] == {"currencyCode": "USD", "units": "1500"}
    assert budget["thresholdRules"] == [
        {"thresholdPercent": 0.8, "spendBasis": "CURRENT_SPEND"},
        {"thresholdPercent": 0.8, "spendBasis": "FORECASTED_SPEND"},
        {"thresholdPercent": 0.9, "spendBasis": "CURRENT_SPEND"},
        {"thresholdPercent": 0.9, "spendBasis": "FORECASTED_SPEND"},
        {"thresholdPercent": 1, "spendBasis": "CURRENT_SPEND"},
        {"thresholdPercent": 1, "spendBasis": "FORECASTED_SPEND"},
    ]
    assert len(budget["allUpdatesRule"]["monitoringNotificationChannels"]) == 2


def test_labels_and_outputs(prod):
    for type_ in ("gcp:vertex/aiEndpoint:AiEndpoint", "gcp:storage/bucket:Bucket", "gcp:bigquery/dataset:Dataset"):
        for resource in prod.by_type(type_):
            assert resource.inputs["labels"]["environment"] == "prod", resource.urn
    platform = one(prod, "mlops-infra:index:MlPlatform")
    assert platform.inputs["protected"] is True
    outputs = prod.outputs["platform"]["gcp"]
    assert outputs["keyName"] == KEY.format(env="prod")
    assert outputs["featureStore"] == "churn_prod_gcp_features"
    assert outputs["pipelineName"] == "churn-prod-gcp-training"
    assert outputs["registryName"] == "projects/acme-churn/locations/europe-west4/models/churn-prod-churn"
    assert list(outputs["endpointNames"]) == ["scoring"]  # spec name -> Vertex endpoint, as on every cloud
    assert outputs["endpointNames"]["scoring"].startswith("projects/acme-churn/locations/europe-west4/endpoints/")
    assert set(outputs) == {
        "keyName",
        "featureStore",
        "pipelineName",
        "registryName",
        "endpointNames",
        "budgetName",
        "driftWorkflow",
        "tensorboard",
    }
    assert outputs["driftWorkflow"] == "churn-prod-gcp-drift"


def test_canary_percentages_follow_the_rollout():
    assert canary_percentages(Rollout(strategy="canary", canary_percent=5)) == [5, 100]
    assert canary_percentages(Rollout(strategy="linear", step_percent=25)) == [25, 50, 75, 100]
    assert canary_percentages(Rollout(strategy="linear", step_percent=30)) == [30, 60, 90, 100]
    assert canary_percentages(Rollout(strategy="all_at_once", bake_seconds=0)) == [100]


def _endpoint(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["endpoints"][0]


@pytest.mark.parametrize(
    ("environment", "change", "path", "reason"),
    [
        ("dev", lambda s: s["gcp"].pop("billing_account"), "gcp.billing_account", "Billing account"),
        (
            "dev",
            lambda s: _endpoint(s)["model"].update(artifact="s3://models/churn/model.tar.gz"),
            "endpoints.0.model.artifact",
            "not s3://",
        ),
        (
            "dev",
            lambda s: _endpoint(s)["model"]["serving"]["per_cloud"].pop("gcp"),
            "endpoints.0.model.serving",
            "no serving image for gcp",
        ),
        (
            "prod",
            lambda s: s["training"]["image"]["per_cloud"].update(gcp="europe-west4-docker.pkg.dev/p/r/train:1.2.0"),
            "training.image.per_cloud.gcp",
            "digest-pinned",
        ),
        (
            "prod",
            lambda s: _endpoint(s)["model"]["serving"].update(per_cloud={}, image="ghcr.io/acme/serve:1.0.0"),
            "endpoints.0.model.serving.image",
            "digest-pinned",
        ),
        ("dev", lambda s: s["training"]["image"]["per_cloud"].pop("gcp"), "training.image", "no training image"),
        (
            "dev",
            lambda s: _endpoint(s).update(scaling={"min_replicas": 0, "max_replicas": 2}),
            "endpoints.0.scaling.min_replicas",
            "cannot scale to zero",
        ),
        (
            "dev",
            lambda s: _endpoint(s).update(scaling={"target": {"metric": "concurrency", "value": 5}}),
            "endpoints.0.scaling.target.metric",
            "cpu_percent",
        ),
        (
            "dev",
            lambda s: _endpoint(s).update(rollout={"strategy": "canary", "canary_percent": 12.5}),
            "endpoints.0.rollout.canary_percent",
            "whole percents",
        ),
        (
            "dev",
            lambda s: _endpoint(s).update(data_capture={"destination_uri": "gs://capture-bucket/x"}),
            "endpoints.0.data_capture.destination_uri",
            "BigQuery",
        ),
        (
            "dev",
            lambda s: (
                _endpoint(s).update(allow_public_access=True),
                s["gcp"].update(network="projects/123/global/networks/ml"),
            ),
            "endpoints.0.allow_public_access",
            "excludes gcp.network",
        ),
        (
            "dev",
            lambda s: (
                s["feature_store"]["feature_groups"][0].update(
                    features=[{"name": "customer_id", "type": "string"}, {"name": "event_time", "type": "timestamp"}]
                ),
                s.pop("monitoring"),
            ),
            "feature_store.feature_groups.0.features",
            "besides the entity key",
        ),
        (
            "dev",
            lambda s: s["registry"].update(approval={"approved_label": "default"}),
            "registry.approval.approved_label",
            "alias",
        ),
        (
            "dev",
            lambda s: s["training"].update(parameters={"kms_key_name": "x"}),
            "training.parameters.kms_key_name",
            "template",
        ),
    ],
)
def test_check_refuses_before_registering_anything(environment, change, path, reason):
    spec = churn_spec()
    change(spec)
    with pytest.raises(ProgramError) as info:
        plan(lambda: MlPlatform("churn", spec), environment=environment, config=CONFIG)
    message = str(info.value)
    assert path in message, message
    assert reason in message, message
    assert info.value.registered == []


def test_drift_check_runs_on_its_schedule_and_retrains(prod, dev):
    assert dev.by_type("mlops-infra:gcp:DriftRetraining") == []  # dev: monitoring off by default
    drift = one(prod, "mlops-infra:gcp:DriftRetraining")
    children = {r.name: r for r in prod.resources if r.parent == drift.urn}
    job = children["gcp-drift-schedule"].inputs
    assert (job["schedule"], job["timeZone"]) == ("0 * * * *", "UTC")
    assert job["httpTarget"]["uri"].endswith("/workflows/churn-prod-gcp-drift/executions")
    workflow = children["gcp-drift-workflow"].inputs
    assert workflow["cryptoKeyName"] == KEY.format(env="prod")
    steps = [next(iter(step.items())) for step in json.loads(workflow["sourceContents"])["main"]["steps"]]
    names = [name for name, _ in steps]
    assert names == ["measure", "decide", "alarm", "retrain", "started", "stable"]
    query = steps[0][1]["args"]["body"]["query"]
    # Each feature against its own threshold (none set here: all take drift.threshold, 0.2).
    assert "COUNTIF(distance > threshold)" in query
    for feature in ("tenure_months", "monthly_charges", "contract_type"):
        assert f"SELECT '{feature}' AS feature, 0.2 AS threshold" in query
    assert "`acme-churn.churn_prod_gcp_features.customer_profile`" in query
    assert "`acme-churn.churn_prod_gcp_scoring_logs.request_response_logging`" in query
    assert "APPROX_QUANTILES(v, 10)" in query and "JSON_VALUE(instance, '$.contract_type')" in query
    retrain = dict(steps)["retrain"]["args"]
    assert retrain["url"] == (
        "https://europe-west4-aiplatform.googleapis.com/v1/projects/acme-churn/locations/europe-west4/pipelineJobs"
    )
    assert retrain["body"]["encryptionSpec"] == {"kmsKeyName": KEY.format(env="prod")}
    metric = children["gcp-drift-metric"].inputs
    assert 'jsonPayload.event="mlops-drift"' in metric["filter"]
    alert = children["gcp-drift-alert"].inputs
    assert len(alert["notificationChannels"]) == 2
    failed = alert["conditions"][1]["conditionThreshold"]["filter"]
    assert 'resource.labels.workflow_id="churn-prod-gcp-drift"' in failed and 'status="FAILED"' in failed
    # Least privilege: two project roles plus Vertex jobs, reads on the two datasets, actAs on the pipeline only.
    roles = sorted(r.inputs["role"] for r in prod.by_type("gcp:projects/iAMMember:IAMMember") if "drift" in r.name)
    assert roles == [
        "roles/aiplatform.user",
        "roles/bigquery.jobUser",
        "roles/logging.logWriter",
        "roles/workflows.invoker",
    ]
    act_as = children["gcp-drift-act-as-pipeline"].inputs
    assert act_as["serviceAccountId"].endswith(
        "/serviceAccounts/churn-prod-gcp-training@acme-churn.iam.gserviceaccount.com"
    )
    assert (
        children["gcp-drift-key-workflows-agent"].inputs["member"].endswith("@gcp-sa-workflows.iam.gserviceaccount.com")
    )


def test_drift_without_retraining_only_alerts():
    stack = realize("prod", training={"retrain_on_drift": False})
    (workflow,) = (w.inputs for w in stack.by_type("gcp:workflows/workflow:Workflow") if w.name == "gcp-drift-workflow")
    names = [next(iter(step)) for step in json.loads(workflow["sourceContents"])["main"]["steps"]]
    assert "retrain" not in names and "alarm" in names
    assert not [r for r in stack.by_type("gcp:serviceaccount/iAMMember:IAMMember") if "drift" in r.name]


def test_drift_query_distances():
    numeric = drift_query(
        features=[DriftFeature(name="age", numeric=True), DriftFeature(name="plan")],
        baseline_table="acme-churn.features.customers",
        baseline_time_column="event_time",
        logging_tables=["acme-churn.logs.a", "acme-churn.logs.b"],
        threshold=0.15,
        baseline_days=7,
        window_hours=6,
    )
    assert "RANGE_BUCKET(v, (SELECT q FROM bounds_age))" in numeric
    assert "SELECT v AS k" in numeric  # plan is categorical: compared value by value
    assert numeric.count("INTERVAL 6 HOUR") == 4 and numeric.count("INTERVAL 7 DAY") == 2
    assert "COUNTIF(distance > threshold)" in numeric
    assert "SELECT 'age' AS feature, 0.15 AS threshold" in numeric
    assert "SELECT 'plan' AS feature, 0.15 AS threshold" in numeric
    own = drift_query(
        features=[DriftFeature(name="age", numeric=True, threshold=0.4), DriftFeature(name="plan")],
        baseline_table="acme-churn.features.customers",
        baseline_time_column="event_time",
        logging_tables=["acme-churn.logs.a"],
        threshold=0.15,
        baseline_days=7,
        window_hours=6,
    )
    assert "SELECT 'age' AS feature, 0.4 AS threshold" in own
    assert "SELECT 'plan' AS feature, 0.15 AS threshold" in own
    assert "STRING_AGG(IF(distance > threshold, feature, NULL), ',' ORDER BY feature) AS features" in own
    with pytest.raises(ValueError, match=r"project\.dataset\.table"):
        drift_query(
            features=[DriftFeature(name="age")],
            baseline_table="customers; DROP TABLE x",
            baseline_time_column="event_time",
            logging_tables=["acme-churn.logs.a"],
            threshold=0.1,
            baseline_days=1,
            window_hours=1,
        )


@pytest.mark.parametrize(
    ("environment", "change", "path", "reason"),
    [
        (
            "prod",
            lambda s: s["monitoring"]["drift"].update(baseline="churn/baseline/stats.json"),
            "monitoring.drift.baseline",
            "offline table",
        ),
        (
            "dev",
            lambda s: s["monitoring"].update(enabled=True),
            "endpoints.0.data_capture",
            "request logs",
        ),
        (
            # Capture at 0 percent logs nothing: drift would have no requests to compare.
            "prod",
            lambda s: _endpoint(s).update(data_capture={"sampling_percent": 0}),
            "endpoints.0.data_capture",
            "request logs",
        ),
    ],
)
def test_drift_check_refusals(environment, change, path, reason):
    spec = churn_spec()
    change(spec)
    with pytest.raises(ProgramError) as info:
        plan(lambda: MlPlatform("churn", spec), environment=environment, config=CONFIG)
    assert path in str(info.value) and reason in str(info.value)
    assert info.value.registered == []


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_realized_platform_passes_the_mandatory_policies(environment, dev, prod):
    stack = dev if environment == "dev" else prod
    mandatory = [v for v in evaluate_stack(stack) if v.enforcement is Enforcement.MANDATORY]
    assert mandatory == []


def test_personas_get_least_privilege(dev, prod):
    def grants(stack: CapturedStack) -> set[tuple[str, str]]:
        access = one(stack, "mlops-infra:gcp:PlatformAccess")
        return {
            (r.inputs["member"], r.inputs["role"])
            for r in stack.resources
            if r.parent == access.urn and r.type == "gcp:projects/iAMMember:IAMMember"
        }

    scientists = "group:churn-data-scientists@example.com"
    assert (scientists, "roles/aiplatform.user") in grants(dev)  # run pipelines in dev
    assert (scientists, "roles/aiplatform.viewer") in grants(prod) and (
        scientists,
        "roles/aiplatform.user",
    ) not in grants(prod)
    assert ("group:platform-devops@example.com", "roles/monitoring.alertPolicyEditor") in grants(prod)
    # Approval (moving a model alias needs aiplatform.models.update): in prod only the approvers' custom role.
    approver_role = "projects/acme-churn/roles/churn_prod_modelApprover"
    assert ("group:churn-ml-leads@example.com", approver_role) in grants(prod)
    assert ("group:churn-ml-leads@example.com", "roles/aiplatform.viewer") in grants(prod)
    holders = {member for member, role in grants(prod) if role in {"roles/aiplatform.user", approver_role}}
    assert holders == {"group:churn-ml-leads@example.com"}
    engineers = "group:churn-ml-engineers@example.com"
    assert (engineers, "projects/acme-churn/roles/churn_prod_pipelineRunner") in grants(prod)
    assert (engineers, "roles/aiplatform.user") in grants(dev)  # outside prod engineers approve too
    roles = {
        r.inputs["roleId"]: r.inputs["permissions"] for r in prod.by_type("gcp:projects/iAMCustomRole:IAMCustomRole")
    }
    assert roles == {
        "churn_prod_modelApprover": ["aiplatform.models.get", "aiplatform.models.list", "aiplatform.models.update"],
        "churn_prod_pipelineRunner": [
            "aiplatform.pipelineJobs.cancel",
            "aiplatform.pipelineJobs.create",
            "aiplatform.pipelineJobs.get",
            "aiplatform.pipelineJobs.list",
        ],
    }
    # Engineers run pipelines as the training pipeline's account, and act as no other.
    (act_as,) = [r for r in prod.by_type("gcp:serviceaccount/iAMMember:IAMMember") if r.inputs["member"] == engineers]
    assert act_as.inputs["role"] == "roles/iam.serviceAccountUser"
    (account,) = [r for r in prod.by_type("gcp:serviceaccount/account:Account") if r.name == "gcp-training-sa"]
    assert act_as.inputs["serviceAccountId"] == (
        f"projects/acme-churn/serviceAccounts/{account.inputs['accountId']}@acme-churn.iam.gserviceaccount.com"
    )
    # Data is read on the feature dataset and the models bucket only; devops and analysts read none.
    readers = {
        r.inputs["member"]
        for r in prod.by_type("gcp:bigquery/datasetIamMember:DatasetIamMember")
        if r.inputs["role"] == "roles/bigquery.dataViewer" and r.inputs["member"].startswith("group:")
    }
    assert readers == {scientists, "group:churn-ml-engineers@example.com"}
    models = [
        r
        for r in prod.by_type("gcp:storage/bucketIAMMember:BucketIAMMember")
        if r.inputs["member"].startswith("group:")
    ]
    assert [(m.inputs["member"], m.inputs["role"]) for m in models] == [
        ("group:churn-ml-engineers@example.com", "roles/storage.objectViewer")
    ]
    assert all(role not in {"roles/owner", "roles/editor", "roles/viewer"} for _, role in grants(prod))


def test_access_groups_need_a_domain():
    spec = churn_spec()
    spec["gcp"].pop("group_domain")
    with pytest.raises(ProgramError) as info:
        plan(lambda: MlPlatform("churn", spec), environment="dev", config=CONFIG)
    assert "access.data_scientists.0" in str(info.value) and "gcp.group_domain" in str(info.value)
    assert info.value.registered == []
    spec["access"] = {"data_scientists": ["ds-team@example.org"]}
    stack = plan(lambda: MlPlatform("churn", spec), environment="dev", config=CONFIG)
    members = {r.inputs["member"] for r in stack.by_type("gcp:projects/iAMMember:IAMMember")}
    assert "group:ds-team@example.org" in members


def test_vpc_peering_and_two_digit_regions():
    stack = realize("prod", gcp={"region": "europe-west10", "network": "projects/123/global/networks/ml"})
    endpoint = one(stack, "gcp:vertex/aiEndpoint:AiEndpoint").inputs
    assert endpoint["network"] == "projects/123/global/networks/ml"
    assert "privateServiceConnectConfig" not in endpoint
    assert endpoint["location"] == "europe-west10"
    body = json.loads(base64.b64decode(training_job(stack).inputs["httpTarget"]["body"]))
    assert body["network"] == "projects/123/global/networks/ml"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    scaling=st.fixed_dictionaries(
        {
            "min_replicas": st.integers(0, 3),
            "max_replicas": st.integers(1, 6),
            "target": st.fixed_dictionaries({"metric": st.just("cpu_percent"), "value": st.floats(0.1, 100)}),
        }
    ),
    rollout=st.fixed_dictionaries(
        {
            "strategy": st.sampled_from(["canary", "linear", "blue_green", "all_at_once"]),
            "canary_percent": st.sampled_from([1, 5, 10, 12.5, 50, 99]),
            "step_percent": st.sampled_from([10, 25, 33, 50, 99]),
        }
    ),
    sampling=st.floats(0, 100),
    size=st.sampled_from(["small", "medium", "large", "gpu-small"]),
    environment=st.sampled_from(["dev", "prod"]),
)
def test_any_spec_is_refused_before_registering_or_plans(scaling, rollout, sampling, size, environment):
    """Whatever the endpoint asks for, GCP either refuses it up front (nothing registered) or plans it."""
    spec = churn_spec()
    endpoint = spec["endpoints"][0]
    endpoint.update(compute={"size": size}, rollout=rollout, data_capture={"sampling_percent": sampling})
    if scaling["min_replicas"] <= scaling["max_replicas"]:
        endpoint["scaling"] = scaling
    try:
        stack = plan(lambda: MlPlatform("churn", spec), environment=environment, config=CONFIG)
    except ProgramError as error:
        assert error.registered == [], str(error)
        assert "endpoints.0." in str(error), str(error)
        return
    served = one(stack, "pulumi-python:dynamic/vertex:VertexModelDeployment").inputs["deployments"][0]
    assert served["min_replica_count"] >= 1


def test_relative_artifacts_resolve_against_the_model_store():
    stack = realize("dev", gcp={"model_store_uri": "gs://acme-models/churn-store"})
    model = one(stack, "pulumi-python:dynamic/vertex:VertexModel").inputs
    assert model["artifact_uri"] == "gs://acme-models/churn-store/churn/champion/"


@settings(max_examples=20, deadline=None)
@given(
    monitoring=st.sampled_from([None, True, False]),
    retrain=st.booleans(),
    training_size=st.sampled_from(["small", "medium", "large", "gpu-small"]),
    direction=st.sampled_from(["maximize", "minimize"]),
    approval=st.sampled_from([None, "manual", "automatic"]),
    online=st.booleans(),
    capture=st.sampled_from([None, 0, 5, 100]),
    environment=st.sampled_from(["dev", "staging", "prod"]),
)
def test_any_platform_choice_is_refused_before_registering_or_plans(
    monitoring, retrain, training_size, direction, approval, online, capture, environment
):
    """Monitoring, retraining, training size, gate, approval, online serving, capture in any combination."""
    spec = churn_spec()
    spec["monitoring"]["enabled"] = monitoring
    spec["training"].update(retrain_on_drift=retrain, compute={"size": training_size})
    spec["training"]["gate"]["direction"] = direction
    if approval is not None:
        spec["registry"]["approval"] = {"mode": approval}
    spec["feature_store"]["feature_groups"][0]["online"] = online
    if capture is not None:
        spec["endpoints"][0]["data_capture"] = {"sampling_percent": capture}
    try:
        stack = plan(lambda: MlPlatform("churn", spec), environment=environment, config=CONFIG)
    except ProgramError as error:
        assert error.registered == [], str(error)
        return
    drift = stack.by_type("mlops-infra:gcp:DriftRetraining")
    assert bool(drift) == bool(monitoring if monitoring is not None else environment != "dev")


def test_feature_views_sync_on_the_spec_materialization_schedule(dev):
    (view,) = dev.by_type("gcp:vertex/aiFeatureOnlineStoreFeatureview:AiFeatureOnlineStoreFeatureview")
    assert view.inputs["syncConfig"]["cron"] == "0 */6 * * *"  # no materialization: every 6 h
    stack = realize("dev", feature_store={"materialization": {"cron": "15 * * * *", "time_zone": "Europe/Berlin"}})
    (view,) = stack.by_type("gcp:vertex/aiFeatureOnlineStoreFeatureview:AiFeatureOnlineStoreFeatureview")
    assert view.inputs["syncConfig"]["cron"] == "TZ=Europe/Berlin 15 * * * *"
