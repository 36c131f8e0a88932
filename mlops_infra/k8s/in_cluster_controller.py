"""What an in-cluster controller pod of the platform needs, built one way (CanaryGuard, DriftDetector).

A controller is a stdlib Python script shipped in a ConfigMap, with its own state ConfigMap that
only it writes, a ServiceAccount bound to a least-privilege Role, an expiring projected API token
mounted in its container only (the pod automounts none), and egress to cluster DNS and the API
server. The workload carries :data:`API_CLIENT_ANNOTATIONS`, the reviewable statement that it calls
the API (the k8s-pod-security policy admits an API token only there).
"""

from __future__ import annotations

from typing import Any

import pulumi_kubernetes as k8s

from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.conventions.markers import USES_KUBERNETES_API_MARKER
from mlops_infra.k8s import network, objects
from mlops_infra.k8s.workload import Mount
from mlops_infra.spec.base import StrInput

STATE_KEY = "state.json"
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
API_CLIENT_ANNOTATIONS = {USES_KUBERNETES_API_MARKER: "true"}  # on the controller's workload object
TOKEN_SECONDS = 600  # the projected token expires ten minutes after the kubelet issues it; scripts re-read it
API_SERVER_PORTS = (443, 6443)
# Leaves room for the "-script" / "-state" / "-egress" suffixes within a 63-character DNS label, and for the
# 11-character suffix Kubernetes appends to a CronJob's Jobs.
BASE_NAME = naming.NameRule(52, r"a-z0-9-", lowercase=True)


def script_and_state(
    component: PlatformComponent[Any],
    base: str,
    namespace: StrInput,
    labels: dict[str, str],
    *,
    script_key: str,
    source: str,
) -> tuple[k8s.core.v1.ConfigMap, k8s.core.v1.ConfigMap]:
    """The ConfigMap ``{base}-script`` with the controller, and ``{base}-state`` that only the controller writes.

    Pulumi creates the state map and leaves its data alone (``ignore_changes``).
    """
    script = k8s.core.v1.ConfigMap(
        component.child_name("script"),
        metadata=objects.metadata(f"{base}-script", namespace, labels),
        data={script_key: source},
        opts=component.child_opts(),
    )
    state = k8s.core.v1.ConfigMap(
        component.child_name("state"),
        metadata=objects.metadata(f"{base}-state", namespace, labels),
        data={STATE_KEY: "{}"},
        opts=component.child_opts(ignore_changes=["data"]),
    )
    return script, state


def identity(
    component: PlatformComponent[Any],
    base: str,
    namespace: StrInput,
    labels: dict[str, str],
    rules: list[dict[str, Any]],
    *,
    annotations: dict[str, str] | None = None,
) -> tuple[k8s.core.v1.ServiceAccount, k8s.rbac.v1.Role, k8s.rbac.v1.RoleBinding]:
    """The controller's ServiceAccount (with ``annotations``, e.g. workload identity), its Role (exactly
    ``rules``) and the binding, all named ``base``."""
    service_account = objects.service_account(component, "sa", base, namespace, labels, annotations=annotations)
    role = k8s.rbac.v1.Role(
        component.child_name("role"),
        metadata=objects.metadata(base, namespace, labels),
        rules=objects.k8s_json(rules),
        opts=component.child_opts(),
    )
    binding = k8s.rbac.v1.RoleBinding(
        component.child_name("binding"),
        metadata=objects.metadata(base, namespace, labels),
        role_ref=objects.k8s_json({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": base}),
        subjects=objects.k8s_json([{"kind": "ServiceAccount", "name": base, "namespace": namespace}]),
        opts=component.child_opts(depends_on=[role, service_account]),
    )
    return service_account, role, binding


def script_mount(base: str, script_dir: str) -> Mount:
    """The script ConfigMap, read-only, at ``script_dir``."""
    return Mount("script", {"configMap": {"name": f"{base}-script", "defaultMode": 0o444}}, script_dir)


def api_token_mount() -> Mount:
    """An expiring projected token and the cluster CA, in this container only, rotated by the kubelet."""
    return Mount(
        "api-token",
        {
            "projected": {
                "defaultMode": 0o444,
                "sources": [
                    {"serviceAccountToken": {"path": "token", "expirationSeconds": TOKEN_SECONDS}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                ],
            }
        },
        SERVICE_ACCOUNT_DIR,
    )


def dns_and_api_egress(api_server_cidrs: list[str]) -> list[dict[str, Any]]:
    """Egress rules to kube-dns (UDP and TCP 53) and to the API server's addresses on 443/6443."""
    return [
        {
            "to": [
                {
                    "namespaceSelector": {"matchLabels": {network.NAMESPACE_NAME_LABEL: "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": network.ports(53, protocol="UDP") + network.ports(53),
        },
        {
            "to": [{"ipBlock": {"cidr": cidr}} for cidr in api_server_cidrs],
            "ports": network.ports(*API_SERVER_PORTS),
        },
    ]
