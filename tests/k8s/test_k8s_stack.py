"""Acceptance of stacks/k8s-kserve: the whole churn platform in a team namespace (offline plan)."""

import json

import pytest
from k8s_checks import (
    hardening_problems,
    pod_specs,
    rendered_pod_count,
    secret_leaks,
    stack_hardening_problems,
    validate_core,
    validate_custom,
)

from mlops_infra.engine import run_program
from mlops_infra.testing import required_tags_present

REQUIRED_KINDS = (
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:ResourceQuota",
    "kubernetes:core/v1:LimitRange",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "kubernetes:rbac.authorization.k8s.io/v1:Role",
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    "kubernetes:serving.kserve.io/v1beta1:InferenceService",
    "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
)


@pytest.fixture(scope="module", params=["prod", "dev"])
def stack(request):
    return run_program("stacks/k8s-kserve", request.param, [])


def test_plan_has_the_platform(stack):
    for kind in REQUIRED_KINDS:
        assert stack.by_type(kind), kind
    components = {r.type for r in stack.resources if not r.custom}
    assert {
        "mlops-infra:k8s:Tenancy",
        "mlops-infra:k8s:FeatureStore",
        "mlops-infra:k8s:ModelRegistry",
        "mlops-infra:k8s:TrainingPipeline",
        "mlops-infra:k8s:Endpoint",
        "mlops-infra:k8s:Monitoring",
    } <= components
    namespace = stack.by_type("kubernetes:core/v1:Namespace")[0].inputs["metadata"]["name"]
    assert stack.project == "churn-k8s"  # distinct from stacks/aws-sagemaker (churn): never the same Pulumi stack
    assert namespace == f"churn-k8s-{stack.stack}-churn-ml"
    for resource in stack.custom_resources():
        meta = resource.inputs["metadata"]
        assert meta["name"], resource.urn  # never auto-named
        if resource.type not in ("kubernetes:core/v1:Namespace", "kubernetes:storage.k8s.io/v1:StorageClass"):
            assert meta["namespace"] == namespace, resource.urn
    json.dumps(stack.to_json())  # the plan document serialises


def test_every_object_carries_the_four_labels(stack):
    assert required_tags_present(stack) == []
    for resource in stack.custom_resources():
        labels = resource.inputs["metadata"]["labels"]
        assert labels["environment"] == stack.stack and labels["cost-center"] == "cc-1234"


def test_pvcs_protected_in_prod_only(stack):
    claims = stack.by_type("kubernetes:core/v1:PersistentVolumeClaim")
    assert len(claims) == 2  # Redis and PostgreSQL data
    assert all(c.protect and c.retain_on_delete for c in claims) == (stack.stack == "prod")
    # ... and the namespace holding them (deleting a namespace deletes its claims)
    (namespace,) = stack.by_type("kubernetes:core/v1:Namespace")
    assert (namespace.protect, namespace.retain_on_delete) == (stack.stack == "prod",) * 2
    # prod: both claims on the stack's EBS class encrypted with volumeKmsKeyArn; dev: the cluster default
    classes = stack.by_type("kubernetes:storage.k8s.io/v1:StorageClass")
    if stack.stack == "prod":
        (storage_class,) = classes
        assert storage_class.inputs["parameters"]["encrypted"] == "true"
        assert storage_class.inputs["parameters"]["kmsKeyId"].startswith("arn:aws:kms:")
        name = storage_class.inputs["metadata"]["name"]
        assert {c.inputs["spec"]["storageClassName"] for c in claims} == {name}
    else:
        assert classes == [] and all("storageClassName" not in c.inputs["spec"] for c in claims)
    # The StatefulSets use those claims, not volumeClaimTemplates (which Pulumi could not protect).
    for sts in stack.by_type("kubernetes:apps/v1:StatefulSet"):
        assert "volumeClaimTemplates" not in sts.inputs["spec"]
        claim_names = [
            v["persistentVolumeClaim"]["claimName"]
            for v in sts.inputs["spec"]["template"]["spec"]["volumes"]
            if "persistentVolumeClaim" in v
        ]
        assert claim_names and set(claim_names) <= {c.inputs["metadata"]["name"] for c in claims}


def test_core_objects_pass_kubernetes_1_33_and_crds_their_schemas(stack):
    assert validate_core(stack, "1.33.0") == []
    assert validate_custom(stack) == []


def test_every_pod_spec_is_hardened(stack):
    assert rendered_pod_count(stack) >= 6  # redis, postgres, feature server, apply job, mlflow, training, predictor
    assert stack_hardening_problems(stack) == []


def test_hardening_check_catches_a_bad_pod(stack):
    deployment = stack.by_type("kubernetes:apps/v1:Deployment")[0]
    pod, containers, _ = pod_specs(deployment)[0]
    bad = json.loads(json.dumps(containers[0]))
    bad["securityContext"]["readOnlyRootFilesystem"] = False
    bad["image"] = "mlflow:latest"
    del bad["resources"]["limits"]
    problems = hardening_problems({**pod, "hostNetwork": True}, [bad], token_allowed=False)
    assert len(problems) >= 4


def test_secrets_are_secret_and_never_leak(stack):
    secrets = stack.by_type("kubernetes:core/v1:Secret")
    assert len(secrets) == (3 if stack.stack == "prod" else 2)  # prod: the alert receivers' keys
    assert all(s.inputs["stringData"] == "[secret]" for s in secrets)
    assert secret_leaks(stack) == []
    document = json.dumps(stack.to_json())
    assert "offline-secret-placeholder" not in document


def test_prod_rolls_out_gradually_and_dev_scales_to_zero(stack):
    predictor = stack.by_type("kubernetes:serving.kserve.io/v1beta1:InferenceService")[0].inputs["spec"]["predictor"]
    if stack.stack == "prod":
        assert predictor["canaryTrafficPercent"] == 10 and predictor["minReplicas"] == 2
        assert stack.by_type("kubernetes:policy/v1:PodDisruptionBudget")
        assert stack.by_type("kubernetes:argoproj.io/v1alpha1:CronWorkflow")
    else:
        assert "canaryTrafficPercent" not in predictor and predictor["minReplicas"] == 0
        assert not stack.by_type("kubernetes:policy/v1:PodDisruptionBudget")
        # Training on demand, the drift check, and Feast materialization (feature_store.materialization).
        assert len(stack.by_type("kubernetes:batch/v1:CronJob")) == 3
    assert predictor["logger"]["mode"] == "all"


def test_drift_alert_names_the_retraining_trigger(stack):
    (rule,) = [
        r
        for r in stack.by_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
        if any(g["name"].endswith(".rules") and "Endpoint" in str(g) for g in r.inputs["spec"]["groups"])
    ]
    rules = rule.inputs["spec"]["groups"][0]["rules"]
    drift = next(r for r in rules if r["alert"] == "EndpointFeatureDrift")
    assert drift["expr"].startswith("max(model_feature_drift_score{") and drift["expr"].endswith("> 0.25")
    assert drift["annotations"]["retrain_trigger"] == stack.outputs["retrain_trigger"]


def test_the_loop_closes_capture_to_drift_metric_to_retrain_to_page(stack):
    """Logger -> DriftDetector (capture sink) -> its metric in the drift alert -> training trigger; alerts routed."""
    namespace = stack.outputs["namespace"]
    (isvc,) = stack.by_type("kubernetes:serving.kserve.io/v1beta1:InferenceService")
    (service,) = [
        s for s in stack.by_type("kubernetes:core/v1:Service") if "DriftDetector" in s.urn and "drift" in s.name
    ]
    detector = service.inputs["metadata"]["name"]
    logger = isvc.inputs["spec"]["predictor"]["logger"]
    assert logger == {"url": f"http://{detector}.{namespace}.svc.cluster.local:8080/", "mode": "all"}
    (deployment,) = [
        d for d in stack.by_type("kubernetes:apps/v1:Deployment") if d.inputs["metadata"]["name"] == detector
    ]
    env = {e["name"]: e.get("value") for e in deployment.inputs["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["DRIFT_METRIC"] == "model_feature_drift_score"
    assert env["RETRAIN"] == "true"
    assert f"{env['TRIGGER_KIND']}/{env['TRIGGER_NAME']}" == stack.outputs["retrain_trigger"]
    # every alert of the namespace has a severity the AlertmanagerConfig routes to a receiver
    (config,) = stack.by_type("kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig")
    routed = {r["matchers"][0]["value"] for r in config.inputs["spec"]["route"]["routes"]}
    assert routed == {"critical", "warning"}
    for rule in stack.by_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule"):
        for group in rule.inputs["spec"]["groups"]:
            for alert in group["rules"]:
                assert alert["labels"]["severity"] in routed
                assert alert["labels"]["namespace"] == namespace
    receivers = {r["name"] for r in config.inputs["spec"]["receivers"]}
    guards = [r for r in stack.resources if r.type == "mlops-infra:k8s:CanaryGuard"]
    if stack.stack == "prod":
        assert receivers == {"pagerduty", "slack", "email"}
        assert len(guards) == 1  # the canary's metric-gated promotion and rollback
    else:
        assert receivers == {"email"} and guards == []


def _gpu_requests(containers: list[dict]) -> int:
    return sum(int((c.get("resources") or {}).get("requests", {}).get("nvidia.com/gpu", 0)) for c in containers)


def test_the_spend_budget_cap_admits_the_gpus_training_runs_on(stack):
    (cap,) = [r for r in stack.resources if r.type == "kubernetes:core/v1:ResourceQuota" and r.name == "spend-quota"]
    training_gpus = max(
        (
            _gpu_requests([template["container"]] if template.get("container") else [])
            for r in stack.resources
            if r.type.endswith(":WorkflowTemplate") or r.type.endswith(":CronWorkflow")
            for template in (
                (r.inputs.get("spec") or {}).get("templates")
                or ((r.inputs.get("spec") or {}).get("workflowSpec") or {}).get("templates")
                or []
            )
        ),
        default=0,
    )
    assert int(cap.inputs["spec"]["hard"]["requests.nvidia.com/gpu"]) >= training_gpus
    assert training_gpus == (1 if stack.stack == "prod" else 0)
