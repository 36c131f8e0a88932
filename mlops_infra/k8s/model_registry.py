"""MLflow tracking server behind an oauth2-proxy sidecar, with PostgreSQL or an external database.

- Backend store: ``external_database_url`` (a secret), or an in-cluster PostgreSQL StatefulSet
  on a protected PVC whose password is ``postgres_password``. Either way MLflow reads the URL
  from a Secret through ``MLFLOW_BACKEND_STORE_URI``: it is never an argument. The in-cluster
  database serves TLS only (``tls``, the default); the URL asks for ``sslmode=verify-full`` against
  the mounted ``ca.crt`` of its cert-manager certificate.
- Artifacts: ``--serve-artifacts`` to an ``s3://``/``gs://`` destination, or a PVC.
- Auth: every human request passes oauth2-proxy (OIDC, group allow-list, JWT bearer tokens
  from the same issuer for notebooks/CLI). ``internal_clients`` (default: training pods)
  may call MLflow's own port directly; NetworkPolicies make that the only unauthenticated
  path, and an empty list closes it (MLflow then listens on localhost only).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pulumi
from pydantic import Field, field_validator, model_validator

from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.k8s import labels as lbl
from mlops_infra.k8s import network, objects
from mlops_infra.k8s.cert_issuer import server_tls
from mlops_infra.k8s.certificate import InClusterTls, IssuerRef, ca_mount
from mlops_infra.k8s.postgres import PostgresSettings, client_url, postgres
from mlops_infra.k8s.secrets import as_secret, opaque_secret
from mlops_infra.k8s.storage import StorageLocation
from mlops_infra.k8s.workload import ComputeResources, Container, Mount, SecretEnv, pod_spec, pod_template
from mlops_infra.outputs import combined, concat
from mlops_infra.spec.base import Spec, StrInput
from mlops_infra.spec.types import PinnedImage

MLFLOW_PORT = 5000
PROXY_PORT = 4180
PROXY_UID = 65532  # "nonroot" of the distroless oauth2-proxy image
ARTIFACT_MOUNT = "/mlflow/artifacts"
DATABASE_CA_DIR = "/mlflow/database-ca"


class OAuth2ProxySettings(Spec):
    """OIDC login in front of MLflow; the client and cookie secrets are Pulumi secrets."""

    image: PinnedImage = "quay.io/oauth2-proxy/oauth2-proxy:v7.6.0"
    oidc_issuer_url: str = Field(description="https:// issuer of the identity provider.")
    client_id: str = Field(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9._@:/-]+$")
    client_secret: StrInput
    cookie_secret: StrInput = Field(description="16, 24 or 32 bytes (or their base64) for session cookies.")
    allowed_groups: list[str] = Field(min_length=1, max_length=20, description="IdP groups allowed in.")
    email_domains: list[str] = Field(default_factory=lambda: ["*"], min_length=1)
    resources: ComputeResources = Field(
        default_factory=lambda: ComputeResources(
            cpu_request="50m", cpu_limit="250m", memory_request="64Mi", memory_limit="256Mi"
        )
    )

    @field_validator("oidc_issuer_url")
    @classmethod
    def _https(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
            raise ValueError("must be an https:// URL without credentials")
        return value


class ModelRegistryArgs(Spec):
    """Settings of an MLflow model registry in one namespace."""

    namespace: StrInput
    image: PinnedImage = Field(
        "ghcr.io/mlflow/mlflow:v2.16.2", description="MLflow image; it needs psycopg2 and boto3/google-cloud-storage."
    )
    replicas: int = Field(1, ge=1, le=10)
    resources: ComputeResources = Field(
        default_factory=lambda: ComputeResources(
            cpu_request="250m", cpu_limit="1", memory_request="512Mi", memory_limit="2Gi"
        )
    )
    artifact_store: StorageLocation
    external_database_url: StrInput | None = Field(None, description="postgresql:// or mysql:// URL (a secret).")
    postgres_password: StrInput | None = Field(None, description="Password of the in-cluster PostgreSQL (a secret).")
    postgres: PostgresSettings = Field(default_factory=PostgresSettings)
    tls: InClusterTls | None = Field(
        default_factory=InClusterTls,
        description="TLS to the in-cluster PostgreSQL (cert-manager certificate); None turns it off: plaintext, "
        "dev only. An external_database_url carries its own sslmode.",
    )
    auth: OAuth2ProxySettings
    internal_clients: list[str] = Field(
        default_factory=lambda: [lbl.TRAINING], description="Components that may call MLflow without the proxy."
    )
    ingress_namespaces: list[str] = Field(
        default_factory=lambda: ["ingress-nginx"], description="Namespaces whose pods may reach the proxy port."
    )
    https_egress_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0"], min_length=1)
    service_account_annotations: dict[str, str] = Field(default_factory=dict)

    @field_validator("external_database_url")
    @classmethod
    def _database_url(cls, value: StrInput | None) -> StrInput | None:
        if isinstance(value, str) and urlsplit(value).scheme.split("+")[0] not in ("postgresql", "mysql"):
            raise ValueError("must be a postgresql:// or mysql:// URL")
        return value

    @model_validator(mode="after")
    def _one_backend(self) -> ModelRegistryArgs:
        if (self.external_database_url is None) == (self.postgres_password is None):
            raise ValueError("set exactly one of external_database_url and postgres_password")
        if self.replicas > 1 and self.artifact_store.pvc_size:
            raise ValueError("replicas > 1 needs an object-storage artifact_store (a PVC is ReadWriteOnce)")
        return self


def _in_cluster_uri(
    pg: PostgresSettings, password: pulumi.Output[str], service: str, namespace: StrInput, tls: bool
) -> pulumi.Output[str]:
    """The in-cluster database's URL; with ``tls`` libpq verifies the certificate and the host name."""
    host = concat(service, ".", namespace, ".svc.cluster.local")
    ca_file = f"{DATABASE_CA_DIR}/ca.crt" if tls else None
    return combined(lambda secret, known_host: client_url(pg, secret, known_host, ca_file), password, host)


class ModelRegistry(PlatformComponent[ModelRegistryArgs]):
    """MLflow tracking server + model registry with auth, a database and NetworkPolicies."""

    TYPE_TOKEN = "mlops-infra:k8s:ModelRegistry"
    ARGS = ModelRegistryArgs

    def __init__(
        self,
        name: str,
        args: ModelRegistryArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        ns = a.namespace
        base = self.platform.name(name, naming.K8S_LABEL_NAME)
        part_of = self.platform.settings.project
        mlflow_labels = lbl.standard_labels("mlflow", base, lbl.MODEL_REGISTRY, part_of)
        db_labels = lbl.standard_labels("postgresql", base, lbl.REGISTRY_DATABASE, part_of)
        secret_name = f"{base}-mlflow"
        values: dict[str, pulumi.Input[str]] = {
            "oauth2-client-secret": as_secret(a.auth.client_secret),
            "oauth2-cookie-secret": as_secret(a.auth.cookie_secret),
        }
        self.postgres = None
        in_cluster = a.postgres_password is not None
        tls_labels = lbl.standard_labels("cert-manager", base, "tls", part_of)
        tls = server_tls(self, a.tls, f"{base}-ca", ns, tls_labels) if in_cluster else None
        self.tls_issuer: IssuerRef | None = tls.issuer if tls else None
        if a.postgres_password is not None:
            password = as_secret(a.postgres_password)
            values["postgres-password"] = password
            values["backend-store-uri"] = _in_cluster_uri(a.postgres, password, f"{base}-db", ns, tls is not None)
        else:
            values["backend-store-uri"] = as_secret(a.external_database_url or "")
        self.secret = opaque_secret(self, "secret", secret_name, ns, mlflow_labels, values)
        if in_cluster:
            self.postgres = postgres(self, f"{base}-db", ns, db_labels, a.postgres, secret_name, [self.secret], tls)

        mounts: list[Mount] = []
        if self.postgres is not None and self.postgres.tls_secret_name:
            mounts.append(ca_mount(self.postgres.tls_secret_name, DATABASE_CA_DIR, "database-ca"))
        destination = a.artifact_store.uri
        if a.artifact_store.pvc_size:
            claim = objects.persistent_volume_claim(
                self,
                "artifacts",
                f"{base}-artifacts",
                ns,
                mlflow_labels,
                size=a.artifact_store.pvc_size,
                storage_class=a.artifact_store.storage_class,
            )
            mounts.append(
                Mount(
                    "artifacts",
                    {"persistentVolumeClaim": {"claimName": objects.name_of(claim)}},
                    ARTIFACT_MOUNT,
                    read_only=False,
                )
            )
            destination = ARTIFACT_MOUNT
        listen = "0.0.0.0" if a.internal_clients else "127.0.0.1"  # noqa: S104 - NetworkPolicy restricts who connects
        mlflow = Container(
            name="mlflow",
            image=a.image,
            resources=a.resources,
            command=[
                "mlflow",
                "server",
                "--host",
                listen,
                "--port",
                str(MLFLOW_PORT),
                "--serve-artifacts",
                "--artifacts-destination",
                str(destination),
            ],
            ports=[("tracking", MLFLOW_PORT)],
            env={"HOME": "/tmp"},  # noqa: S108
            secret_env=[SecretEnv("MLFLOW_BACKEND_STORE_URI", secret_name, "backend-store-uri")],
            mounts=mounts,
            readiness_probe={"httpGet": {"path": "/health", "port": MLFLOW_PORT}, "periodSeconds": 10},
            liveness_probe={
                "httpGet": {"path": "/health", "port": MLFLOW_PORT},
                "initialDelaySeconds": 30,
                "periodSeconds": 20,
            },
        )
        auth = a.auth
        proxy = Container(
            name="oauth2-proxy",
            image=auth.image,
            resources=auth.resources,
            args=[
                f"--http-address=0.0.0.0:{PROXY_PORT}",
                f"--upstream=http://127.0.0.1:{MLFLOW_PORT}/",
                "--provider=oidc",
                f"--oidc-issuer-url={auth.oidc_issuer_url}",
                f"--client-id={auth.client_id}",
                *[f"--email-domain={domain}" for domain in auth.email_domains],
                *[f"--allowed-group={group}" for group in auth.allowed_groups],
                "--skip-jwt-bearer-tokens=true",
                "--cookie-secure=true",
                "--reverse-proxy=true",
                "--skip-provider-button=true",
            ],
            ports=[("http", PROXY_PORT)],
            secret_env=[
                SecretEnv("OAUTH2_PROXY_CLIENT_SECRET", secret_name, "oauth2-client-secret"),
                SecretEnv("OAUTH2_PROXY_COOKIE_SECRET", secret_name, "oauth2-cookie-secret"),
            ],
            readiness_probe={"httpGet": {"path": "/ping", "port": "http"}, "periodSeconds": 10},
            liveness_probe={
                "httpGet": {"path": "/ping", "port": "http"},
                "initialDelaySeconds": 10,
                "periodSeconds": 20,
            },
            run_as_user=PROXY_UID,
        )
        self.service_account = objects.service_account(
            self, "sa", base, ns, mlflow_labels, annotations=a.service_account_annotations
        )
        spec = pod_spec([mlflow, proxy], service_account_name=objects.name_of(self.service_account))
        depends: list[pulumi.Resource] = [self.secret] + ([self.postgres.stateful_set] if self.postgres else [])
        self.deployment = objects.deployment(
            self,
            "mlflow",
            base,
            ns,
            mlflow_labels,
            pod_template(mlflow_labels, spec),
            replicas=a.replicas,
            depends_on=depends,
        )
        ports: list[tuple[str, int, int | str]] = [("http", 80, "http")]
        if a.internal_clients:
            ports.append(("tracking", MLFLOW_PORT, "tracking"))
        self.service = objects.service(self, "service", base, ns, mlflow_labels, ports)
        self.network_policies = self._network_policies(ns, base, mlflow_labels, part_of)
        svc = concat(base, ".", ns, ".svc.cluster.local")
        self.ui_url: pulumi.Output[str] = concat("http://", svc)
        self.tracking_uri: pulumi.Output[str] = concat("http://", svc, f":{MLFLOW_PORT}")
        self.register_outputs({"ui_url": self.ui_url, "tracking_uri": self.tracking_uri, "secret": secret_name})

    def _network_policies(self, ns: StrInput, base: str, policy_labels: dict[str, str], part_of: str) -> list[Any]:
        a = self.args
        mlflow = network.components(part_of, lbl.MODEL_REGISTRY)
        policies: list[Any] = [
            network.policy(
                self,
                "allow-proxy",
                f"{base}-proxy-in",
                ns,
                policy_labels,
                pods=mlflow,
                ingress=[{"from": network.namespaces(*a.ingress_namespaces), "ports": network.ports(PROXY_PORT)}],
            ),
            network.https_egress(
                self, "allow-https", f"{base}-https", ns, policy_labels, pods=mlflow, cidrs=a.https_egress_cidrs
            ),
        ]
        if a.internal_clients:
            policies += network.connection(
                self,
                "allow-tracking",
                f"{base}-tracking",
                ns,
                policy_labels,
                server=mlflow,
                clients=network.components(part_of, *a.internal_clients),
                port_list=network.ports(MLFLOW_PORT),
            )
        if self.postgres is not None:
            policies += network.connection(
                self,
                "allow-database",
                f"{base}-db",
                ns,
                policy_labels,
                server=network.components(part_of, lbl.REGISTRY_DATABASE),
                clients=mlflow,
                port_list=network.ports(5432),
            )
        return policies
