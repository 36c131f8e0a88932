"""A Kubernetes audit Policy (audit.k8s.io/v1) for the platform's namespaces.

Audit logging is cluster-level: the API server reads the policy from a file (``--audit-policy-file``)
and writes to a log or webhook backend (``--audit-log-path``, ``--audit-webhook-config-file``). A
Pulumi program of a team namespace cannot turn it on, so the platform *returns* the policy (output
``auditPolicy``) for the cluster's operators to merge into the API server's policy. Managed clusters
decide the policy themselves (EKS: enable the ``audit`` control-plane log; GKE: Cloud Audit Logs for
the Kubernetes Engine API), see docs/audit.md.

Rules, first match wins, each limited to the platform's namespaces:
- Secrets and ConfigMaps: ``Metadata`` only (who touched which object, never its content);
- RBAC Roles and RoleBindings: ``RequestResponse`` (a permission change is recorded in full);
- writes to serving, training and workload objects (KServe, Argo, batch, apps, autoscaling): ``Request``;
- ``pods/exec``, ``pods/attach``, ``pods/portforward``: ``Metadata`` (who opened a shell, and where);
- everything else in the namespaces: ``Metadata``.
Requests outside the namespaces match no rule here (the cluster's own policy decides them).
"""

from __future__ import annotations

from typing import Any, Final

import yaml

WRITE_VERBS: Final = ("create", "update", "patch", "delete", "deletecollection")
WORKLOAD_GROUPS: Final = ("serving.kserve.io", "argoproj.io", "batch", "apps", "autoscaling")


def audit_policy(namespaces: list[str]) -> dict[str, Any]:
    """The audit Policy object for ``namespaces`` (sorted, deduplicated)."""
    if not namespaces:
        raise ValueError("an audit policy for the platform needs at least one namespace")
    scope = sorted(set(namespaces))
    return {
        "apiVersion": "audit.k8s.io/v1",
        "kind": "Policy",
        "omitStages": ["RequestReceived"],
        "rules": [
            {
                "level": "Metadata",
                "namespaces": list(scope),
                "resources": [{"group": "", "resources": ["secrets", "configmaps"]}],
            },
            {
                "level": "RequestResponse",
                "namespaces": list(scope),
                "resources": [{"group": "rbac.authorization.k8s.io", "resources": ["roles", "rolebindings"]}],
            },
            {
                "level": "Request",
                "namespaces": list(scope),
                "verbs": list(WRITE_VERBS),
                "resources": [{"group": group} for group in WORKLOAD_GROUPS],
            },
            {
                "level": "Metadata",
                "namespaces": list(scope),
                "resources": [{"group": "", "resources": ["pods/exec", "pods/attach", "pods/portforward"]}],
            },
            {"level": "Metadata", "namespaces": list(scope)},
        ],
    }


def audit_policy_yaml(namespaces: list[str]) -> str:
    """The policy as the YAML file the API server's ``--audit-policy-file`` names."""
    return yaml.safe_dump(audit_policy(namespaces), sort_keys=False)
