"""What only Kubernetes needs to realize a platform spec (no provider import: plain data).

Secrets (Redis, PostgreSQL, OIDC client and cookie secrets) are never part of the spec: the
realization reads them from the stack's secret config (see ``mlops_infra.k8s.realize``).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, field_validator, model_validator

from mlops_infra.spec.base import Spec, Switch
from mlops_infra.spec.schedule import check_time_zone
from mlops_infra.spec.types import ObjectUri, check_key_ref, check_object_uri

DNS_LABEL = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"
_CPU = re.compile(r"^(?:[0-9]+m|[0-9]+(?:\.[0-9]+)?)$")
_MEMORY = re.compile(r"^[0-9]+(?:\.[0-9]+)?(?:Ki|Mi|Gi|Ti)$")
_ANNOTATION_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def check_data_uri(value: str) -> str:
    """An ``s3://`` or ``gs://`` URI without whitespace, quotes or backslashes (it is rendered into configs)."""
    check_object_uri(value, ("s3", "gs"))
    if re.search(r"[\s\"'\\]", value):
        raise ValueError(f"{value!r} has whitespace, a quote or a backslash in its path")
    return value


DataUri = Annotated[str, AfterValidator(check_data_uri)]
"""An ``s3://`` or ``gs://`` prefix (Feast and MLflow reach it with the workload identity)."""


def check_cpu(value: str) -> str:
    """A CPU quantity in cores (``16``) or millicores (``500m``)."""
    if not _CPU.fullmatch(value):
        raise ValueError(f"{value!r} is not a CPU quantity like '16' or '500m'")
    return value


def check_memory(value: str) -> str:
    """A memory quantity with a binary suffix (``64Gi``)."""
    if not _MEMORY.fullmatch(value):
        raise ValueError(f"{value!r} is not a memory quantity like '64Gi'")
    return value


class K8sQuota(Spec):
    """The namespace's ResourceQuota ceiling: CPU in cores, memory in bytes (binary suffix), GPUs."""

    requests_cpu: Annotated[str, AfterValidator(check_cpu)] = "16"
    limits_cpu: Annotated[str, AfterValidator(check_cpu)] = "32"
    requests_memory: Annotated[str, AfterValidator(check_memory)] = "64Gi"
    limits_memory: Annotated[str, AfterValidator(check_memory)] = "128Gi"
    gpus: int | None = Field(
        None, ge=0, le=512, description="nvidia.com/gpu ceiling; None: what training and the endpoints ask for."
    )


class TrafficRouter(StrEnum):
    """What splits (A/B) or mirrors (shadow) an endpoint's traffic between its champion and challenger."""

    GATEWAY_API = "gateway_api"
    """A Gateway API ``HTTPRoute`` bound to the endpoint's Service (mesh mode, GAMMA): weights and RequestMirror."""
    ISTIO = "istio"
    """An Istio ``VirtualService`` for the endpoint's Service host: route weights, mirror and mirrorPercentage."""


class ServingBackend(StrEnum):
    """What serves the platform's endpoints on Kubernetes (docs/components/k8s-seldon.md compares them)."""

    KSERVE = "kserve"
    """KServe InferenceServices (Apache 2.0): Knative or Standard mode, canary rollouts, payload logger."""
    SELDON = "seldon"
    """Seldon Core v2 Model + Server (+ Experiment for a challenger). Business Source License 1.1 since
    Seldon Core v2.7.0: production use needs a commercial licence from Seldon (non-profit education excepted)."""


class VolumeProvisioner(StrEnum):
    """The CSI driver that provisions the platform's encrypted volumes."""

    AWS_EBS = "aws-ebs"
    """EBS CSI driver (ebs.csi.aws.com): ``encrypted: "true"`` + ``kmsKeyId`` (a KMS key ARN)."""
    GCE_PD = "gce-pd"
    """GCE persistent disk CSI driver (pd.csi.storage.gke.io): ``disk-encryption-kms-key`` (a Cloud KMS key)."""


def check_volume_key(provisioner: VolumeProvisioner, kms_key: str) -> None:
    """``kms_key`` is a customer-managed key of the kind the CSI driver takes; ValueError naming the driver if not.

    The one check for the platform spec (``k8s.storage``) and the EncryptedStorageClass component.
    """
    check_key_ref(kms_key)
    if kms_key.startswith("arn:") != (provisioner is VolumeProvisioner.AWS_EBS):
        wanted = "a KMS key ARN" if provisioner is VolumeProvisioner.AWS_EBS else "a Cloud KMS key name"
        raise ValueError(f"kms_key of provisioner {provisioner.value} must be {wanted}")


class K8sStorage(Spec):
    """The encrypted StorageClass every PersistentVolumeClaim of the platform uses.

    Either the platform creates one (``provisioner`` + ``kms_key``), or it uses an existing class
    by name (``existing_class``; list it in the policy config's ``encryptedStorageClasses`` so
    ``encryption-at-rest`` knows it is encrypted). Exactly one of the two.
    """

    provisioner: VolumeProvisioner | None = Field(None, description="Create a class on this CSI driver.")
    kms_key: str | None = Field(
        None,
        description="Customer-managed key of the created class: a KMS key ARN (aws-ebs) or a Cloud KMS crypto key "
        "name projects/P/locations/L/keyRings/R/cryptoKeys/K (gce-pd).",
    )
    existing_class: str | None = Field(
        None, pattern=DNS_SUBDOMAIN, description="Use this existing encrypted StorageClass instead of creating one."
    )

    @model_validator(mode="after")
    def _one_source(self) -> K8sStorage:
        if (self.provisioner is None) == (self.existing_class is None):
            raise ValueError("set exactly one of provisioner (with kms_key) and existing_class")
        if self.existing_class is not None and self.kms_key is not None:
            raise ValueError("kms_key belongs to a created class (provisioner); an existing_class carries its own")
        if self.provisioner is not None:
            if self.kms_key is None:
                raise ValueError(f"provisioner {self.provisioner.value} needs kms_key (the customer-managed key)")
            check_volume_key(self.provisioner, self.kms_key)
        return self


class K8sKubeflow(Spec):
    """Kubeflow Pipelines (``training.orchestrator: kubeflow``): what the KFP installation needs from the spec."""

    command: list[str] = Field(
        min_length=1,
        description="The training image's command (KFP's launcher replaces the image entrypoint; the image needs "
        "/bin/sh).",
    )
    controller_time_zone: str = Field(
        "UTC",
        description="The installation's cronScheduleTimezone: KFP reads every recurring run's cron in this one zone, "
        "so training.schedule.time_zone must equal it.",
    )
    experiment_id: str | None = Field(None, description="KFP experiment of the runs; None: the default experiment.")
    artifact_secret: str = Field(
        "mlpipeline-minio-artifact", pattern=DNS_SUBDOMAIN, description="Secret of KFP's artifact store credentials."
    )

    @field_validator("controller_time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_time_zone(value)


class K8sPlatformSpec(Spec):
    """Kubernetes-only settings of a platform."""

    model_store_uri: ObjectUri | None = Field(
        None, description="Where relative model artifacts are read from (s3://, gs:// or pvc://)."
    )
    team: str | None = Field(
        None,
        min_length=1,
        max_length=30,
        pattern=DNS_LABEL,
        description="Team id; the namespace is {project}-{environment}-{team}. None: the registry's model name.",
    )
    data_uri: DataUri | None = Field(
        None,
        description="s3:// or gs:// prefix for Feast's registry and offline store and MLflow's artifacts; "
        "None: PersistentVolumeClaims in the namespace.",
    )
    oidc_issuer_url: str | None = Field(
        None, description="https:// OIDC issuer that MLflow's login (oauth2-proxy) trusts; required."
    )
    argo_enabled: Switch = Field(False, description="Argo CronWorkflow + WorkflowTemplate instead of CronJobs.")
    kubeflow: K8sKubeflow | None = Field(
        None, description="Kubeflow Pipelines settings; required with training.orchestrator kubeflow."
    )
    traffic_router: TrafficRouter = Field(
        TrafficRouter.GATEWAY_API,
        description="What routes an endpoint's challenger traffic (A/B weights, shadow mirror): gateway_api "
        "(HTTPRoute on the endpoint's Service, needs a GAMMA mesh) or istio (VirtualService).",
    )
    serving_backend: ServingBackend = Field(
        ServingBackend.KSERVE,
        description="kserve (KServe InferenceServices) or seldon (Seldon Core v2, Business Source License 1.1: "
        "production use needs a commercial licence from Seldon); seldon realizes no scale to zero, gradual rollout "
        "or payload capture (docs/components/k8s-seldon.md).",
    )
    workload_identity: dict[str, str] = Field(
        default_factory=dict,
        description="ServiceAccount annotations for object storage (IRSA role ARN, GKE service account).",
    )
    quota: K8sQuota = Field(default_factory=K8sQuota)
    storage: K8sStorage | None = Field(
        None,
        description="The encrypted StorageClass of every PVC (created or existing); required in protected "
        "environments. None: the cluster's default class (dev only).",
    )
    in_cluster_tls: Switch = Field(
        True,
        description="TLS between the platform's clients and its in-cluster Redis and PostgreSQL (cert-manager "
        "certificates, TLS-only servers); false (plaintext) is refused in protected environments.",
    )
    cluster_issuer: str | None = Field(
        None,
        pattern=DNS_SUBDOMAIN,
        max_length=253,
        description="cert-manager ClusterIssuer that signs the in-cluster servers' certificates; None: a CA of the "
        "namespace's own (self-signed root -> CA Issuer).",
    )
    capture_sink_url: str | None = Field(
        None,
        description="http(s) sink KServe's logger posts captures to; None: the namespace's drift detector "
        "when drift monitoring is on, else the namespace's Knative broker (broker-ingress.knative-eventing).",
    )
    drift_metric: str = Field(
        "model_feature_drift_score",
        pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$",
        description="Prometheus metric the drift detector exports (per namespace, model and feature).",
    )
    prometheus_selector_labels: dict[str, str] = Field(
        default_factory=dict, description="Labels Prometheus selects rules and monitors by (release: ...)."
    )
    prometheus_url: str | None = Field(
        None,
        pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$",
        description="Prometheus HTTP API the canary guards read (default: kube-prometheus-stack's in-cluster service).",
    )
    install_prerequisites: Switch = Field(
        False,
        description="Install what the platform needs in the cluster at pinned chart versions "
        "(docs/k8s-prerequisites.md): KServe, cert-manager, Istio (+ Gateway API CRDs for gateway_api), OpenCost, "
        "kube-prometheus-stack unless existing_prometheus, Knative Serving when an endpoint runs in Knative mode, "
        "Argo with argo_enabled. Cluster-wide: opt in from one stack per cluster.",
    )
    existing_prometheus: Switch = Field(
        False,
        description="The cluster already runs Prometheus with prometheus-operator: install_prerequisites skips "
        "kube-prometheus-stack, and OpenCost and the canary guards read prometheus_url.",
    )

    @model_validator(mode="after")
    def _existing_prometheus(self) -> K8sPlatformSpec:
        if self.existing_prometheus and not self.install_prerequisites:
            raise ValueError(
                "existing_prometheus only changes what install_prerequisites installs: set both or neither"
            )
        if self.existing_prometheus and self.prometheus_url is None:
            raise ValueError("existing_prometheus needs prometheus_url (OpenCost and the canary guards read it)")
        return self

    @model_validator(mode="after")
    def _issuer_needs_tls(self) -> K8sPlatformSpec:
        if self.cluster_issuer is not None and not self.in_cluster_tls:
            raise ValueError("cluster_issuer signs the in-cluster TLS certificates: it needs in_cluster_tls: true")
        return self

    @field_validator("oidc_issuer_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
            raise ValueError(f"{value!r} must be an https:// URL without credentials")
        return value

    @field_validator("workload_identity")
    @classmethod
    def _annotation_keys(cls, values: dict[str, str]) -> dict[str, str]:
        for key in values:
            if not _ANNOTATION_KEY.fullmatch(key) or len(key) > 316:
                raise ValueError(f"{key!r} is not an annotation key")
        return values
