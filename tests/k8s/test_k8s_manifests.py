"""Every core object the K8s components and the k8s-kserve stack render passes the official
Kubernetes schemas (kubernetes-validate, strict: unknown fields are errors) for 1.30 to 1.33,
and every custom resource passes its CRD schema (sources in k8s_checks.CRD_SOURCES)."""

import time

import kubernetes_validate
import pytest
from k8s_checks import (
    CRD_SOURCES,
    KUBERNETES_VERSIONS,
    core_objects,
    custom_problems,
    manifest,
    validate_core,
    validate_custom,
)
from k8s_samples import endpoint_args, feature_store_args, model_registry_args, training_args
from kubernetes_validate.utils import all_versions

from mlops_infra.engine import run_program
from mlops_infra.k8s import Endpoint, FeatureStore, ModelRegistry, Monitoring, Tenancy, TrainingPipeline
from mlops_infra.testing import plan


def _everything() -> None:
    Tenancy("team", {"team": "churn-ml", "quota": {"gpus": 2}, "service_accounts": ["notebooks"]})
    FeatureStore("features", feature_store_args(registry={"pvc_size": "5Gi"}, offline_store={"pvc_size": "50Gi"}))
    ModelRegistry("registry", model_registry_args())
    ModelRegistry(
        "registry-ext",
        model_registry_args(
            postgres_password=None,
            external_database_url="postgresql://db.example:5432/mlflow",
            internal_clients=[],
            artifact_store={"pvc_size": "20Gi", "storage_class": "standard-rwo"},
        ),
    )
    TrainingPipeline("training", training_args())
    TrainingPipeline("training-argo", training_args(argo_enabled=True))
    Endpoint("churn", endpoint_args())
    Endpoint(
        "churn-raw",
        endpoint_args(
            deployment_mode="RawDeployment",
            canary_percent=None,
            scale_metric="cpu",
            scale_target=70,
            resources={"gpus": 1},
        ),
    )
    Monitoring("mon", {"namespace": "churn-ns", "endpoint_name": "churn-prod-churn", "retrain_trigger": "cronjob/x"})


@pytest.fixture(scope="module")
def components_prod():
    return plan(_everything, environment="prod")


@pytest.fixture(scope="module")
def stack_prod():
    return run_program("stacks/k8s-kserve", "prod", [])


@pytest.fixture(scope="module")
def stack_dev():
    return run_program("stacks/k8s-kserve", "dev", [])


def test_installed_kubernetes_validate_ships_the_versions_we_check():
    shipped = {".".join(v.split(".")[:2]) for v in all_versions()}
    assert {"1.30", "1.31", "1.32", "1.33"} <= shipped


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_component_core_object_is_valid(components_prod, version):
    kinds = {r.type.split(":")[-1] for r in core_objects(components_prod)}
    # The sample covers every core kind the components can render.
    assert {
        "Namespace",
        "ResourceQuota",
        "LimitRange",
        "NetworkPolicy",
        "Role",
        "RoleBinding",
        "ServiceAccount",
        "Secret",
        "ConfigMap",
        "PersistentVolumeClaim",
        "Service",
        "StatefulSet",
        "Deployment",
        "Job",
        "CronJob",
        "PodDisruptionBudget",
    } <= kinds
    assert validate_core(components_prod, version) == []


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_stack_core_objects_are_valid(stack_prod, stack_dev, version):
    assert validate_core(stack_prod, version) == []
    assert validate_core(stack_dev, version) == []


def test_validation_is_strict_and_can_fail(components_prod):
    deployment = next(r for r in components_prod.resources if r.type == "kubernetes:apps/v1:Deployment")
    broken = manifest(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNonroot"] = True  # typo
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.33.0", strict=True)
    broken = manifest(deployment)
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.33.0", strict=True)


def test_custom_resources_match_their_crd_schemas(components_prod, stack_prod, stack_dev):
    kinds = {r.type.split(":")[-1] for s in (components_prod, stack_prod) for r in s.resources}
    assert {
        "InferenceService",
        "CronWorkflow",
        "WorkflowTemplate",
        "ServiceMonitor",
        "PrometheusRule",
        "Issuer",
        "Certificate",
    } <= kinds
    assert set(CRD_SOURCES) == {
        "InferenceService",
        "CronWorkflow",
        "WorkflowTemplate",
        "ServiceMonitor",
        "PrometheusRule",
        "AlertmanagerConfig",  # hand-written subset; the realized platform (stacks/platform k8s-*) has one
        "HTTPRoute",  # challenger routers: tests/platform/test_k8s_serving_modes.py
        "VirtualService",
        # Kubeflow Pipelines training (training.orchestrator kubeflow): tests/k8s/test_k8s_kubeflow_training.py
        "Pipeline",
        "PipelineVersion",
        "ScheduledWorkflow",
        "KnativeServing",  # cluster prerequisites: tests/platform/test_k8s_prerequisites.py
        "Issuer",  # cert-manager: the namespace CA (self-signed root -> CA Issuer)
        "Certificate",  # cert-manager: the CA and the Redis / PostgreSQL server certificates
        "Model",  # Seldon Core v2 (k8s.serving_backend seldon): tests/k8s/test_k8s_seldon.py
        "Server",
        "Experiment",
    }
    for stack in (components_prod, stack_prod, stack_dev):
        assert validate_custom(stack) == []


@pytest.mark.parametrize(
    ("kind", "path", "value"),
    [
        ("InferenceService", ("spec", "predictor", "canaryTrafficPercent"), "ten"),
        ("InferenceService", ("spec", "predictor", "scaleMetric"), "latency"),
        ("InferenceService", ("spec", "predictor", "minReplica"), 1),
        ("InferenceService", ("spec", "predictor", "logger", "mode"), "everything"),
        ("PrometheusRule", ("spec", "groups", 0, "rules", 0, "for"), "ten minutes"),
        ("ServiceMonitor", ("spec", "endpoints", 0, "scheme"), "ftp"),
        ("CronWorkflow", ("spec", "schedule"), "0 3 * * *"),
        ("CronWorkflow", ("spec", "concurrencyPolicy"), {"not": "a string"}),
        ("WorkflowTemplate", ("spec", "templates", 0, "container", "imagePullPolcy"), "Always"),
        ("Certificate", ("spec", "privateKey", "rotationPolicy"), "Sometimes"),
        ("Certificate", ("spec", "privateKey", "algorithm"), "DSA"),
        ("Certificate", ("spec", "dnsNames"), "redis"),
        ("Certificate", ("spec", "issuerRef", "nmae"), "ca"),
        ("Issuer", ("spec", "acme"), "letsencrypt"),
        ("Issuer", ("spec", "selfsigned"), {}),
    ],
)
def test_crd_checks_reject_wrong_fields(components_prod, kind, path, value):
    resource = next(r for r in components_prod.resources if r.type.endswith(f":{kind}"))
    data = manifest(resource)
    assert custom_problems(data) == []
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert custom_problems(data) != []


def test_validation_speed_per_document(stack_prod):
    objects = core_objects(stack_prod)
    started = time.perf_counter()
    for resource in objects:
        kubernetes_validate.validate(manifest(resource), "1.33.0", strict=True)
    per_document_ms = (time.perf_counter() - started) * 1000 / len(objects)
    print(f"kubernetes-validate: {len(objects)} documents, {per_document_ms:.1f} ms each")
    assert per_document_ms < 500
