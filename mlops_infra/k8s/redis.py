"""A single-primary Redis with password auth, TLS and persistent storage (Feast's online store).

The password lives in a Secret as both the ``password`` key (for clients' env) and a
generated ``redis.conf`` (``requirepass``), mounted read-only, so it is never a command-line
argument visible in ``ps`` or the pod spec. Data is on an explicit PVC (protected in
protected environments), AOF persistence on; the Service is headless (stable DNS, no VIP).

With ``tls`` (the default) Redis serves TLS only: ``--port 0 --tls-port 6379`` with the
certificate, key and CA of a cert-manager Certificate for the Service's names. Clients verify the
server with ``ca.crt`` and still authenticate with the password (``--tls-auth-clients no``: no
client certificates, which every client would otherwise need issued and renewed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from mlops_infra.component import PlatformComponent
from mlops_infra.k8s import objects
from mlops_infra.k8s.certificate import ServerTls, server_certificate
from mlops_infra.k8s.secrets import as_secret, opaque_secret
from mlops_infra.k8s.workload import ComputeResources, Container, Mount, pod_spec, pod_template
from mlops_infra.outputs import concat
from mlops_infra.spec.base import Spec
from mlops_infra.spec.types import PinnedImage

REDIS_PORT = 6379
REDIS_UID = 999  # the redis user of the official image owns nothing else
TLS_DIR = "/etc/redis/tls"


class RedisSettings(Spec):
    """The online store's Redis; sizes in Kubernetes quantities."""

    image: PinnedImage = "redis:7.2.5"
    storage_size: str = Field("10Gi", description="PVC size for the append-only file and snapshots.")
    storage_class: str | None = Field(None, description="StorageClass of the PVC; default: the cluster default.")
    resources: ComputeResources = Field(
        default_factory=lambda: ComputeResources(
            cpu_request="250m", cpu_limit="1", memory_request="512Mi", memory_limit="1Gi"
        )
    )


def redis_conf(password: str) -> str:
    """``redis.conf`` (a Secret): auth and persistence; ports and TLS are arguments (see ``server_args``)."""
    return f"bind * -::*\nprotected-mode yes\nrequirepass {password}\nappendonly yes\nappendfsync everysec\ndir /data\n"


def server_args(tls: bool) -> list[str]:
    """The command line: TLS only (no plaintext port) with ``tls``, else plaintext on 6379."""
    args = ["redis-server", "/etc/redis/redis.conf"]
    if not tls:
        return [*args, "--port", str(REDIS_PORT)]
    return [
        *args,
        "--port",
        "0",
        "--tls-port",
        str(REDIS_PORT),
        "--tls-cert-file",
        f"{TLS_DIR}/tls.crt",
        "--tls-key-file",
        f"{TLS_DIR}/tls.key",
        "--tls-ca-cert-file",
        f"{TLS_DIR}/ca.crt",
        "--tls-auth-clients",
        "no",
        "--tls-protocols",
        "TLSv1.2 TLSv1.3",
    ]


@dataclass
class Redis:
    """What clients need: host, port and the Secret holding the password (key ``password``)."""

    host: pulumi.Output[str]
    port: int
    secret: k8s.core.v1.Secret
    secret_name: str
    service: k8s.core.v1.Service
    stateful_set: k8s.apps.v1.StatefulSet
    claim: k8s.core.v1.PersistentVolumeClaim
    certificate: k8s.apiextensions.CustomResource | None
    tls_secret_name: str | None
    """The certificate's Secret (clients mount its ``ca.crt``); None without TLS."""


def redis(  # noqa: PLR0917 - (owner, suffix, name, namespace, labels, ...) like every helper here
    owner: PlatformComponent[Any],
    name: str,
    namespace: pulumi.Input[str],
    labels: dict[str, str],
    settings: RedisSettings,
    password: pulumi.Input[str],
    tls: ServerTls | None,
) -> Redis:
    """Create Redis (Secret, ServiceAccount, PVC, headless Service, Certificate, StatefulSet) under ``owner``."""
    secret_value = as_secret(password)
    secret = opaque_secret(
        owner,
        "redis-auth",
        f"{name}-auth",
        namespace,
        labels,
        {"password": secret_value, "redis.conf": secret_value.apply(redis_conf)},
    )
    account = objects.service_account(owner, "redis-sa", name, namespace, labels)
    claim = objects.persistent_volume_claim(
        owner,
        "redis-data",
        f"{name}-data",
        namespace,
        labels,
        size=settings.storage_size,
        storage_class=settings.storage_class,
    )
    service = objects.service(
        owner, "redis-service", name, namespace, labels, [("redis", REDIS_PORT, "redis")], headless=True
    )
    cert = None
    mounts: list[Mount] = []
    if tls is not None:
        cert = server_certificate(owner, "redis-tls", name, namespace, labels, tls)
        # Group-readable by fsGroup (the redis user's group), root-owned: redis reads, nothing else can write.
        mounts.append(Mount("tls", {"secret": {"secretName": f"{name}-tls", "defaultMode": 0o440}}, TLS_DIR))
    container = Container(
        name="redis",
        image=settings.image,
        resources=settings.resources,
        args=server_args(tls is not None),
        ports=[("redis", REDIS_PORT)],
        mounts=[
            *mounts,
            Mount(
                "config",
                {
                    "secret": {
                        "secretName": f"{name}-auth",
                        "items": [{"key": "redis.conf", "path": "redis.conf"}],
                        "defaultMode": 0o440,
                    }
                },
                "/etc/redis",
            ),
            Mount("data", {"persistentVolumeClaim": {"claimName": f"{name}-data"}}, "/data", read_only=False),
        ],
        readiness_probe={"tcpSocket": {"port": "redis"}, "periodSeconds": 10},
        liveness_probe={"tcpSocket": {"port": "redis"}, "initialDelaySeconds": 15, "periodSeconds": 20},
    )
    spec = pod_spec(
        [container],
        service_account_name=objects.name_of(account),
        run_as_user=REDIS_UID,
        fs_group=REDIS_UID,
    )
    stateful_set = objects.stateful_set(
        owner,
        "redis",
        name,
        namespace,
        labels,
        pod_template(labels, spec),
        service_name=objects.name_of(service),
        depends_on=[secret, claim, *([cert] if cert else [])],
    )
    host = concat(name, ".", namespace, ".svc.cluster.local")
    tls_secret = f"{name}-tls" if cert else None
    return Redis(host, REDIS_PORT, secret, f"{name}-auth", service, stateful_set, claim, cert, tls_secret)
