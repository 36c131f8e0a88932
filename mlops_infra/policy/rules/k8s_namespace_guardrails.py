"""k8s-namespace-guardrails: a ResourceQuota (CPU, memory, GPUs), a LimitRange and a default-deny
NetworkPolicy in every namespace the stack creates (stack-level)."""

from __future__ import annotations

from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.stack_rules import (
    LIMIT_RANGE_TYPE,
    NAMESPACE_TYPE,
    NETWORK_POLICY_TYPE,
    QUOTA_TYPE,
    namespace_guardrails,
)

ID = "k8s-namespace-guardrails"

SPEC = PolicySpec(
    id=ID,
    title="Every namespace has a quota with a GPU cap, a LimitRange and a default-deny NetworkPolicy",
    description=(
        "Each kubernetes:core/v1:Namespace in the stack has a ResourceQuota whose spec.hard caps CPU, memory and "
        "GPUs (any *gpu* extended resource), a LimitRange, and a NetworkPolicy selecting every pod "
        "(podSelector {}) with policyTypes Ingress and no ingress rules."
    ),
    remediation="Use mlops_infra.k8s tenancy (namespace with quota, limits and default-deny) or add the three objects.",
    resource_types={"kubernetes": (NAMESPACE_TYPE, QUOTA_TYPE, LIMIT_RANGE_TYPE, NETWORK_POLICY_TYPE)},
    stack_check=namespace_guardrails,
)
