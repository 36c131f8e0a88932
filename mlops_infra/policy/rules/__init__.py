"""The rule registry: one module per policy id, each exporting ``SPEC``."""

from __future__ import annotations

from mlops_infra.policy.rules import (
    alert_routing,
    allowed_instance_types,
    audit_logging,
    budget_required,
    cost_budget,
    data_capture,
    deletion_protection,
    deployment_safety,
    encryption_at_rest,
    encryption_in_transit,
    helm_chart_pinned,
    k8s_namespace_guardrails,
    k8s_pod_security,
    key_rotation,
    least_privilege_iam,
    log_retention,
    model_approval,
    monitoring_required,
    network_isolation,
    no_public_access,
    required_tags,
)
from mlops_infra.policy.spec import PolicySpec

_MODULES = (
    encryption_at_rest,
    key_rotation,
    encryption_in_transit,
    required_tags,
    no_public_access,
    network_isolation,
    least_privilege_iam,
    data_capture,
    model_approval,
    deletion_protection,
    deployment_safety,
    monitoring_required,
    alert_routing,
    allowed_instance_types,
    budget_required,
    cost_budget,
    k8s_pod_security,
    k8s_namespace_guardrails,
    log_retention,
    audit_logging,
    helm_chart_pinned,
)

REGISTRY: dict[str, PolicySpec] = {module.SPEC.id: module.SPEC for module in _MODULES}

__all__ = ["REGISTRY"]
