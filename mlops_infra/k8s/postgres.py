"""A single-instance PostgreSQL for MLflow's backend store, on an explicit (protected) PVC.

The password comes from a Secret (``POSTGRES_PASSWORD`` via ``secretKeyRef``); the root FS
is read-only, so the socket directory and /tmp are emptyDirs and the data directory is a
sub-directory of the PVC mount (``PGDATA``), as the official image expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from mlops_infra.component import PlatformComponent
from mlops_infra.k8s import objects
from mlops_infra.k8s.workload import ComputeResources, Container, Mount, SecretEnv, pod_spec, pod_template
from mlops_infra.spec.base import Spec
from mlops_infra.spec.types import PinnedImage

POSTGRES_PORT = 5432
POSTGRES_UID = 999  # the postgres user of the official Debian-based image
DATA_MOUNT = "/var/lib/postgresql/data"


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


@dataclass
class Postgres:
    host: pulumi.Output[str]
    port: int
    service: k8s.core.v1.Service
    stateful_set: k8s.apps.v1.StatefulSet
    claim: k8s.core.v1.PersistentVolumeClaim


def postgres(  # noqa: PLR0917 - (owner, suffix, name, namespace, labels, ...) like every helper here
    owner: PlatformComponent[Any],
    name: str,
    namespace: pulumi.Input[str],
    labels: dict[str, str],
    settings: PostgresSettings,
    password_secret: str,
    depends_on: list[pulumi.Resource],
) -> Postgres:
    """Create PostgreSQL (ServiceAccount, PVC, headless Service, StatefulSet) reading its password
    from key ``postgres-password`` of ``password_secret``."""
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
    ready = ["pg_isready", "-h", "127.0.0.1", "-U", settings.user, "-d", settings.database]
    container = Container(
        name="postgres",
        image=settings.image,
        resources=settings.resources,
        ports=[("postgres", POSTGRES_PORT)],
        env={"POSTGRES_USER": settings.user, "POSTGRES_DB": settings.database, "PGDATA": f"{DATA_MOUNT}/pgdata"},
        secret_env=[SecretEnv("POSTGRES_PASSWORD", password_secret, "postgres-password")],
        mounts=[Mount("data", {"persistentVolumeClaim": {"claimName": f"{name}-data"}}, DATA_MOUNT, read_only=False)],
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
        depends_on=[claim, *depends_on],
    )
    host = pulumi.Output.concat(name, ".", namespace, ".svc.cluster.local")
    return Postgres(host, POSTGRES_PORT, service, stateful_set, claim)
