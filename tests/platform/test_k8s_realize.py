"""The churn PlatformSpec realized on Kubernetes (stacks/platform k8s-dev and k8s-prod), and what check refuses."""

from __future__ import annotations

import copy
import importlib
from pathlib import Path
from typing import Any

import pulumi_aws as aws
import pytest
import yaml

from mlops_infra.engine import CapturedStack, ProgramError, run_program
from mlops_infra.platform import MlPlatform
from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.policy.model import Enforcement
from mlops_infra.testing import plan, required_tags_present

# plan() drops modules first imported during a run from under the project directory (here the
# repository), including lazily imported pulumi-kubernetes type modules: import them up front.
for _group in ("core.v1", "apps.v1", "batch.v1", "networking.v1", "rbac.v1", "policy.v1", "meta.v1"):
    for _module in ("_inputs", "outputs"):
        importlib.import_module(f"pulumi_kubernetes.{_group}.{_module}")

ROOT = Path(__file__).resolve().parents[2]
ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
SECRETS = {
    "redisPassword": "a-long-redis-password",
    "postgresPassword": "a-long-postgres-password",
    "oidcClientSecret": "client-secret",
    "cookieSecret": "0123456789abcdef0123456789abcdef",
}
K8S = {
    "team": "churn-ml",
    "model_store_uri": "s3://acme-churn/models",
    "oidc_issuer_url": "https://login.acme.example/realms/ml",
    "storage": {
        "provisioner": "aws-ebs",
        "kms_key": "arn:aws:kms:us-east-1:123456789012:key/0f2d9c1e-5b7a-4e3c-9d8f-6a1b2c3d4e5f",
    },
}


@pytest.fixture(scope="module", params=["k8s-dev", "k8s-prod"])
def stack(request: pytest.FixtureRequest) -> CapturedStack:
    return run_program(ROOT / "stacks" / "platform", request.param)


def by_kind(stack: CapturedStack, kind: str) -> list[Any]:
    return [r for r in stack.custom_resources() if r.type.endswith(f":{kind}")]


def named(stack: CapturedStack, kind: str, name: str) -> Any:
    (found,) = [r for r in by_kind(stack, kind) if r.inputs["metadata"]["name"] == name]
    return found


def predictor(stack: CapturedStack) -> dict[str, Any]:
    (isvc,) = stack.by_type(ISVC)
    return isvc.inputs["spec"]["predictor"]


def workflow_step(stack: CapturedStack, name: str) -> dict[str, Any]:
    (template,) = by_kind(stack, "WorkflowTemplate")
    (found,) = [t for t in template.inputs["spec"]["templates"] if t["name"] == name]
    return found


def prod(stack: CapturedStack) -> bool:
    return stack.stack == "k8s-prod"


def test_namespace_quota_limits_and_default_deny(stack: CapturedStack) -> None:
    env = "prod" if prod(stack) else "dev"
    namespace = f"churn-platform-{env}-churn-ml"
    (ns,) = by_kind(stack, "Namespace")
    assert ns.inputs["metadata"]["name"] == namespace
    assert ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    (quota,) = [r for r in by_kind(stack, "ResourceQuota") if r.name == "k8s-team-quota"]
    hard = quota.inputs["spec"]["hard"]
    assert (hard["requests.cpu"], hard["requests.memory"]) == ("16", "64Gi")
    assert hard["services.loadbalancers"] == hard["services.nodeports"] == "0"
    assert hard["requests.nvidia.com/gpu"] == "0"  # medium training, small endpoint: no GPU asked for
    (limits,) = by_kind(stack, "LimitRange")
    assert limits.inputs["spec"]["limits"][0]["max"] == {"cpu": "16", "memory": "64Gi"}
    deny = named(stack, "NetworkPolicy", "default-deny-all")
    assert deny.inputs["spec"] == {
        "podSelector": {},
        "ingress": [],
        "egress": [],
        "policyTypes": ["Ingress", "Egress"],
    }
    for resource in stack.custom_resources():
        if resource.type not in ("kubernetes:core/v1:Namespace", "kubernetes:storage.k8s.io/v1:StorageClass"):
            assert resource.inputs["metadata"]["namespace"] == namespace, resource.urn


def test_labels_and_names(stack: CapturedStack) -> None:
    assert required_tags_present(stack) == []
    for resource in stack.custom_resources():
        labels = resource.inputs["metadata"]["labels"]
        assert labels["cost-center"] == "cc-1234" and labels["owner"] == "ml-platform"
        assert labels["environment"] == ("prod" if prod(stack) else "dev")
    (ns,) = by_kind(stack, "Namespace")
    assert ns.inputs["metadata"]["labels"]["mlops-infra/team"] == "churn-ml"
    # Every component hangs under the platform, named {cloud}-{part}.
    components = {r.name for r in stack.resources if r.type.startswith("mlops-infra:k8s:")}
    assert components == {
        "k8s-team",
        "k8s-features",
        "k8s-registry",
        "k8s-training",
        "k8s-scoring",
        "k8s-scoring-monitoring",
        "k8s-alerts",
        "k8s-quota-alerts",
        "k8s-budget",
    } | ({"k8s-scoring-canary-guard", "k8s-drift", "k8s-storage"} if prod(stack) else {"k8s-off-hours"})


def test_persona_role_bindings_follow_spec_access(stack: CapturedStack) -> None:
    bindings = {
        b.inputs["roleRef"]["name"]: sorted(s["name"] for s in b.inputs["subjects"])
        for b in by_kind(stack, "RoleBinding")
        if b.inputs["roleRef"]["name"].startswith("churn-ml-")
    }
    assert bindings == {
        "churn-ml-data-scientist": ["churn-data-scientists"],
        "churn-ml-ml-engineer": ["churn-ml-engineers"],
        "churn-ml-devops": ["platform-devops"],
        "churn-ml-analyst": ["churn-analysts"],
    }
    roles = {r.inputs["metadata"]["name"]: r.inputs["rules"] for r in by_kind(stack, "Role")}
    for name, rules in roles.items():
        for rule in rules:
            assert "*" not in rule["verbs"] and "*" not in rule["resources"], name
            assert "secrets" not in rule["resources"] and "pods/exec" not in rule["resources"], name
    devops = {res for rule in roles["churn-ml-devops"] for res in rule["resources"]}
    assert {"inferenceservices", "prometheusrules", "alertmanagerconfigs"} <= devops
    assert not devops & {"configmaps", "persistentvolumeclaims"}  # no data read
    analyst = roles["churn-ml-analyst"]
    assert all(rule["verbs"] == ["get", "list", "watch"] for rule in analyst)
    assert "resourcequotas" in {res for rule in analyst for res in rule["resources"]}


def test_images_are_pinned(stack: CapturedStack) -> None:
    images = []
    for kind in ("Deployment", "StatefulSet", "Job"):
        for workload in by_kind(stack, kind):
            images += [c["image"] for c in workload.inputs["spec"]["template"]["spec"]["containers"]]
    training = (
        workflow_step(stack, "train")["container"]
        if prod(stack)
        else named(stack, "CronJob", "churn-platform-dev-k8s-training").inputs["spec"]["jobTemplate"]["spec"][
            "template"
        ]["spec"]["containers"][0]
    )
    images.append(training["image"])
    assert training["image"].startswith("ghcr.io/example/churn-train@sha256:c0c574b4")  # the spec's per_cloud k8s
    for image in images:
        assert "@sha256:" in image or (":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest")), image


def test_training_schedule_time_zone_compute_and_gate(stack: CapturedStack) -> None:
    if prod(stack):
        (schedule,) = by_kind(stack, "CronWorkflow")
        spec = schedule.inputs["spec"]
        assert (spec["schedules"], spec["timezone"]) == (["0 3 * * 1"], "Europe/Berlin")
        container = workflow_step(stack, "train")["container"]
        assert by_kind(stack, "WorkflowTemplate")[0].inputs["spec"]["activeDeadlineSeconds"] == 7200
        # the gate under Argo: register into MLflow only when the spec's gate metric passes
        [_], [_], [register] = workflow_step(stack, "train-evaluate-register")["steps"]
        assert register["when"] == "{{steps.evaluate.outputs.parameters.metric}} >= 0.8"
        gate_env = {e["name"]: e.get("value") for e in workflow_step(stack, "register")["container"]["env"]}
        assert (gate_env["GATE_METRIC"], gate_env["REGISTERED_MODEL"]) == ("auc", "churn")
        assert (gate_env["APPROVAL_MODE"], gate_env["APPROVED_ALIAS"]) == ("manual", "champion")
        assert gate_env["MLFLOW_TRACKING_URI"].endswith(":5000")
    else:
        cron = named(stack, "CronJob", "churn-platform-dev-k8s-training")
        spec = cron.inputs["spec"]
        assert (spec["schedule"], spec["timeZone"], spec["suspend"]) == ("0 3 * * 1", "Europe/Berlin", False)
        assert spec["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 7200
        on_demand = named(stack, "CronJob", "churn-platform-dev-k8s-training-on-demand")
        assert on_demand.inputs["spec"]["suspend"] is True
        container = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    # size class medium = 2 CPU, 8 GiB; limits equal requests
    assert container["resources"] == {
        "requests": {"cpu": "2", "memory": "8Gi"},
        "limits": {"cpu": "2", "memory": "8Gi"},
    }
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["MLOPS_APPROVAL_MODE"] == ("manual" if prod(stack) else "automatic")
    assert env["MLOPS_APPROVED_ALIAS"] == "champion"
    assert (env["MLOPS_GATE_METRIC"], env["MLOPS_GATE_THRESHOLD"], env["MLOPS_GATE_DIRECTION"]) == (
        "auc",
        "0.8",
        "maximize",
    )
    assert env["MLOPS_REGISTERED_MODEL"] == "churn"
    assert env["MLFLOW_TRACKING_URI"].endswith(":5000")


def test_endpoint_rollout_scaling_capture_and_exposure(stack: CapturedStack) -> None:
    (isvc,) = stack.by_type(ISVC)
    meta = isvc.inputs["metadata"]
    assert meta["labels"]["networking.kserve.io/visibility"] == "cluster-local"
    p = predictor(stack)
    env = "prod" if prod(stack) else "dev"
    assert p["model"]["storageUri"] == f"s3://acme-churn-{env}/models/churn/champion/model.tar.gz"
    assert p["model"]["modelFormat"] == {"name": "xgboost", "version": "1.7"}
    assert p["model"]["resources"]["requests"] == {"cpu": "1", "memory": "4Gi"}  # size small
    if prod(stack):
        assert p["canaryTrafficPercent"] == 10
        assert (p["minReplicas"], p["maxReplicas"]) == (2, 4)
        assert p["logger"] == {  # the namespace's drift detector (monitoring is on in prod)
            "mode": "all",
            "url": "http://churn-platform-prod-k8s-drift.churn-platform-prod-churn-ml.svc.cluster.local:8080/",
        }
        assert by_kind(stack, "PodDisruptionBudget")
    else:
        assert "canaryTrafficPercent" not in p
        assert (p["minReplicas"], p["maxReplicas"]) == (0, 2)  # dev scales to zero
        assert "logger" not in p
        assert not by_kind(stack, "PodDisruptionBudget")


def test_prod_canary_is_gated_by_the_spec_thresholds_dev_has_no_gate(stack: CapturedStack) -> None:
    guards = [r for r in stack.resources if r.type == "mlops-infra:k8s:CanaryGuard"]
    cron_jobs = [r for r in by_kind(stack, "CronJob") if r.name.endswith("-canary-guard-cron")]
    if not prod(stack):
        assert guards == [] and cron_jobs == []  # dev rolls out all at once: nothing to gate
        return
    assert [g.name for g in guards] == ["k8s-scoring-canary-guard"]  # one per endpoint
    (cron,) = cron_jobs
    (container,) = cron.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    # platform.yaml: error_rate_percent 1, p95_latency_ms 300; prod's canary: 10 %, baked 600 s
    assert (env["ERROR_RATE_PERCENT"], env["P95_LATENCY_MS"]) == ("1", "300")
    assert (env["STRATEGY"], env["BAKE_SECONDS"], env["ROLLBACK_ON_ALARMS"]) == ("canary", "600", "true")
    (isvc,) = stack.by_type(ISVC)
    assert env["INFERENCE_SERVICE"] == isvc.inputs["metadata"]["name"]
    (role,) = [r for r in by_kind(stack, "Role") if r.name == "k8s-scoring-canary-guard-role"]
    assert role.inputs["rules"][0]["resourceNames"] == [isvc.inputs["metadata"]["name"]]
    assert role.inputs["rules"][0]["verbs"] == ["get", "patch"]


def test_drift_detector_feeds_the_drift_alert_and_retrains_in_prod_only(stack: CapturedStack) -> None:
    detectors = [r for r in stack.resources if r.type == "mlops-infra:k8s:DriftDetector"]
    if not prod(stack):
        assert detectors == []  # monitoring is off in dev: no detector, no capture
        assert not [r for r in by_kind(stack, "Deployment") if r.name.startswith("k8s-drift")]
        return
    assert [d.name for d in detectors] == ["k8s-drift"]  # one per namespace
    namespace = stack.outputs["platform"]["k8s"]["namespace"]
    service = named(stack, "Service", "churn-platform-prod-k8s-drift")
    assert predictor(stack)["logger"]["url"] == (
        f"http://{service.inputs['metadata']['name']}.{namespace}.svc.cluster.local:8080/"
    )
    deployment = named(stack, "Deployment", "churn-platform-prod-k8s-drift")
    (container,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    # platform.yaml: drift on tenure_months, monthly_charges, contract_type above 0.2, hourly
    assert env["FEATURES"] == '["tenure_months", "monthly_charges", "contract_type"]'
    assert (env["THRESHOLD"], env["EVALUATION_SECONDS"]) == ("0.2", "3600")
    assert env["DRIFT_METRIC"] == "model_feature_drift_score"  # what EndpointFeatureDrift selects
    assert (env["RETRAIN"], env["TRIGGER_KIND"], env["TRIGGER_NAME"]) == (
        "true",
        "workflowtemplate",
        "churn-platform-prod-k8s-training",  # the WorkflowTemplate the drift alert names
    )
    (role,) = [r for r in by_kind(stack, "Role") if r.name == "k8s-drift-role"]
    assert role.inputs["rules"][0] == {"apiGroups": ["argoproj.io"], "resources": ["workflows"], "verbs": ["create"]}
    monitor = named(stack, "ServiceMonitor", "churn-platform-prod-k8s-drift")
    assert monitor.inputs["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_an_explicit_capture_sink_wins_over_the_detector() -> None:
    sink = "https://capture.acme.example/kserve"
    stack = realize(churn_spec(**{"k8s.capture_sink_url": sink}))
    (isvc,) = stack.by_type(ISVC)
    assert isvc.inputs["spec"]["predictor"]["logger"]["url"] == sink
    assert [r.name for r in stack.resources if r.type == "mlops-infra:k8s:DriftDetector"] == ["k8s-drift"]


def test_alerts_in_spec_units_and_drift_only_when_monitoring(stack: CapturedStack) -> None:
    (rule,) = [r for r in stack.by_type(RULE) if r.name == "k8s-scoring-monitoring-rules"]
    rules = {r["alert"]: r for r in rule.inputs["spec"]["groups"][0]["rules"]}
    # platform.yaml: error_rate_percent 1, p95_latency_ms 300; PromQL compares in Prometheus' base units
    assert rules["EndpointHighErrorRate"]["expr"].endswith(" > 0.01")  # 1 % as a ratio of requests
    assert rules["EndpointHighErrorRate"]["annotations"]["summary"].endswith("above 1%")
    assert rules["EndpointHighP95Latency"]["expr"].endswith(" * 0.001 > 0.3")  # ms histogram -> 300 ms in s
    assert "histogram_quantile(0.95," in rules["EndpointHighP95Latency"]["expr"]
    assert rules["EndpointHighErrorRate"]["for"] == "120s"  # 60 s x 2 datapoints
    if prod(stack):
        drift = rules["EndpointFeatureDrift"]
        assert drift["expr"].endswith(" > 0.2")
        assert drift["annotations"]["retrain_trigger"] == "workflowtemplate/churn-platform-prod-k8s-training"
        assert drift["labels"]["retrain"] == "true"
    else:
        assert "EndpointFeatureDrift" not in rules  # monitoring is off in dev
    assert rule.inputs["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    namespace = stack.outputs["platform"]["k8s"]["namespace"]
    assert {r["labels"]["namespace"] for r in rules.values()} == {namespace}  # routable by AlertRouting


def test_budget_thresholds_become_quota_use_alerts(stack: CapturedStack) -> None:
    (rule,) = [r for r in by_kind(stack, "PrometheusRule") if r.name == "k8s-quota-alerts-rules"]
    rules = rule.inputs["spec"]["groups"][0]["rules"]
    assert [r["labels"]["threshold_percent"] for r in rules] == [
        "80",
        "90",
        "100",
    ]  # BudgetSpec default alert_at_percent
    assert all("kube_resourcequota" in r["expr"] for r in rules)


def test_monthly_budget_is_watched_from_opencost_spend_forecast(stack: CapturedStack) -> None:
    (rule,) = [r for r in by_kind(stack, "PrometheusRule") if r.name == "k8s-budget-rules"]
    rules = rule.inputs["spec"]["groups"][0]["rules"]
    limit = 12000 if prod(stack) else 1500  # platform.yaml, and the prod stack's override
    spend = [r for r in rules if r["alert"] == "NamespaceSpendBudget"]
    assert [r["expr"].rsplit(" > ", 1)[1] for r in spend] == [f"{limit * 0.8:g}", f"{limit * 0.9:g}", f"{limit:g}"]
    assert [r["labels"]["severity"] for r in spend] == ["warning", "warning", "critical"]
    namespace = stack.outputs["platform"]["k8s"]["namespace"]
    for r in spend:
        # CPU, memory and GPU allocation priced by OpenCost, over a 730-hour month, in this namespace only.
        assert r["expr"].count(f'{{namespace="{namespace}"}}') == 3
        assert "node_cpu_hourly_cost" in r["expr"] and "node_ram_hourly_cost" in r["expr"]
        assert ") * 730 > " in r["expr"]
    (unwatched,) = [r for r in rules if r["alert"] == "SpendBudgetUnwatched"]
    assert unwatched["expr"] == "absent(node_cpu_hourly_cost)"
    assert stack.outputs["platform"]["k8s"]["budgetName"] == rule.inputs["metadata"]["name"]


def test_alerts_reach_the_spec_recipients_by_severity(stack: CapturedStack) -> None:
    (config,) = by_kind(stack, "AlertmanagerConfig")
    spec = config.inputs["spec"]
    receivers = {r["name"]: r for r in spec["receivers"]}
    emails = [c["to"] for c in receivers["email"]["emailConfigs"]]
    expected = ["ml-platform@example.com", "ml-oncall@example.com"] if prod(stack) else ["ml-platform@example.com"]
    assert emails == expected
    namespace = stack.outputs["platform"]["k8s"]["namespace"]
    assert spec["route"]["matchers"] == [{"name": "namespace", "value": namespace, "matchType": "="}]
    routes = [(r["matchers"][0]["value"], r["receiver"]) for r in spec["route"]["routes"]]
    if prod(stack):
        assert routes == [("critical", "pagerduty"), ("critical", "email"), ("warning", "slack"), ("warning", "email")]
        secret = named(stack, "Secret", f"{config.inputs['metadata']['name']}-receivers")
        assert secret.inputs["stringData"] == "[secret]"
        key = receivers["pagerduty"]["pagerdutyConfigs"][0]["routingKey"]
        assert key == {"name": secret.inputs["metadata"]["name"], "key": "pagerduty-routing-key"}
        assert receivers["slack"]["slackConfigs"][0]["channel"] == "#ml-alerts"
    else:
        assert routes == [("critical", "email"), ("warning", "email")]
    assert config.inputs["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_every_prometheus_alert_has_a_severity_its_namespace_routes(stack: CapturedStack) -> None:
    (config,) = by_kind(stack, "AlertmanagerConfig")
    namespace = config.inputs["metadata"]["namespace"]
    routed = {r["matchers"][0]["value"] for r in config.inputs["spec"]["route"]["routes"]}
    for rule in by_kind(stack, "PrometheusRule"):
        assert rule.inputs["metadata"]["namespace"] == namespace
        for group in rule.inputs["spec"]["groups"]:
            for alert in group["rules"]:
                assert alert["labels"]["severity"] in routed, alert["alert"]
                assert alert["labels"]["namespace"] == namespace, alert["alert"]


def test_feature_store_from_spec(stack: CapturedStack) -> None:
    repo = next(c for c in by_kind(stack, "ConfigMap") if "features.py" in c.inputs["data"])
    definitions = repo.inputs["data"]["features.py"]
    assert 'Entity(name="customer_id", join_keys=["customer_id"]' in definitions
    assert 'Field(name="tenure_months", dtype=Int64)' in definitions
    assert 'Field(name="monthly_charges", dtype=Float64)' in definitions
    assert 'Field(name="contract_type", dtype=String)' in definitions
    assert 'name="event_time"' not in definitions.split("schema=")[1].split("]")[0]  # key/time are not features
    assert "ttl=timedelta(days=365)" in definitions
    env = "prod" if prod(stack) else "dev"
    assert f"s3://acme-churn-{env}/feast/offline/customer_profile/" in definitions


def test_stateful_data_is_protected_in_prod_only(stack: CapturedStack) -> None:
    claims = by_kind(stack, "PersistentVolumeClaim")
    # data_uri is set: only the databases have claims
    assert sorted(c.name for c in claims) == ["k8s-features-redis-data", "k8s-registry-postgres-data"]
    assert all(c.protect and c.retain_on_delete for c in claims) == prod(stack)
    # the namespace holding them too: deleting it would delete the claims inside
    (namespace,) = by_kind(stack, "Namespace")
    assert (namespace.protect, namespace.retain_on_delete) == (prod(stack), prod(stack))


def test_every_claim_uses_the_encrypted_storage_class_in_prod(stack: CapturedStack) -> None:
    claims = by_kind(stack, "PersistentVolumeClaim")
    if not prod(stack):  # dev: the cluster's default class
        assert by_kind(stack, "StorageClass") == []
        assert all("storageClassName" not in c.inputs["spec"] for c in claims)
        return
    (storage_class,) = by_kind(stack, "StorageClass")
    assert storage_class.inputs["provisioner"] == "ebs.csi.aws.com"
    assert storage_class.inputs["parameters"] == {
        "type": "gp3",
        "encrypted": "true",
        "kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/0f2d9c1e-5b7a-4e3c-9d8f-6a1b2c3d4e5f",
    }
    assert storage_class.inputs["reclaimPolicy"] == "Retain"
    assert storage_class.inputs["volumeBindingMode"] == "WaitForFirstConsumer"
    name = storage_class.inputs["metadata"]["name"]
    assert name == "churn-platform-prod-k8s-storage"
    assert claims and all(c.inputs["spec"]["storageClassName"] == name for c in claims)


def test_pvcs_without_data_uri_all_use_the_class() -> None:
    stack = realize(churn_spec())  # no data_uri: Feast registry, offline store and MLflow artifacts on PVCs too
    claims = by_kind(stack, "PersistentVolumeClaim")
    assert len(claims) == 5
    assert {c.inputs["spec"]["storageClassName"] for c in claims} == {"churn-prod-k8s-storage"}
    (storage_class,) = by_kind(stack, "StorageClass")
    for component in ("k8s-features", "k8s-registry"):  # the claims' components wait for the class
        (resource,) = [r for r in stack.resources if r.name == component]
        assert storage_class.urn in resource.dependencies


@pytest.mark.parametrize("environment", ["prod", "staging"])
def test_protected_environment_refuses_no_storage_class(environment: str) -> None:
    spec = churn_spec()
    del spec["k8s"]["storage"]
    message = refused(spec, environment)
    assert "k8s.storage" in message and "encrypted StorageClass" in message


def test_an_existing_class_is_named_by_every_claim_and_nothing_is_created() -> None:
    stack = realize(churn_spec(**{"k8s.storage": {"existing_class": "ebs-cmk"}}))
    assert by_kind(stack, "StorageClass") == []
    claims = by_kind(stack, "PersistentVolumeClaim")
    assert claims and {c.inputs["spec"]["storageClassName"] for c in claims} == {"ebs-cmk"}


@pytest.mark.parametrize(
    ("storage", "words"),
    [
        ({"provisioner": "aws-ebs"}, "needs kms_key"),
        (
            {
                "provisioner": "gce-pd",
                "kms_key": "arn:aws:kms:us-east-1:123456789012:key/0f2d9c1e-5b7a-4e3c-9d8f-6a1b2c3d4e5f",
            },
            "must be a Cloud KMS key name",
        ),
        ({"provisioner": "aws-ebs", "kms_key": "alias/aws/ebs"}, "not a customer-managed key"),
        ({"existing_class": "ebs-cmk", "provisioner": "aws-ebs"}, "exactly one"),
    ],
)
def test_bad_storage_is_refused_by_field(storage: dict[str, str], words: str) -> None:
    message = refused(churn_spec(**{"k8s.storage": storage}))
    assert "k8s.storage" in message and words in message


def test_outputs_are_camel_case(stack: CapturedStack) -> None:
    outputs = stack.outputs["platform"]["k8s"]
    env = "prod" if prod(stack) else "dev"
    assert outputs["namespace"] == f"churn-platform-{env}-churn-ml"
    assert outputs["featureStore"] == "churn"
    assert outputs["pipelineName"] == f"churn-platform-{env}-k8s-training"
    assert outputs["registryName"] == "churn"
    assert outputs["endpointNames"] == {"scoring": f"churn-platform-{env}-k8s-scoring"}


def test_prod_returns_an_audit_policy_for_the_namespace_and_dev_none(stack: CapturedStack) -> None:
    policy = stack.outputs["platform"]["k8s"]["auditPolicy"]
    if not prod(stack):
        assert policy is None
        return
    document = yaml.safe_load(policy)
    assert (document["apiVersion"], document["kind"]) == ("audit.k8s.io/v1", "Policy")
    assert {tuple(rule["namespaces"]) for rule in document["rules"]} == {("churn-platform-prod-churn-ml",)}


# --- check: refused before anything is registered, naming the spec field ---------------------------


def churn_spec(**changes: Any) -> dict[str, Any]:
    spec = yaml.safe_load((ROOT / "stacks" / "platform" / "platform.yaml").read_text())
    spec = copy.deepcopy(spec) | {"clouds": ["k8s"], "k8s": dict(K8S)}
    for path, value in changes.items():
        node = spec
        *parents, last = path.split(".")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        node[last] = value
    return spec


def realize(spec: dict[str, Any], environment: str = "prod", config: dict[str, Any] | None = None) -> CapturedStack:
    return plan(lambda: MlPlatform("churn", spec), environment=environment, config={**SECRETS, **(config or {})})


def refused(spec: dict[str, Any], environment: str = "prod", config: dict[str, Any] | None = None) -> str:
    with pytest.raises(ProgramError) as error:
        realize(spec, environment, config)
    assert error.value.registered == []
    return str(error.value)


def test_relative_artifact_needs_model_store() -> None:
    spec = churn_spec()
    del spec["k8s"]["model_store_uri"]
    assert "k8s.model_store_uri: endpoint 'scoring' has the relative artifact" in refused(spec)
    # an absolute artifact needs no store
    spec["endpoints"][0]["model"]["artifact"] = "gs://acme-models/churn/v7/model.tar.gz"
    (isvc,) = realize(spec).by_type(ISVC)
    assert isvc.inputs["spec"]["predictor"]["model"]["storageUri"] == "gs://acme-models/churn/v7/model.tar.gz"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"k8s.oidc_issuer_url": None}, "k8s.oidc_issuer_url: MLflow's login needs"),
        ({"k8s.quota": {"gpus": 0}, "training.compute": {"size": "gpu-small"}}, "k8s.quota.gpus: 0 GPUs cannot"),
        ({"k8s.quota": {"requests_cpu": "64"}}, "k8s.quota: requests_cpu exceeds limits_cpu"),
        ({"endpoints.0.rollout": {"strategy": "blue_green"}}, "endpoints.0.rollout.strategy: KServe has no blue/green"),
        ({"endpoints.0.scaling": {"max_replicas": 500}}, "endpoints.0.scaling.max_replicas: KServe realizes at most"),
        ({"endpoints.0.model.format": "custom"}, "endpoints.0.model.format: KServe picks the server"),
        (
            {"endpoints.0.rollout": {"strategy": "canary", "canary_percent": 12.5}},
            "endpoints.0.rollout.canary_percent: KServe splits traffic in whole percent, not 12.5",
        ),
        ({"endpoints.0.name": "training"}, "endpoints.0.name: 'training' is the name of a platform part"),
        (
            {"endpoints.0.compute": {"resources": {"cpu": "32", "memory": "8Gi"}}},
            "endpoints.0.compute.resources.cpu: above the namespace's 16 CPU limit",
        ),
        (
            {"endpoints.0.data_capture": {"destination_uri": "s3://acme-capture/churn"}},
            "endpoints.0.data_capture.destination_uri: KServe's logger posts to an http(s) sink",
        ),
        ({"training.image": {"image": None, "per_cloud": {"aws": "a/b:1.0"}}}, "training.image.per_cloud.k8s"),
        ({"access": {"analysts": ["churn-analysts"]}}, "access.ml_engineers: MLflow admits identity-provider groups"),
    ],
)
def test_check_names_the_field(changes: dict[str, Any], message: str) -> None:
    assert message in refused(churn_spec(**changes))


def test_missing_secret_config_is_named() -> None:
    with pytest.raises(ProgramError, match=r"churn:cookieSecret: secret is not set") as error:
        without = {key: value for key, value in SECRETS.items() if key != "cookieSecret"}
        plan(lambda: MlPlatform("churn", churn_spec()), environment="dev", config=without)
    assert error.value.registered == []


def test_a_protected_environment_needs_an_alert_receiver() -> None:
    message = refused(churn_spec(alerts={}), environment="prod")
    assert "alerts: prod is a protected environment: its alerts must reach a person" in message
    stack = realize(churn_spec(alerts={}), environment="dev")  # dev may stay quiet
    assert by_kind(stack, "AlertmanagerConfig") == []


def test_missing_receiver_secret_config_is_named() -> None:
    spec = churn_spec(alerts={"pagerduty": {"integration_key_secret": "pdKey"}})
    assert "churn:pdKey: secret is not set: pulumi config set --secret pdKey" in refused(spec)
    stack = realize(spec, config={"pdKey": "routing-key"})
    (config,) = by_kind(stack, "AlertmanagerConfig")
    assert [r["name"] for r in config.inputs["spec"]["receivers"]] == ["pagerduty"]
    assert config.inputs["spec"]["route"]["receiver"] == "pagerduty"


def test_gpu_training_and_quota_follow_the_size_class() -> None:
    stack = realize(churn_spec(**{"training.compute": {"size": "gpu-small"}}), environment="dev")
    quotas = {r.name: r for r in stack.custom_resources() if r.type.endswith(":ResourceQuota")}
    assert quotas["k8s-team-quota"].inputs["spec"]["hard"]["requests.nvidia.com/gpu"] == "1"
    # the spend budget's cap admits the GPU too: its share of the budget buys one whole GPU
    assert quotas["k8s-budget-quota"].inputs["spec"]["hard"]["requests.nvidia.com/gpu"] == "1"
    (cron,) = [r for r in stack.custom_resources() if r.name == "k8s-training-schedule"]
    pod = cron.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["containers"][0]["resources"]["limits"] == {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_explicit_sections_win_over_environment_defaults() -> None:
    spec = churn_spec(
        **{
            "endpoints.0.rollout": {"strategy": "linear", "step_percent": 20},
            "endpoints.0.scaling": {
                "min_replicas": 1,
                "max_replicas": 6,
                "target": {"metric": "concurrency", "value": 8},
            },
            "endpoints.0.data_capture": {"capture_response": False},
            "endpoints.0.allow_public_access": True,
            "training.schedule": None,
        }
    )
    stack = realize(spec, environment="dev")
    (isvc,) = stack.by_type(ISVC)
    p = isvc.inputs["spec"]["predictor"]
    assert p["canaryTrafficPercent"] == 20  # linear: the first step
    assert (p["minReplicas"], p["maxReplicas"], p["scaleMetric"], p["scaleTarget"]) == (1, 6, "concurrency", 8)
    assert p["logger"]["mode"] == "request"
    assert "networking.kserve.io/visibility" not in isvc.inputs["metadata"]["labels"]
    (cron,) = [r for r in stack.custom_resources() if r.name == "k8s-training-schedule"]
    assert cron.inputs["spec"]["suspend"] is True  # no schedule: on demand only


def test_a_model_store_from_another_resource_resolves_relative_artifacts() -> None:
    def program() -> None:
        bucket = aws.s3.BucketV2("models", bucket="acme-churn-models")
        spec = churn_spec()
        spec["k8s"]["model_store_uri"] = bucket.bucket.apply(lambda name: f"s3://{name}/models/")
        MlPlatform("churn", spec)

    stack = plan(program, environment="prod", config=SECRETS)
    (isvc,) = stack.by_type(ISVC)
    storage = isvc.inputs["spec"]["predictor"]["model"]["storageUri"]
    assert storage == "s3://acme-churn-models/models/churn/champion/model.tar.gz"


def test_canary_guards_read_the_prometheus_the_spec_names() -> None:
    spec = churn_spec()
    spec["k8s"]["prometheus_url"] = "http://prometheus.observability.svc:9090"
    stack = realize(spec, environment="prod")
    (cronjob,) = [
        r
        for r in stack.custom_resources()
        if r.name.startswith("k8s-scoring-canary-guard") and r.type == "kubernetes:batch/v1:CronJob"
    ]
    env = {
        e["name"]: e.get("value")
        for c in cronjob.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        for e in c.get("env", [])
    }
    assert env["PROMETHEUS_URL"] == "http://prometheus.observability.svc:9090"


# --- Feast materialization: the online store filled from the offline store on the spec's schedule --------


def test_prod_materializes_the_online_store_incrementally_on_the_schedule(stack: CapturedStack) -> None:
    jobs = [j for j in by_kind(stack, "CronJob") if j.name == "k8s-features-materialize"]
    if not prod(stack):  # k8s-dev sets no feature_store.materialization
        assert jobs == []
        return
    (job,) = jobs
    spec = job.inputs["spec"]
    assert (spec["schedule"], spec["timeZone"]) == ("15 * * * *", "UTC")  # Pulumi.k8s-prod.yaml
    assert spec["concurrencyPolicy"] == "Forbid"
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"][:2] == ["/bin/sh", "-c"]
    assert "feast --chdir /feast/repo materialize-incremental" in container["command"][2]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["restartPolicy"] == "Never"
    assert {
        "name": "REDIS_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "churn-platform-prod-k8s-features-redis-auth", "key": "password"}},
    } in container["env"]
    labels = spec["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == "feature-materialize"
    # its pods may reach Redis (both directions of the connection), like the apply job
    for policy, path in (("redis-in", ("ingress", "from")), ("redis-out", ("podSelector",))):
        spec = named(stack, "NetworkPolicy", f"churn-platform-prod-k8s-features-{policy}").inputs["spec"]
        selector = spec[path[0]][0][path[1]][0]["podSelector"] if len(path) == 2 else spec[path[0]]
        (expression,) = selector["matchExpressions"]
        assert "feature-materialize" in expression["values"]


def test_materialization_is_refused_on_aws_naming_the_field() -> None:
    from mlops_infra.spec.cloud import Cloud
    from mlops_infra.spec.platform import PlatformSpec
    from mlops_infra.spec.support import refuse_unrealized

    spec = PlatformSpec.model_validate(
        churn_spec(**{"feature_store.materialization": {"cron": "0 * * * *"}}) | {"clouds": ["aws"]}
    )
    with pytest.raises(ValueError, match=r"feature_store\.materialization") as error:
        refuse_unrealized(spec, Cloud.AWS)
    assert "writes the online and the offline store at ingestion" in str(error.value)
    refuse_unrealized(spec, Cloud.K8S)  # realized
    refuse_unrealized(spec, Cloud.GCP)


def test_redis_and_postgres_serve_tls_from_the_namespace_ca(stack: CapturedStack) -> None:
    namespace = stack.outputs["platform"]["k8s"]["namespace"]
    ca = f"{namespace}-ca"
    assert named(stack, "Issuer", f"{ca}-root").inputs["spec"] == {"selfSigned": {}}
    assert named(stack, "Issuer", ca).inputs["spec"] == {"ca": {"secretName": ca}}
    servers = [c for c in by_kind(stack, "Certificate") if not c.inputs["spec"].get("isCA")]
    assert sorted(c.inputs["spec"]["dnsNames"][0] for c in servers) == [
        f"churn-platform-{'prod' if prod(stack) else 'dev'}-k8s-features-redis",
        f"churn-platform-{'prod' if prod(stack) else 'dev'}-k8s-registry-db",
    ]
    for certificate in servers:
        assert certificate.inputs["spec"]["issuerRef"] == {"name": ca, "kind": "Issuer", "group": "cert-manager.io"}
        assert certificate.inputs["spec"]["privateKey"]["rotationPolicy"] == "Always"
    redis, postgres = (
        r.inputs["spec"]["template"]["spec"]["containers"][0]
        for r in by_kind(stack, "StatefulSet")
        if r.inputs["metadata"]["name"].endswith(("-redis", "-db"))
    )
    assert redis["args"][2:6] == ["--port", "0", "--tls-port", "6379"]
    assert "ssl=on" in postgres["args"]


def test_a_cluster_issuer_signs_instead_of_a_namespace_ca() -> None:
    stack = realize(churn_spec(**{"k8s.cluster_issuer": "corp-pki"}))
    assert by_kind(stack, "Issuer") == []
    certificates = by_kind(stack, "Certificate")
    assert len(certificates) == 2
    assert {c.inputs["spec"]["issuerRef"]["kind"] for c in certificates} == {"ClusterIssuer"}


@pytest.mark.parametrize("environment", ["prod", "staging"])
def test_protected_environment_refuses_plaintext_datastores(environment: str) -> None:
    message = refused(churn_spec(**{"k8s.in_cluster_tls": False}), environment)
    assert "k8s.in_cluster_tls" in message and "TLS only" in message


def test_dev_may_turn_tls_off_explicitly_and_the_policy_says_so() -> None:
    stack = realize(churn_spec(**{"k8s.in_cluster_tls": False}), "dev")
    assert by_kind(stack, "Certificate") == [] and by_kind(stack, "Issuer") == []
    violations = [v for v in evaluate_stack(stack, PolicyConfig()) if v.policy_id == "encryption-in-transit"]
    assert {v.enforcement for v in violations} == {Enforcement.ADVISORY}
    assert any("(Redis)" in v.message for v in violations) and any("(PostgreSQL)" in v.message for v in violations)


def test_cluster_issuer_without_tls_is_refused_by_field() -> None:
    message = refused(churn_spec(**{"k8s.in_cluster_tls": False, "k8s.cluster_issuer": "corp-pki"}), "dev")
    assert "k8s" in message and "needs in_cluster_tls: true" in message
