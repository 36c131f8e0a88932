"""Feast on Kubernetes: Redis online store, feature server, object-storage registry and offline store.

Creates Redis (see :mod:`mlops_infra.k8s.redis`), a ConfigMap with ``feature_store.yaml`` and the
rendered ``features.py``, a feature-server Deployment and Service, a Job that runs ``feast apply``,
and with ``materialization`` a CronJob that runs ``feast materialize-incremental`` (offline store ->
Redis, only the records since the last run) on that schedule. The Job's name carries a hash of the
definitions and config, so any change creates a new Job (it reruns) and an unchanged stack leaves
the finished Job alone. Redis serves TLS only (``tls``, the default: a cert-manager Certificate);
every Feast pod mounts its ``ca.crt`` and verifies the server's certificate and name.
NetworkPolicies allow only: feature server, apply and materialization jobs and training to Redis;
the configured clients (predictor, training) to the feature server; HTTPS egress to object storage.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, field_validator, model_validator

from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.k8s import labels as lbl
from mlops_infra.k8s import network, objects
from mlops_infra.k8s.cert_issuer import server_tls
from mlops_infra.k8s.certificate import InClusterTls, IssuerRef, ca_mount
from mlops_infra.k8s.feast_repo import (
    REDIS_PASSWORD_ENV,
    Entity,
    FeatureView,
    render_config,
    render_definitions,
    validate_definitions,
)
from mlops_infra.k8s.redis import RedisSettings, redis
from mlops_infra.k8s.storage import StorageLocation
from mlops_infra.k8s.workload import ComputeResources, Container, Mount, SecretEnv, pod_spec, pod_template
from mlops_infra.outputs import concat
from mlops_infra.spec.base import Spec, StrInput
from mlops_infra.spec.schedule import Schedule
from mlops_infra.spec.types import PinnedImage

FEATURE_SERVER_PORT = 6566
REPO_DIR = "/feast/repo"
REDIS_CA_DIR = "/feast/redis-ca"
REGISTRY_MOUNT = "/feast/registry"
OFFLINE_MOUNT = "/feast/offline"


class FeatureServerSettings(Spec):
    image: PinnedImage = "feastdev/feature-server:0.40.1"
    replicas: int = Field(2, ge=1, le=50, description="Feature server pods (2+ survive a node drain).")
    resources: ComputeResources = Field(
        default_factory=lambda: ComputeResources(
            cpu_request="250m", cpu_limit="1", memory_request="512Mi", memory_limit="1Gi"
        )
    )


class FeatureStoreArgs(Spec):
    """Settings of a Feast feature store in one namespace."""

    namespace: StrInput = Field(description="Target namespace (e.g. Tenancy.namespace_name).")
    feast_project: str = Field(pattern=r"^[a-z][a-z0-9_]{0,15}$", description="Feast project id.")
    entities: list[Entity] = Field(min_length=1)
    feature_views: list[FeatureView] = Field(min_length=1)
    registry: StorageLocation = Field(description="Where the registry file lives: s3:// or gs:// URI, or a PVC.")
    offline_store: StorageLocation = Field(description="Root of the Parquet sources: s3:// or gs:// URI, or a PVC.")
    redis_password: StrInput = Field(description="Redis password (a Pulumi secret; plain strings are wrapped).")
    redis: RedisSettings = Field(default_factory=RedisSettings)
    tls: InClusterTls | None = Field(
        default_factory=InClusterTls,
        description="TLS to Redis (cert-manager certificate); None turns it off: plaintext, dev only.",
    )
    feature_server: FeatureServerSettings = Field(default_factory=FeatureServerSettings)
    clients: list[str] = Field(
        default_factory=lambda: [lbl.PREDICTOR, lbl.TRAINING],
        description="Platform components allowed to call the feature server.",
    )
    https_egress_cidrs: list[str] = Field(
        default_factory=lambda: ["0.0.0.0/0"], min_length=1, description="Where object storage may be reached on 443."
    )
    service_account_annotations: dict[str, str] = Field(
        default_factory=dict, description="Workload identity for object storage (IRSA or GKE annotations)."
    )
    materialization: Schedule | None = Field(
        None,
        description="Run feast materialize-incremental (offline store -> Redis) on this schedule; None: never "
        "(the online store is only what clients push).",
    )
    materialization_deadline_seconds: int = Field(
        3600, ge=60, le=86_400, description="A materialization run is stopped after this many seconds."
    )

    @field_validator("redis_password")
    @classmethod
    def _strong_enough(cls, value: StrInput) -> StrInput:
        if isinstance(value, str) and len(value) < 16:
            raise ValueError("must be at least 16 characters (pass a Pulumi secret from stack config)")
        return value

    @model_validator(mode="after")
    def _definitions(self) -> FeatureStoreArgs:
        validate_definitions(self.entities, self.feature_views)
        return self


class FeatureStore(PlatformComponent[FeatureStoreArgs]):
    """Feast with a Redis online store, a feature server and a ``feast apply`` Job that reruns on change."""

    TYPE_TOKEN = "mlops-infra:k8s:FeatureStore"
    ARGS = FeatureStoreArgs

    def __init__(
        self,
        name: str,
        args: FeatureStoreArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        ns = a.namespace
        base = self.platform.name(name, naming.K8S_LABEL_NAME)
        part_of = self.platform.settings.project

        def labels(app: str, component: str) -> dict[str, str]:
            return lbl.standard_labels(app, base, component, part_of)

        redis_labels = labels("redis", lbl.ONLINE_STORE)
        tls = server_tls(self, a.tls, f"{base}-ca", ns, labels("cert-manager", "tls"))
        self.tls_issuer: IssuerRef | None = tls.issuer if tls else None
        self.redis = redis(self, f"{base}-redis", ns, redis_labels, a.redis, a.redis_password, tls)

        mounts: list[Mount] = []
        ca_file = None
        if self.redis.tls_secret_name:
            mounts.append(ca_mount(self.redis.tls_secret_name, REDIS_CA_DIR, "redis-ca"))
            ca_file = f"{REDIS_CA_DIR}/ca.crt"
        registry_path = a.registry.uri or f"{REGISTRY_MOUNT}/registry.db"
        offline_root = a.offline_store.uri or OFFLINE_MOUNT
        for suffix, location, path in (
            ("registry", a.registry, REGISTRY_MOUNT),
            ("offline", a.offline_store, OFFLINE_MOUNT),
        ):
            if location.pvc_size:
                claim = objects.persistent_volume_claim(
                    self,
                    f"{suffix}-data",
                    f"{base}-{suffix}",
                    ns,
                    labels("feast", suffix),
                    size=location.pvc_size,
                    storage_class=location.storage_class,
                    access_mode="ReadWriteMany",
                )
                mounts.append(
                    Mount(
                        suffix, {"persistentVolumeClaim": {"claimName": objects.name_of(claim)}}, path, read_only=False
                    )
                )

        definitions = render_definitions(a.feast_project, a.entities, a.feature_views, offline_root)
        config_template = render_config(
            a.feast_project, registry_path, f"{base}-redis.<namespace>.svc.cluster.local", 6379, ca_file
        )
        self.definitions_hash: str = hashlib.sha256((definitions + config_template).encode()).hexdigest()[:8]
        config = self.redis.host.apply(
            lambda host: render_config(a.feast_project, registry_path, host, self.redis.port, ca_file)
        )
        self.repo = k8s.core.v1.ConfigMap(
            self.child_name("repo"),
            metadata=objects.metadata(f"{base}-repo", ns, labels("feast", lbl.FEATURE_SERVER)),
            data={"feature_store.yaml": config, "features.py": definitions},
            opts=self.child_opts(),
        )
        mounts.append(Mount("repo", {"configMap": {"name": f"{base}-repo"}}, REPO_DIR))
        self.service_account = objects.service_account(
            self,
            "feast-sa",
            f"{base}-feast",
            ns,
            labels("feast", lbl.FEATURE_SERVER),
            annotations=a.service_account_annotations,
        )
        sa_name = objects.name_of(self.service_account)
        password = SecretEnv(REDIS_PASSWORD_ENV, self.redis.secret_name, "password")
        env = {"HOME": "/tmp", "FEAST_USAGE": "False"}  # noqa: S108 - /tmp is the emptyDir scratch mount

        server_labels = labels("feast", lbl.FEATURE_SERVER)
        server = Container(
            name="feature-server",
            image=a.feature_server.image,
            resources=a.feature_server.resources,
            command=["feast", "--chdir", REPO_DIR, "serve", "--host", "0.0.0.0", "--port", str(FEATURE_SERVER_PORT)],  # noqa: S104
            ports=[("http", FEATURE_SERVER_PORT)],
            env=env,
            secret_env=[password],
            mounts=mounts,
            readiness_probe={"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 10},
            liveness_probe={
                "httpGet": {"path": "/health", "port": "http"},
                "initialDelaySeconds": 30,
                "periodSeconds": 20,
            },
        )
        template = pod_template(
            server_labels,
            pod_spec([server], service_account_name=sa_name),
            annotations={"mlops-infra/definitions-hash": self.definitions_hash},
        )
        self.deployment = objects.deployment(
            self,
            "feature-server",
            f"{base}-server",
            ns,
            server_labels,
            template,
            replicas=a.feature_server.replicas,
            depends_on=[self.repo, self.redis.stateful_set],
        )
        self.service = objects.service(
            self, "feature-server-service", f"{base}-server", ns, server_labels, [("http", 80, "http")]
        )

        apply_labels = labels("feast", lbl.FEATURE_APPLY)
        job_name = self.platform.versioned_name(f"{name}-apply", definitions + config_template, naming.K8S_LABEL_NAME)
        apply = Container(
            name="feast-apply",
            image=a.feature_server.image,
            resources=a.feature_server.resources,
            command=["feast", "--chdir", REPO_DIR, "apply"],
            env=env,
            secret_env=[password],
            mounts=mounts,
        )
        self.apply_job = k8s.batch.v1.Job(
            self.child_name(f"apply-{self.definitions_hash}"),
            metadata=objects.metadata(job_name, ns, apply_labels),
            spec=objects.k8s_json(
                {
                    "backoffLimit": 2,
                    "activeDeadlineSeconds": 900,
                    "template": pod_template(
                        apply_labels, pod_spec([apply], service_account_name=sa_name, restart_policy="Never")
                    ),
                }
            ),
            opts=self.child_opts(depends_on=[self.repo, self.redis.stateful_set]),
        )
        self.materialization: k8s.batch.v1.CronJob | None = None
        if a.materialization is not None:
            self.materialization = self._materialization(
                ns, labels("feast", lbl.FEATURE_MATERIALIZE), a.materialization, mounts, env, password, sa_name
            )
        self.network_policies = self._network_policies(ns, server_labels, part_of)
        self.feature_server_url: pulumi.Output[str] = concat("http://", f"{base}-server.", ns, ".svc.cluster.local")
        self.register_outputs(
            {
                "feature_server_url": self.feature_server_url,
                "redis_host": self.redis.host,
                "apply_job": job_name,
                "definitions_hash": self.definitions_hash,
                "materialization_schedule": a.materialization.cron if a.materialization else None,
            }
        )

    def _materialization(  # noqa: PLR0917 - the CronJob shares the apply job's mounts, env and identity
        self,
        ns: StrInput,
        job_labels: dict[str, str],
        schedule: Schedule,
        mounts: list[Mount],
        env: dict[str, str],
        password: SecretEnv,
        sa_name: pulumi.Output[str],
    ) -> k8s.batch.v1.CronJob:
        """``feast materialize-incremental <now>``: each run loads what arrived since the previous one."""
        a = self.args
        name = self.platform.name(f"{self.logical_name}-materialize", naming.K8S_LABEL_NAME)[:52].rstrip("-")
        container = Container(
            name="feast-materialize",
            image=a.feature_server.image,
            resources=a.feature_server.resources,
            command=[
                "/bin/sh",
                "-c",
                f'exec feast --chdir {REPO_DIR} materialize-incremental "$(date -u +%Y-%m-%dT%H:%M:%S)"',
            ],
            env=env,
            secret_env=[password],
            mounts=mounts,
        )
        spec = pod_spec([container], service_account_name=sa_name, restart_policy="Never")
        return k8s.batch.v1.CronJob(
            self.child_name("materialize"),
            metadata=objects.metadata(name, ns, job_labels),
            spec=objects.k8s_json(
                {
                    "schedule": schedule.cron,
                    "timeZone": schedule.time_zone,
                    "concurrencyPolicy": "Forbid",  # incremental: two runs at once would load the same window
                    "startingDeadlineSeconds": 600,
                    "successfulJobsHistoryLimit": 1,
                    "failedJobsHistoryLimit": 3,
                    "jobTemplate": {
                        "metadata": {"labels": job_labels},
                        "spec": {
                            "backoffLimit": 2,
                            "activeDeadlineSeconds": a.materialization_deadline_seconds,
                            "ttlSecondsAfterFinished": 86_400,
                            "template": pod_template(job_labels, spec),
                        },
                    },
                }
            ),
            opts=self.child_opts(depends_on=[self.apply_job]),
        )

    def _network_policies(
        self, ns: StrInput, policy_labels: dict[str, str], part_of: str
    ) -> list[k8s.networking.v1.NetworkPolicy]:
        a = self.args
        base = self.platform.name(self.logical_name, naming.K8S_LABEL_NAME)
        policies = network.connection(
            self,
            "allow-redis",
            f"{base}-redis",
            ns,
            policy_labels,
            server=network.components(part_of, lbl.ONLINE_STORE),
            clients=network.components(
                part_of, lbl.FEATURE_SERVER, lbl.FEATURE_APPLY, lbl.FEATURE_MATERIALIZE, lbl.TRAINING
            ),
            port_list=network.ports(6379),
        )
        policies += network.connection(
            self,
            "allow-feature-server",
            f"{base}-server",
            ns,
            policy_labels,
            server=network.components(part_of, lbl.FEATURE_SERVER),
            clients=network.components(part_of, *a.clients),
            port_list=network.ports(FEATURE_SERVER_PORT),
        )
        policies.append(
            network.https_egress(
                self,
                "allow-object-storage",
                f"{base}-object-storage",
                ns,
                policy_labels,
                pods=network.components(part_of, lbl.FEATURE_SERVER, lbl.FEATURE_APPLY, lbl.FEATURE_MATERIALIZE),
                cidrs=a.https_egress_cidrs,
            )
        )
        return policies
