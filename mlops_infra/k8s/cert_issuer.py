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

from mlops_infra.component import PlatformComponent
from mlops_infra.k8s.certificate import InClusterTls, IssuerRef, ServerTls, cert_manager_object

CA_DURATION = "43800h"  # the root lives 5 years
CA_RENEW_BEFORE = "8760h"  # and is renewed a year ahead


def namespace_ca(
    owner: PlatformComponent[Any], name: str, namespace: pulumi.Input[str], labels: Mapping[str, str]
) -> IssuerRef:
    """Create the chain (Issuer ``{name}-root``, Certificate ``{name}``, Issuer ``{name}``); the CA Issuer's ref."""
    root = cert_manager_object(owner, "ca-root-issuer", "Issuer", f"{name}-root", namespace, labels, {"selfSigned": {}})
    ca_spec = {
        "isCA": True,
        "commonName": f"{name} root CA",
        "secretName": name,
        "duration": CA_DURATION,
        "renewBefore": CA_RENEW_BEFORE,
        "privateKey": {"algorithm": "ECDSA", "size": 384, "rotationPolicy": "Always"},
        "usages": ["cert sign", "crl sign", "digital signature"],
        "issuerRef": IssuerRef(name=f"{name}-root").wire(),
    }
    ca = cert_manager_object(owner, "ca-certificate", "Certificate", name, namespace, labels, ca_spec, [root])
    cert_manager_object(owner, "ca-issuer", "Issuer", name, namespace, labels, {"ca": {"secretName": name}}, [ca])
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
