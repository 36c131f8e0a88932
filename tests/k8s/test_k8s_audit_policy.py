"""The audit Policy the Kubernetes platform returns: audit.k8s.io/v1 fields only, secrets never logged with bodies."""

from __future__ import annotations

import pytest
import yaml

from mlops_infra.k8s.audit_policy import audit_policy, audit_policy_yaml

# audit.k8s.io/v1 (Kubernetes API reference, "Audit Policy"): PolicyRule and GroupResources fields and levels.
RULE_FIELDS = {
    "level",
    "users",
    "userGroups",
    "verbs",
    "resources",
    "namespaces",
    "nonResourceURLs",
    "omitStages",
    "omitManagedFields",
}
GROUP_RESOURCE_FIELDS = {"group", "resources", "resourceNames"}
LEVELS = {"None", "Metadata", "Request", "RequestResponse"}
STAGES = {"RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"}


def test_policy_uses_only_audit_v1_fields() -> None:
    policy = yaml.safe_load(audit_policy_yaml(["team-b", "team-a", "team-a"]))
    assert set(policy) == {"apiVersion", "kind", "omitStages", "rules"}
    assert set(policy["omitStages"]) <= STAGES
    for rule in policy["rules"]:
        assert set(rule) <= RULE_FIELDS and rule["level"] in LEVELS
        assert rule["namespaces"] == ["team-a", "team-b"]
        for group in rule.get("resources", []):
            assert set(group) <= GROUP_RESOURCE_FIELDS
    assert "&" not in audit_policy_yaml(["team-a"])  # no YAML anchors: one plain list per rule


def test_first_matching_rule_for_secrets_logs_metadata_only_and_rbac_in_full() -> None:
    rules = audit_policy(["ml"])["rules"]

    def first(group: str, resource: str) -> str:
        for rule in rules:
            groups = rule.get("resources")
            if groups is None or any(
                g["group"] == group and ("resources" not in g or resource in g["resources"]) for g in groups
            ):
                return str(rule["level"])
        raise AssertionError(resource)

    assert first("", "secrets") == "Metadata"
    assert first("", "configmaps") == "Metadata"
    assert first("rbac.authorization.k8s.io", "rolebindings") == "RequestResponse"
    assert first("serving.kserve.io", "inferenceservices") == "Request"
    assert first("", "pods/exec") == "Metadata"
    assert rules[-1] == {"level": "Metadata", "namespaces": ["ml"]}


def test_no_namespace_is_an_error() -> None:
    with pytest.raises(ValueError, match="namespace"):
        audit_policy([])
