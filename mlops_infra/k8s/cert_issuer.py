"""A namespace's own certificate authority in cert-manager: self-signed root -> CA ``Issuer``.

cert-manager bootstraps a CA without any outside PKI: a ``selfSigned`` Issuer signs one CA
Certificate (its key never leaves the namespace's Secret), and a ``ca`` Issuer signs the servers'
certificates with it. Clients trust ``ca.crt``, which cert-manager copies into every issued Secret.
Use a ``ClusterIssuer`` instead (``IssuerRef(kind="ClusterIssuer")``) to chain to your own PKI.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from mlops_infra.component import PlatformComponent
from mlops_infra.k8s import objects
from mlops_infra.k8s.certificate import CERT_MANAGER_API, InClusterTls, IssuerRef, ServerTls

CA_DURATION = "43800h"  # the root lives 5 years
CA_RENEW_BEFORE = "8760h"  # and is renewed a year ahead


def _issuer(  # noqa: PLR0917 - (owner, suffix, name, namespace, labels, ...) like every helper here
    owner: PlatformComponent[Any],
    suffix: str,
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    spec: Mapping[str, Any],
    depends_on: list[pulumi.Resource],
) -> k8s.apiextensions.CustomResource:
    return k8s.apiextensions.CustomResource(
        owner.child_name(suffix),
        api_version=CERT_MANAGER_API,
        kind="Issuer",
        metadata=objects.metadata(name, namespace, labels),
        spec=dict(spec),
        opts=owner.child_opts(depends_on=depends_on),
    )


def namespace_ca(
    owner: PlatformComponent[Any], name: str, namespace: pulumi.Input[str], labels: Mapping[str, str]
) -> IssuerRef:
    """Create the chain (Issuer ``{name}-root``, Certificate ``{name}``, Issuer ``{name}``); the CA Issuer's ref."""
    root = _issuer(owner, "ca-root-issuer", f"{name}-root", namespace, labels, {"selfSigned": {}}, [])
    ca_certificate = k8s.apiextensions.CustomResource(
        owner.child_name("ca-certificate"),
        api_version=CERT_MANAGER_API,
        kind="Certificate",
        metadata=objects.metadata(name, namespace, labels),
        spec={
            "isCA": True,
            "commonName": f"{name} root CA",
            "secretName": name,
            "duration": CA_DURATION,
            "renewBefore": CA_RENEW_BEFORE,
            "privateKey": {"algorithm": "ECDSA", "size": 384, "rotationPolicy": "Always"},
            "usages": ["cert sign", "crl sign", "digital signature"],
            "issuerRef": IssuerRef(name=f"{name}-root").wire(),
        },
        opts=owner.child_opts(depends_on=[root]),
    )
    _issuer(owner, "ca-issuer", name, namespace, labels, {"ca": {"secretName": name}}, [ca_certificate])
    return IssuerRef(name=name)


def server_tls(
    owner: PlatformComponent[Any],
    tls: InClusterTls | None,
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
) -> ServerTls | None:
    """How a component's server gets its certificate: ``tls.issuer``, else a CA ``name`` created here; None: off."""
    if tls is None:
        return None
    return ServerTls(tls.issuer or namespace_ca(owner, name, namespace, labels), tls.certificate)
