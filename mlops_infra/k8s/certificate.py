"""cert-manager ``Certificate`` for an in-cluster server (Redis, PostgreSQL): TLS in transit.

cert-manager (``cert-manager.io/v1``, schema vendored in tests/k8s/crd_schemas) issues the
certificate into a Secret with ``tls.crt``, ``tls.key`` and ``ca.crt``; the server mounts all three,
its clients mount only ``ca.crt`` and verify the server's name (``dnsNames`` are the Service's
in-cluster names). The private key is regenerated on every renewal (``rotationPolicy: Always``).

Servers read their certificate at start: a renewed certificate is served after the next restart
(``renew_before_hours`` is the window for it; the old certificate stays valid until then).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, model_validator

from mlops_infra.component import PlatformComponent
from mlops_infra.k8s import objects
from mlops_infra.k8s.workload import Mount
from mlops_infra.outputs import concat
from mlops_infra.spec.base import Spec

CERT_MANAGER_API = "cert-manager.io/v1"
CERT_MANAGER_GROUP = "cert-manager.io"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"
KEY_SIZES: Mapping[str, tuple[int, ...]] = {"ECDSA": (256, 384), "RSA": (2048, 3072, 4096)}
CA_FILE = "ca.crt"


class IssuerRef(Spec):
    """The cert-manager issuer that signs the platform's server certificates."""

    name: str = Field(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN)
    kind: Literal["Issuer", "ClusterIssuer"] = Field(
        "Issuer", description="Issuer: one in the workload's namespace; ClusterIssuer: a cluster-wide one."
    )

    def wire(self) -> dict[str, str]:
        return {"name": self.name, "kind": self.kind, "group": CERT_MANAGER_GROUP}


class CertificateSettings(Spec):
    """Lifetime (hours) and private key of a server certificate."""

    duration_hours: int = Field(2160, ge=24, le=8760, description="Validity of each certificate (default 90 days).")
    renew_before_hours: int = Field(
        720, ge=1, description="Renewed this long before expiry (default 30 days): the window to restart the server."
    )
    key_algorithm: Literal["ECDSA", "RSA"] = "ECDSA"
    key_size: int = Field(256, description="ECDSA: 256 or 384 (curve bits); RSA: 2048, 3072 or 4096.")

    @model_validator(mode="after")
    def _consistent(self) -> CertificateSettings:
        if self.renew_before_hours >= self.duration_hours:
            raise ValueError(
                f"renew_before_hours {self.renew_before_hours} must be less than duration_hours {self.duration_hours}"
            )
        if self.key_size not in KEY_SIZES[self.key_algorithm]:
            raise ValueError(
                f"key_size {self.key_size} is not one of {KEY_SIZES[self.key_algorithm]} for {self.key_algorithm}"
            )
        return self

    def private_key(self) -> dict[str, Any]:
        """``spec.privateKey``: a new key on every issuance, never the old one reused."""
        return {"algorithm": self.key_algorithm, "size": self.key_size, "rotationPolicy": "Always"}

    def usages(self) -> list[str]:
        """Key usages of a TLS server; RSA key exchange also needs key encipherment."""
        return ["server auth", "digital signature"] + (["key encipherment"] if self.key_algorithm == "RSA" else [])


class InClusterTls(Spec):
    """TLS between the platform's clients and its in-cluster Redis / PostgreSQL."""

    issuer: IssuerRef | None = Field(
        None,
        description="Who signs the server certificates; None: the component creates a CA in its namespace "
        "(self-signed root -> CA Issuer).",
    )
    certificate: CertificateSettings = Field(default_factory=CertificateSettings)


@dataclass(frozen=True)
class ServerTls:
    """Which issuer signs a server's certificate, and how (a server given None instead serves plaintext)."""

    issuer: IssuerRef
    settings: CertificateSettings


def service_dns_names(service: str, namespace: pulumi.Input[str]) -> list[pulumi.Input[str]]:
    """Every name a client in the cluster may use for ``service`` (so hostname verification passes)."""
    return [
        service,
        concat(service, ".", namespace),
        concat(service, ".", namespace, ".svc"),
        concat(service, ".", namespace, ".svc.cluster.local"),
    ]


def cert_manager_object(  # noqa: PLR0917 - (owner, suffix, name, namespace, labels, ...) like every helper here
    owner: PlatformComponent[Any],
    suffix: str,
    kind: Literal["Issuer", "Certificate"],
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    spec: Mapping[str, Any],
    depends_on: Sequence[pulumi.Resource] = (),
) -> k8s.apiextensions.CustomResource:
    """A namespaced ``cert-manager.io/v1`` object named ``name``."""
    return k8s.apiextensions.CustomResource(
        owner.child_name(suffix),
        api_version=CERT_MANAGER_API,
        kind=kind,
        metadata=objects.metadata(name, namespace, labels),
        spec=dict(spec),
        opts=owner.child_opts(depends_on=list(depends_on)),
    )


def certificate(
    owner: PlatformComponent[Any],
    suffix: str,
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    *,
    dns_names: Sequence[pulumi.Input[str]],
    issuer: IssuerRef,
    settings: CertificateSettings,
) -> k8s.apiextensions.CustomResource:
    """A server Certificate whose Secret is called ``name`` (keys tls.crt, tls.key, ca.crt)."""
    spec = {
        "secretName": name,
        "secretTemplate": {"labels": dict(labels)},
        "dnsNames": list(dns_names),
        "duration": f"{settings.duration_hours}h",
        "renewBefore": f"{settings.renew_before_hours}h",
        "privateKey": settings.private_key(),
        "usages": settings.usages(),
        "issuerRef": issuer.wire(),
    }
    return cert_manager_object(owner, suffix, "Certificate", name, namespace, labels, spec)


def server_certificate(  # noqa: PLR0917 - (owner, suffix, name, namespace, labels, ...) like every helper here
    owner: PlatformComponent[Any],
    suffix: str,
    service: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    tls: ServerTls,
) -> k8s.apiextensions.CustomResource:
    """The Certificate of the server behind Service ``service``, in Secret ``{service}-tls``."""
    return certificate(
        owner,
        suffix,
        f"{service}-tls",
        namespace,
        labels,
        dns_names=service_dns_names(service, namespace),
        issuer=tls.issuer,
        settings=tls.settings,
    )


def ca_mount(secret_name: pulumi.Input[str], path: str, volume_name: str = "server-ca") -> Mount:
    """A client's mount of ``ca.crt`` alone from a server certificate's Secret (never the server's key)."""
    return Mount(
        volume_name,
        {"secret": {"secretName": secret_name, "items": [{"key": CA_FILE, "path": CA_FILE}], "defaultMode": 0o444}},
        path,
    )
