"""ModelRegistry (MLflow): tracking server, PostgreSQL or external DB, artifacts, oauth2-proxy, NetworkPolicies."""

import pydantic
import pytest
from k8s_checks import secret_leaks, stack_hardening_problems
from k8s_samples import PLAINTEXTS, model_registry_args

from mlops_infra.engine import ProgramError
from mlops_infra.k8s import ModelRegistry, ModelRegistryArgs
from mlops_infra.testing import one, plan, required_tags_present


@pytest.fixture(scope="module")
def stack():
    return plan(lambda: ModelRegistry("registry", model_registry_args()), environment="prod")


def _containers(stack):
    pod = one(stack, "kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"]
    return {c["name"]: c for c in pod["containers"]}


def test_mlflow_reads_backend_url_from_a_secret(stack):
    mlflow = _containers(stack)["mlflow"]
    assert mlflow["command"][:2] == ["mlflow", "server"]
    assert "--backend-store-uri" not in mlflow["command"]
    assert {
        "name": "MLFLOW_BACKEND_STORE_URI",
        "valueFrom": {"secretKeyRef": {"name": "churn-prod-registry-mlflow", "key": "backend-store-uri"}},
    } in mlflow["env"]
    destination = mlflow["command"][mlflow["command"].index("--artifacts-destination") + 1]
    assert destination == "s3://acme-churn/mlflow" and "--serve-artifacts" in mlflow["command"]


def test_secrets_are_secrets_and_never_leak(stack):
    secret = one(stack, "kubernetes:core/v1:Secret")
    assert secret.inputs["stringData"] == "[secret]"
    assert secret_leaks(stack) == []
    assert not any(p in str([r.inputs for r in stack.resources]) for p in PLAINTEXTS)
    postgres = one(stack, "kubernetes:apps/v1:StatefulSet").inputs["spec"]["template"]["spec"]["containers"][0]
    assert {
        "name": "POSTGRES_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "churn-prod-registry-mlflow", "key": "postgres-password"}},
    } in postgres["env"]


def test_oauth2_proxy_fronts_mlflow(stack):
    proxy = _containers(stack)["oauth2-proxy"]
    assert "--upstream=http://127.0.0.1:5000/" in proxy["args"]
    assert "--provider=oidc" in proxy["args"] and "--allowed-group=churn-ml-data-scientists" in proxy["args"]
    assert proxy["securityContext"]["runAsUser"] == 65532
    assert {e["name"] for e in proxy["env"]} == {"OAUTH2_PROXY_CLIENT_SECRET", "OAUTH2_PROXY_COOKIE_SECRET"}
    assert all("valueFrom" in e for e in proxy["env"])
    service = next(s for s in stack.by_type("kubernetes:core/v1:Service") if s.name == "registry-service")
    assert {p["name"]: p["targetPort"] for p in service.inputs["spec"]["ports"]} == {
        "http": "http",
        "tracking": "tracking",
    }


def test_postgres_on_a_protected_pvc(stack):
    claim = one(stack, "kubernetes:core/v1:PersistentVolumeClaim")
    assert claim.protect and claim.inputs["metadata"]["name"] == "churn-prod-registry-db-data"
    pod = one(stack, "kubernetes:apps/v1:StatefulSet").inputs["spec"]["template"]["spec"]
    mounts = {m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert {"/var/lib/postgresql/data", "/var/run/postgresql", "/tmp"} <= mounts
    assert stack_hardening_problems(stack) == []
    assert required_tags_present(stack) == []


def test_network_policies(stack):
    policies = {
        p.inputs["metadata"]["name"]: p.inputs["spec"]
        for p in stack.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    }
    proxy = policies["churn-prod-registry-proxy-in"]["ingress"][0]
    assert proxy["ports"] == [{"port": 4180, "protocol": "TCP"}]
    assert proxy["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]
    tracking = policies["churn-prod-registry-tracking-in"]
    assert tracking["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "training"
    db = policies["churn-prod-registry-db-in"]
    assert db["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "registry-database"
    assert db["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "model-registry"
    assert db["ingress"][0]["ports"] == [{"port": 5432, "protocol": "TCP"}]


def test_external_database_and_no_internal_clients():
    stack = plan(
        lambda: ModelRegistry(
            "registry",
            model_registry_args(
                postgres_password=None,
                external_database_url="postgresql://mlflow@db.example:5432/mlflow",
                internal_clients=[],
            ),
        )
    )
    assert not stack.by_type("kubernetes:apps/v1:StatefulSet")
    mlflow = _containers(stack)["mlflow"]
    assert mlflow["command"][mlflow["command"].index("--host") + 1] == "127.0.0.1"
    names = {p.inputs["metadata"]["name"] for p in stack.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")}
    assert names == {"churn-dev-registry-proxy-in", "churn-dev-registry-https"}
    assert "db.example" not in str([r.inputs for r in stack.resources])


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"auth": {**model_registry_args()["auth"], "oidc_issuer_url": "http://login.example"}}, "auth"),
        ({"external_database_url": "sqlite:///mlflow.db", "postgres_password": None}, "external_database_url"),
        ({"image": "ghcr.io/mlflow/mlflow"}, "image"),
        ({"artifact_store": {"uri": "ftp://x"}}, "artifact_store"),
    ],
)
def test_invalid_settings_name_the_field(overrides, field):
    with pytest.raises(pydantic.ValidationError) as info:
        ModelRegistryArgs.model_validate(model_registry_args(**overrides))
    assert info.value.errors()[0]["loc"][0] == field
    with pytest.raises(ProgramError, match=field):
        plan(lambda: ModelRegistry("registry", model_registry_args(**overrides)))


def test_exactly_one_backend():
    with pytest.raises(pydantic.ValidationError, match="exactly one of external_database_url and postgres_password"):
        ModelRegistryArgs.model_validate(model_registry_args(external_database_url="postgresql://db/x"))
