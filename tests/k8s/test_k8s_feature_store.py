"""FeatureStore (Feast): Redis with PVC and password, feature server, repo ConfigMap, feast-apply Job."""

import ast

import pydantic
import pytest
import yaml
from k8s_checks import secret_leaks, stack_hardening_problems
from k8s_samples import PLAINTEXTS, feature_store_args

from mlops_infra.engine import ProgramError
from mlops_infra.k8s import FeatureStore, FeatureStoreArgs
from mlops_infra.testing import one, plan, required_tags_present


@pytest.fixture(scope="module")
def stack():
    return plan(lambda: FeatureStore("features", feature_store_args()), environment="prod")


def test_redis_statefulset_with_protected_pvc_and_password_from_secret(stack):
    claim = one(stack, "kubernetes:core/v1:PersistentVolumeClaim")
    assert claim.protect and claim.retain_on_delete
    assert claim.inputs["spec"]["resources"]["requests"]["storage"] == "10Gi"
    sts = one(stack, "kubernetes:apps/v1:StatefulSet")
    pod = sts.inputs["spec"]["template"]["spec"]
    assert sts.inputs["spec"]["replicas"] == 1
    assert {"persistentVolumeClaim": {"claimName": "churn-prod-features-redis-data"}, "name": "data"} in pod["volumes"]
    config = next(v for v in pod["volumes"] if v["name"] == "config")
    assert config["secret"]["secretName"] == "churn-prod-features-redis-auth"
    assert pod["containers"][0]["args"][:2] == ["redis-server", "/etc/redis/redis.conf"]  # TLS: test_k8s_in_cluster_tls
    assert pod["securityContext"]["runAsUser"] == 999
    service = next(s for s in stack.by_type("kubernetes:core/v1:Service") if s.name == "features-redis-service")
    assert service.inputs["spec"]["clusterIP"] == "None" and service.inputs["spec"]["type"] == "ClusterIP"


def test_secrets_are_secrets_and_never_in_configmaps_args_or_env(stack):
    secret = one(stack, "kubernetes:core/v1:Secret")
    assert secret.inputs["stringData"] == "[secret]"
    assert secret_leaks(stack) == []
    text = str([r.inputs for r in stack.resources])
    assert not any(p in text for p in PLAINTEXTS)
    server = one(stack, "kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"]["containers"][0]
    assert {
        "name": "REDIS_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "churn-prod-features-redis-auth", "key": "password"}},
    } in server["env"]


def test_plain_string_password_is_still_stored_as_secret():
    stack = plan(lambda: FeatureStore("features", feature_store_args(redis_password=PLAINTEXTS[0])))
    assert one(stack, "kubernetes:core/v1:Secret").inputs["stringData"] == "[secret]"
    assert PLAINTEXTS[0] not in str([r.inputs for r in stack.resources])


def test_repo_configmap_has_placeholders_not_secrets(stack):
    data = one(stack, "kubernetes:core/v1:ConfigMap").inputs["data"]
    config = yaml.safe_load(data["feature_store.yaml"])
    assert config["online_store"] == {
        "type": "redis",
        "connection_string": "churn-prod-features-redis.churn-ns.svc.cluster.local:6379,ssl=true,"
        "ssl_ca_certs=/feast/redis-ca/ca.crt,ssl_cert_reqs=required,ssl_check_hostname=true,password=${REDIS_PASSWORD}",
    }
    assert config["registry"]["path"] == "s3://acme-churn/feast/registry.db"
    assert config["offline_store"] == {"type": "file"}
    tree = ast.parse(data["features.py"])
    names = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets}
    assert names == {"customer", "customer_profile_source", "customer_profile"}
    assert "s3://acme-churn/feast/offline/customer_profile/" in data["features.py"]
    assert 'Field(name="tenure_months", dtype=Int64)' in data["features.py"]


def test_feature_server_deployment_and_service(stack):
    deployment = one(stack, "kubernetes:apps/v1:Deployment").inputs["spec"]
    assert deployment["replicas"] == 2
    container = deployment["template"]["spec"]["containers"][0]
    assert container["command"][:4] == ["feast", "--chdir", "/feast/repo", "serve"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    service = next(
        s for s in stack.by_type("kubernetes:core/v1:Service") if s.name == "features-feature-server-service"
    )
    assert service.inputs["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    assert stack_hardening_problems(stack) == []
    assert required_tags_present(stack) == []


def _job_name(**overrides):
    stack = plan(lambda: FeatureStore("features", feature_store_args(**overrides)))
    job = one(stack, "kubernetes:batch/v1:Job")
    assert job.inputs["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "feast",
        "--chdir",
        "/feast/repo",
        "apply",
    ]
    return job.inputs["metadata"]["name"], job.name


def test_apply_job_reruns_only_when_definitions_change():
    first = _job_name()
    assert first == _job_name()  # stable across runs
    views = feature_store_args()["feature_views"]
    changed = [{**views[0], "features": {**views[0]["features"], "contract_type": "String"}}]
    second = _job_name(feature_views=changed)
    assert second[0] != first[0] and second[1] != first[1]
    assert first[0].startswith("churn-dev-features-apply-")


def test_pvc_registry_and_offline_store():
    stack = plan(
        lambda: FeatureStore(
            "features", feature_store_args(registry={"pvc_size": "5Gi"}, offline_store={"pvc_size": "50Gi"})
        ),
        environment="prod",
    )
    claims = {c.inputs["metadata"]["name"]: c for c in stack.by_type("kubernetes:core/v1:PersistentVolumeClaim")}
    assert claims["churn-prod-features-registry"].inputs["spec"]["accessModes"] == ["ReadWriteMany"]
    assert all(c.protect for c in claims.values())
    config = yaml.safe_load(one(stack, "kubernetes:core/v1:ConfigMap").inputs["data"]["feature_store.yaml"])
    assert config["registry"]["path"] == "/feast/registry/registry.db"


def test_network_policies_allow_only_platform_clients(stack):
    policies = {
        p.inputs["metadata"]["name"]: p.inputs["spec"]
        for p in stack.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    }
    redis_in = policies["churn-prod-features-redis-in"]
    assert redis_in["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "online-store"
    clients = redis_in["ingress"][0]["from"][0]["podSelector"]["matchExpressions"][0]["values"]
    assert clients == ["feature-apply", "feature-materialize", "feature-server", "training"]
    assert redis_in["ingress"][0]["ports"] == [{"port": 6379, "protocol": "TCP"}]
    server_in = policies["churn-prod-features-server-in"]
    assert server_in["ingress"][0]["from"][0]["podSelector"]["matchExpressions"][0]["values"] == [
        "predictor",
        "training",
    ]
    https = policies["churn-prod-features-object-storage"]
    assert https["egress"][0]["ports"] == [{"port": 443, "protocol": "TCP"}]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"redis_password": "short"}, "redis_password"),
        ({"registry": {"uri": "s3://b/r.db", "pvc_size": "1Gi"}}, "registry"),
        ({"registry": {"uri": "http://b/r.db"}}, "registry"),
        ({"feast_project": "Churn Project"}, "feast_project"),
        ({"redis": {"image": "redis:latest"}}, "redis"),
        ({"feature_views": [{"name": "v", "entities": ["nobody"], "source": "x", "features": {"a": "Int64"}}]}, None),
        (
            {"feature_views": [{"name": "v", "entities": ["customer"], "source": "x", "features": {"a": "Decimal"}}]},
            "feature_views",
        ),
    ],
)
def test_invalid_settings_name_the_field(overrides, field):
    with pytest.raises(pydantic.ValidationError) as info:
        FeatureStoreArgs.model_validate(feature_store_args(**overrides))
    error = info.value.errors()[0]
    if field is None:
        assert "undeclared entities" in error["msg"]
    else:
        assert error["loc"][0] == field
    with pytest.raises(ProgramError, match=field or "undeclared"):
        plan(lambda: FeatureStore("features", feature_store_args(**overrides)))
