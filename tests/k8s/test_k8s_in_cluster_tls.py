"""In-cluster TLS: cert-manager CA and Certificates, TLS-only Redis and PostgreSQL, verifying clients.

The manifests' schema validity (Issuer, Certificate against the vendored cert-manager CRDs) is in
test_k8s_manifests.py; here: what is wired where, and that encryption-in-transit passes it and flags
the plaintext variant.
"""

from typing import Any

import pydantic
import pytest
import yaml
from k8s_checks import stack_hardening_problems
from k8s_samples import feature_store_args, model_registry_args

from mlops_infra.engine import CapturedStack
from mlops_infra.k8s import FeatureStore, ModelRegistry
from mlops_infra.k8s.certificate import CertificateSettings
from mlops_infra.k8s.postgres import PostgresSettings, client_url
from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.testing import plan

CERTIFICATE = "kubernetes:cert-manager.io/v1:Certificate"
ISSUER = "kubernetes:cert-manager.io/v1:Issuer"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"


def _both() -> None:
    FeatureStore("features", feature_store_args(materialization={"cron": "15 * * * *", "time_zone": "UTC"}))
    ModelRegistry("registry", model_registry_args())


@pytest.fixture(scope="module")
def tls_stack() -> CapturedStack:
    return plan(_both, environment="prod")


@pytest.fixture(scope="module")
def plaintext_stack() -> CapturedStack:
    def program() -> None:
        FeatureStore("features", feature_store_args(tls=None))
        ModelRegistry("registry", model_registry_args(tls=None))

    return plan(program, environment="dev")


def _named(stack: CapturedStack, type_token: str, name: str) -> Any:
    (found,) = [r for r in stack.by_type(type_token) if r.inputs["metadata"]["name"] == name]
    return found


def _pod(stack: CapturedStack, logical_name: str) -> dict[str, Any]:
    (resource,) = [r for r in stack.resources if r.name == logical_name]
    spec = resource.inputs["spec"]
    template = spec["jobTemplate"]["spec"]["template"] if "jobTemplate" in spec else spec["template"]
    return template["spec"]


def _volume(pod: dict[str, Any], name: str) -> dict[str, Any]:
    (volume,) = [v for v in pod["volumes"] if v["name"] == name]
    return volume


def test_each_component_without_an_issuer_gets_a_namespaced_ca_chain(tls_stack: CapturedStack) -> None:
    for base in ("churn-prod-features", "churn-prod-registry"):
        root = _named(tls_stack, ISSUER, f"{base}-ca-root")
        assert root.inputs["spec"] == {"selfSigned": {}}
        ca = _named(tls_stack, CERTIFICATE, f"{base}-ca")
        assert ca.inputs["spec"]["isCA"] is True
        assert ca.inputs["spec"]["issuerRef"] == {
            "name": f"{base}-ca-root",
            "kind": "Issuer",
            "group": "cert-manager.io",
        }
        assert ca.inputs["spec"]["privateKey"]["rotationPolicy"] == "Always"
        issuer = _named(tls_stack, ISSUER, f"{base}-ca")
        assert issuer.inputs["spec"] == {"ca": {"secretName": f"{base}-ca"}}
        assert ca.urn in issuer.dependencies and root.urn in ca.dependencies


@pytest.mark.parametrize(("service", "issuer"), [("features-redis", "features-ca"), ("registry-db", "registry-ca")])
def test_server_certificates_name_the_service_and_rotate_their_key(
    tls_stack: CapturedStack, service: str, issuer: str
) -> None:
    name = f"churn-prod-{service}"
    spec = _named(tls_stack, CERTIFICATE, f"{name}-tls").inputs["spec"]
    assert spec["secretName"] == f"{name}-tls"
    assert spec["dnsNames"] == [name, f"{name}.churn-ns", f"{name}.churn-ns.svc", f"{name}.churn-ns.svc.cluster.local"]
    assert (spec["duration"], spec["renewBefore"]) == ("2160h", "720h")
    assert spec["privateKey"] == {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}
    assert spec["usages"] == ["server auth", "digital signature"]
    assert spec["issuerRef"] == {"name": f"churn-prod-{issuer}", "kind": "Issuer", "group": "cert-manager.io"}


def test_redis_serves_tls_only_with_the_certificate(tls_stack: CapturedStack) -> None:
    pod = _pod(tls_stack, "features-redis")
    (redis,) = pod["containers"]
    assert redis["args"] == [
        "redis-server",
        "/etc/redis/redis.conf",
        "--port",
        "0",
        "--tls-port",
        "6379",
        "--tls-cert-file",
        "/etc/redis/tls/tls.crt",
        "--tls-key-file",
        "/etc/redis/tls/tls.key",
        "--tls-ca-cert-file",
        "/etc/redis/tls/ca.crt",
        "--tls-auth-clients",
        "no",
        "--tls-protocols",
        "TLSv1.2 TLSv1.3",
    ]
    tls = _volume(pod, "tls")
    assert tls["secret"] == {"secretName": "churn-prod-features-redis-tls", "defaultMode": 0o440}
    assert {"name": "tls", "mountPath": "/etc/redis/tls", "readOnly": True} in redis["volumeMounts"]
    assert pod["securityContext"]["fsGroup"] == 999  # the key is group-readable by the redis user only
    certificate = _named(tls_stack, CERTIFICATE, "churn-prod-features-redis-tls")
    (sts,) = [r for r in tls_stack.by_type(STATEFUL_SET) if r.name == "features-redis"]
    assert certificate.urn in sts.dependencies


def test_postgres_requires_ssl_and_rejects_non_tls_connections(tls_stack: CapturedStack) -> None:
    pod = _pod(tls_stack, "registry-postgres")
    (postgres,) = pod["containers"]
    assert postgres["args"] == [
        "postgres",
        "-c",
        "hba_file=/etc/postgresql/hba/pg_hba.conf",
        "-c",
        "ssl=on",
        "-c",
        "ssl_cert_file=/etc/postgresql/tls/tls.crt",
        "-c",
        "ssl_key_file=/etc/postgresql/tls/tls.key",
        "-c",
        "ssl_min_protocol_version=TLSv1.2",
    ]
    # PostgreSQL accepts a root-owned key of mode 0640 whose group is its own (fsGroup 999), nothing wider.
    assert _volume(pod, "tls")["secret"] == {"secretName": "churn-prod-registry-db-tls", "defaultMode": 0o640}
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsUser"] == 999
    hba = _named(tls_stack, "kubernetes:core/v1:ConfigMap", "churn-prod-registry-db-hba").inputs["data"]["pg_hba.conf"]
    lines = [line.split() for line in hba.splitlines() if line and not line.startswith("#")]
    assert {line[0] for line in lines} == {"local", "hostssl"}
    assert [line[-1] for line in lines] == ["scram-sha-256"] * 3
    assert _volume(pod, "hba")["configMap"]["name"] == "churn-prod-registry-db-hba"


def test_feast_clients_verify_redis_with_the_ca_only(tls_stack: CapturedStack) -> None:
    config = yaml.safe_load(
        _named(tls_stack, "kubernetes:core/v1:ConfigMap", "churn-prod-features-repo").inputs["data"][
            "feature_store.yaml"
        ]
    )
    assert config["online_store"]["connection_string"] == (
        "churn-prod-features-redis.churn-ns.svc.cluster.local:6379,ssl=true,ssl_ca_certs=/feast/redis-ca/ca.crt,"
        "ssl_cert_reqs=required,ssl_check_hostname=true,password=${REDIS_PASSWORD}"
    )
    clients = ["features-feature-server", "features-materialize"] + [
        r.name for r in tls_stack.by_type("kubernetes:batch/v1:Job") if r.name.startswith("features-apply")
    ]
    assert len(clients) == 3
    for client in clients:
        pod = _pod(tls_stack, client)
        # ca.crt alone: a client never receives the server's private key
        assert _volume(pod, "redis-ca")["secret"] == {
            "secretName": "churn-prod-features-redis-tls",
            "items": [{"key": "ca.crt", "path": "ca.crt"}],
            "defaultMode": 0o444,
        }
        (container,) = pod["containers"]
        assert {"name": "redis-ca", "mountPath": "/feast/redis-ca", "readOnly": True} in container["volumeMounts"]


def test_mlflow_verifies_postgres_with_the_ca(tls_stack: CapturedStack) -> None:
    pod = _pod(tls_stack, "registry-mlflow")
    assert _volume(pod, "database-ca")["secret"]["items"] == [{"key": "ca.crt", "path": "ca.crt"}]
    mlflow = next(c for c in pod["containers"] if c["name"] == "mlflow")
    assert {"name": "database-ca", "mountPath": "/mlflow/database-ca", "readOnly": True} in mlflow["volumeMounts"]
    url = client_url(PostgresSettings(), "p@ss", "db.ns.svc.cluster.local", "/mlflow/database-ca/ca.crt")
    assert url == (
        "postgresql://mlflow:p%40ss@db.ns.svc.cluster.local:5432/mlflow"
        "?sslmode=verify-full&sslrootcert=/mlflow/database-ca/ca.crt"
    )
    assert client_url(PostgresSettings(), "p", "db", None) == "postgresql://mlflow:p@db:5432/mlflow"


def test_pods_stay_hardened_with_tls(tls_stack: CapturedStack) -> None:
    assert stack_hardening_problems(tls_stack) == []


def test_an_issuer_given_is_used_and_no_ca_is_created() -> None:
    issuer = {"issuer": {"name": "corp-pki", "kind": "ClusterIssuer"}}
    stack = plan(lambda: FeatureStore("features", feature_store_args(tls=issuer)), environment="prod")
    assert stack.by_type(ISSUER) == []
    (certificate,) = stack.by_type(CERTIFICATE)
    assert certificate.inputs["spec"]["issuerRef"] == {
        "name": "corp-pki",
        "kind": "ClusterIssuer",
        "group": "cert-manager.io",
    }


def test_plaintext_only_when_turned_off(plaintext_stack: CapturedStack) -> None:
    assert plaintext_stack.by_type(CERTIFICATE) == [] and plaintext_stack.by_type(ISSUER) == []
    assert _pod(plaintext_stack, "features-redis")["containers"][0]["args"][2:] == ["--port", "6379"]
    assert "ssl=on" not in _pod(plaintext_stack, "registry-postgres")["containers"][0]["args"]


def _transit(stack: CapturedStack) -> list[str]:
    return [
        v.message
        for v in evaluate_stack(stack, PolicyConfig())
        if v.policy_id == "encryption-in-transit" and not v.note
    ]


def test_encryption_in_transit_passes_tls_and_flags_plaintext(
    tls_stack: CapturedStack, plaintext_stack: CapturedStack
) -> None:
    assert _transit(tls_stack) == []
    flagged = _transit(plaintext_stack)
    assert any("(Redis): listens in plaintext on --port 6379" in m for m in flagged)
    assert any("(Redis): serves no TLS" in m for m in flagged)
    assert any("(PostgreSQL): runs without ssl=on" in m for m in flagged)
    assert any("accepts connections without TLS: 'host all all 0.0.0.0/0 scram-sha-256'" in m for m in flagged)


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"key_algorithm": "RSA", "key_size": 1024}, "key_size 1024"),
        ({"key_algorithm": "ECDSA", "key_size": 2048}, "key_size 2048"),
        ({"duration_hours": 720, "renew_before_hours": 720}, "must be less than duration_hours"),
    ],
)
def test_weak_or_inconsistent_certificates_are_refused(settings: dict[str, Any], words: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=words):
        CertificateSettings.model_validate(settings)


def test_rsa_keys_get_key_encipherment() -> None:
    rsa = CertificateSettings(key_algorithm="RSA", key_size=3072)
    assert rsa.private_key() == {"algorithm": "RSA", "size": 3072, "rotationPolicy": "Always"}
    assert "key encipherment" in rsa.usages()
