"""NetworkPolicies: default deny in both directions, then explicit, narrow allows.

Every allow names who may talk to whom on which port: an ingress policy on the server and
the matching egress policy on its clients (with default-deny egress, both are needed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from mlops_infra.component import PlatformComponent
from mlops_infra.k8s.labels import COMPONENT, PART_OF
from mlops_infra.k8s.objects import k8s_json, metadata

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"  # set by the API server on every namespace
HTTPS = 443


def components(part_of: str, *names: str) -> dict[str, Any]:
    """A label selector for pods of the given platform components."""
    if len(names) == 1:
        return {"matchLabels": {PART_OF: part_of, COMPONENT: names[0]}}
    return {
        "matchLabels": {PART_OF: part_of},
        "matchExpressions": [{"key": COMPONENT, "operator": "In", "values": sorted(names)}],
    }


def namespaces(*names: str) -> list[dict[str, Any]]:
    """Peers: every pod of the named namespaces."""
    return [{"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: name}}} for name in sorted(names)]


def ports(*numbers: int | str, protocol: str = "TCP") -> list[dict[str, Any]]:
    return [{"port": number, "protocol": protocol} for number in numbers]


def policy(
    owner: PlatformComponent[Any],
    suffix: str,
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    *,
    pods: Mapping[str, Any],
    ingress: Sequence[Mapping[str, Any]] | None = None,
    egress: Sequence[Mapping[str, Any]] | None = None,
) -> k8s.networking.v1.NetworkPolicy:
    """A NetworkPolicy for ``pods``; the directions given (even empty) are the ones it governs."""
    types: list[str] = []
    spec: dict[str, Any] = {"podSelector": dict(pods)}
    if ingress is not None:
        types.append("Ingress")
        spec["ingress"] = [dict(rule) for rule in ingress]
    if egress is not None:
        types.append("Egress")
        spec["egress"] = [dict(rule) for rule in egress]
    spec["policyTypes"] = types
    return k8s.networking.v1.NetworkPolicy(
        owner.child_name(suffix),
        metadata=metadata(name, namespace, labels),
        spec=k8s_json(spec),
        opts=owner.child_opts(),
    )


def connection(
    owner: PlatformComponent[Any],
    suffix: str,
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    *,
    server: Mapping[str, Any],
    clients: Mapping[str, Any],
    port_list: Sequence[Mapping[str, Any]],
) -> list[k8s.networking.v1.NetworkPolicy]:
    """Allow ``clients`` to reach ``server`` on ``port_list`` (same namespace): ingress + egress policies."""
    return [
        policy(
            owner,
            f"{suffix}-ingress",
            f"{name}-in",
            namespace,
            labels,
            pods=server,
            ingress=[{"from": [{"podSelector": dict(clients)}], "ports": list(port_list)}],
        ),
        policy(
            owner,
            f"{suffix}-egress",
            f"{name}-out",
            namespace,
            labels,
            pods=clients,
            egress=[{"to": [{"podSelector": dict(server)}], "ports": list(port_list)}],
        ),
    ]


def https_egress(
    owner: PlatformComponent[Any],
    suffix: str,
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    *,
    pods: Mapping[str, Any],
    cidrs: Sequence[str],
) -> k8s.networking.v1.NetworkPolicy:
    """Egress on TCP 443 only (object storage, OIDC issuers) to ``cidrs``; plain HTTP stays blocked."""
    return policy(
        owner,
        suffix,
        name,
        namespace,
        labels,
        pods=pods,
        egress=[{"to": [{"ipBlock": {"cidr": cidr}} for cidr in cidrs], "ports": ports(HTTPS)}],
    )
