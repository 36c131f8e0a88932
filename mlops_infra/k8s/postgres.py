"""A single-instance PostgreSQL for MLflow's backend store, on an explicit (protected) PVC.

The password comes from a Secret (``POSTGRES_PASSWORD`` via ``secretKeyRef``); the root FS
is read-only, so the socket directory and /tmp are emptyDirs and the data directory is a
sub-directory of the PVC mount (``PGDATA``), as the official image expects.

With ``tls`` (the default) the server runs with ``ssl=on`` and the certificate and key of a
cert-manager Certificate, and its ``pg_hba.conf`` (a ConfigMap, ``hba_file``) has ``hostssl`` lines
only: a network connection without TLS matches no line and is rejected. PostgreSQL refuses a key
file others can read: the Secret is mounted 0640, owned by root with the postgres group (fsGroup),
which it accepts for root-owned keys. ``local`` (Unix socket, inside the pod) stays for the image's
initdb scripts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from mlops_infra.component import PlatformComponent
from mlops_infra.k8s import objects
from mlops_infra.k8s.certificate import ServerTls, server_certificate
from mlops_infra.k8s.workload import ComputeResources, Container, Mount, SecretEnv, pod_spec, pod_template
from mlops_infra.outputs import concat
from mlops_infra.spec.base import Spec
from mlops_infra.spec.types import PinnedImage

POSTGRES_PORT = 5432
POSTGRES_UID = 999  # the postgres user of the official Debian-based image
DATA_MOUNT = "/var/lib/postgresql/data"
TLS_DIR = "/etc/postgresql/tls"
HBA_DIR = "/etc/postgresql/hba"


class PostgresSettings(Spec):
    """The in-cluster database used when no external database URL is given."""

    image: PinnedImage = "postgres:16.4"
    database: str = Field("mlflow", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    user: str = Field("mlflow", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    storage_size: str = Field("20Gi", description="PVC size for the data directory.")
    storage_class: str | None = None
    resources: ComputeResources = Field(
        default_factory=lambda: ComputeResources(
            cpu_request="250m", cpu_limit="1", memory_request="512Mi", memory_limit="1Gi"
        )
    )


def hba_conf(tls: bool) -> str:
    """``pg_hba.conf``: SCRAM passwords; network connections only over TLS (``hostssl``) with ``tls``."""
    kind = "hostssl" if tls else "host"
    return (
        "# TYPE  DATABASE  USER  ADDRESS    METHOD\n"
        "local   all       all             scram-sha-256\n"
        f"{kind:<7} all       all   0.0.0.0/0  scram-sha-256\n"
        f"{kind:<7} all       all   ::/0       scram-sha-256\n"
    )


def server_args(tls: bool) -> list[str]:
    """The command line: the ConfigMap's pg_hba.conf, and with ``tls`` SSL on with the certificate's files."""
    settings = [f"hba_file={HBA_DIR}/pg_hba.conf"]
    if tls:
        settings += [
            "ssl=on",
            f"ssl_cert_file={TLS_DIR}/tls.crt",
            f"ssl_key_file={TLS_DIR}/tls.key",
            "ssl_min_protocol_version=TLSv1.2",
        ]
    return ["postgres", *[part for setting in settings for part in ("-c", setting)]]


def client_url(settings: PostgresSettings, password: str, host: str, ca_file: str | None) -> str:
    """The URL clients connect with; with ``ca_file`` libpq requires TLS and verifies the certificate and
    the host name (``sslmode=verify-full``)."""
    ssl = f"?sslmode=verify-full&sslrootcert={ca_file}" if ca_file else ""
    return f"postgresql://{settings.user}:{quote(password, safe='')}@{host}:{POSTGRES_PORT}/{settings.database}{ssl}"


@dataclass
class Postgres:
    host: pulumi.Output[str]
    port: int
    service: k8s.core.v1.Service
    stateful_set: k8s.apps.v1.StatefulSet
    claim: k8s.core.v1.PersistentVolumeClaim
    certificate: k8s.apiextensions.CustomResource | None
    tls_secret_name: str | None
    """The certificate's Secret (clients mount its ``ca.crt``); None without TLS."""


def postgres(  # noqa: PLR0917 - (owner, suffix, name, namespace, labels, ...) like every helper here
    owner: PlatformComponent[Any],
    name: str,
    namespace: pulumi.Input[str],
    labels: dict[str, str],
    settings: PostgresSettings,
    password_secret: str,
    depends_on: list[pulumi.Resource],
    tls: ServerTls | None,
) -> Postgres:
    """Create PostgreSQL (ServiceAccount, PVC, headless Service, pg_hba ConfigMap, Certificate, StatefulSet)
    reading its password from key ``postgres-password`` of ``password_secret``."""
    account = objects.service_account(owner, "postgres-sa", name, namespace, labels)
    claim = objects.persistent_volume_claim(
        owner,
        "postgres-data",
        f"{name}-data",
        namespace,
        labels,
        size=settings.storage_size,
        storage_class=settings.storage_class,
    )
    service = objects.service(
        owner, "postgres-service", name, namespace, labels, [("postgres", POSTGRES_PORT, "postgres")], headless=True
    )
    hba = k8s.core.v1.ConfigMap(
        owner.child_name("postgres-hba"),
        metadata=objects.metadata(f"{name}-hba", namespace, labels),
        data={"pg_hba.conf": hba_conf(tls is not None)},
        opts=owner.child_opts(),
    )
    mounts = [
        Mount("data", {"persistentVolumeClaim": {"claimName": f"{name}-data"}}, DATA_MOUNT, read_only=False),
        Mount("hba", {"configMap": {"name": f"{name}-hba", "defaultMode": 0o444}}, HBA_DIR),
    ]
    cert = None
    if tls is not None:
        cert = server_certificate(owner, "postgres-tls", name, namespace, labels, tls)
        mounts.append(Mount("tls", {"secret": {"secretName": f"{name}-tls", "defaultMode": 0o640}}, TLS_DIR))
    ready = ["pg_isready", "-h", "127.0.0.1", "-U", settings.user, "-d", settings.database]
    container = Container(
        name="postgres",
        image=settings.image,
        resources=settings.resources,
        args=server_args(tls is not None),
        ports=[("postgres", POSTGRES_PORT)],
        env={"POSTGRES_USER": settings.user, "POSTGRES_DB": settings.database, "PGDATA": f"{DATA_MOUNT}/pgdata"},
        secret_env=[SecretEnv("POSTGRES_PASSWORD", password_secret, "postgres-password")],
        mounts=mounts,
        writable_paths=["/tmp", "/var/run/postgresql"],  # noqa: S108
        readiness_probe={"exec": {"command": ready}, "periodSeconds": 10},
        liveness_probe={"exec": {"command": ready}, "initialDelaySeconds": 30, "periodSeconds": 20},
    )
    spec = pod_spec(
        [container],
        service_account_name=objects.name_of(account),
        run_as_user=POSTGRES_UID,
        fs_group=POSTGRES_UID,
    )
    stateful_set = objects.stateful_set(
        owner,
        "postgres",
        name,
        namespace,
        labels,
        pod_template(labels, spec),
        service_name=objects.name_of(service),
        depends_on=[claim, hba, *([cert] if cert else []), *depends_on],
    )
    host = concat(name, ".", namespace, ".svc.cluster.local")
    tls_secret = f"{name}-tls" if cert else None
    return Postgres(host, POSTGRES_PORT, service, stateful_set, claim, cert, tls_secret)
