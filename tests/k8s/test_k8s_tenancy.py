"""Tenancy: namespace, quota (incl. GPUs), LimitRange, default-deny network, persona RBAC."""

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_infra.engine import ProgramError
from mlops_infra.k8s import Tenancy, TenancyArgs
from mlops_infra.k8s.personas import PERSONAS
from mlops_infra.testing import one, plan, required_tags_present

NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


@pytest.fixture(scope="module")
def stack():
    return plan(
        lambda: Tenancy("team", {"team": "churn-ml", "quota": {"gpus": 4}, "service_accounts": ["notebooks"]}),
        environment="prod",
    )


def test_namespace_is_labelled_and_enforces_restricted_pods(stack):
    ns = one(stack, "kubernetes:core/v1:Namespace")
    labels = ns.inputs["metadata"]["labels"]
    assert ns.inputs["metadata"]["name"] == "churn-prod-churn-ml"
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["mlops-infra/team"] == "churn-ml"
    assert required_tags_present(stack) == []
    component = one(stack, "mlops-infra:k8s:Tenancy")
    assert all(r.parent == component.urn for r in stack.custom_resources())


def test_quota_covers_compute_storage_and_gpus(stack):
    hard = one(stack, "kubernetes:core/v1:ResourceQuota").inputs["spec"]["hard"]
    assert hard == {
        "requests.cpu": "16",
        "limits.cpu": "32",
        "requests.memory": "64Gi",
        "limits.memory": "128Gi",
        "pods": "50",
        "requests.storage": "500Gi",
        "persistentvolumeclaims": "20",
        "requests.nvidia.com/gpu": "4",
        "services.loadbalancers": "0",
        "services.nodeports": "0",
    }


def test_default_quota_forbids_gpus():
    stack = plan(lambda: Tenancy("team", {"team": "t"}))
    assert one(stack, "kubernetes:core/v1:ResourceQuota").inputs["spec"]["hard"]["requests.nvidia.com/gpu"] == "0"


def test_limit_range_gives_every_container_defaults(stack):
    limits = one(stack, "kubernetes:core/v1:LimitRange").inputs["spec"]["limits"]
    container = next(item for item in limits if item["type"] == "Container")
    assert container["default"] == {"cpu": "500m", "memory": "512Mi"}
    assert container["defaultRequest"] == {"cpu": "100m", "memory": "128Mi"}
    assert container["max"] == {"cpu": "16", "memory": "64Gi"}
    claim = next(item for item in limits if item["type"] == "PersistentVolumeClaim")
    assert claim["max"] == {"storage": "200Gi"}


def test_default_deny_both_directions_then_dns_only(stack):
    policies = {p.inputs["metadata"]["name"]: p.inputs["spec"] for p in stack.by_type(NETPOL)}
    deny = policies["default-deny-all"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [], "egress": []}
    dns = policies["allow-dns-egress"]
    assert dns["policyTypes"] == ["Egress"] and dns["podSelector"] == {}
    (rule,) = dns["egress"]
    assert rule["to"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}
    assert rule["to"][0]["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
    assert sorted((p["protocol"], p["port"]) for p in rule["ports"]) == [("TCP", 53), ("UDP", 53)]


def _rules(stack, persona):
    role = next(
        r
        for r in stack.by_type("kubernetes:rbac.authorization.k8s.io/v1:Role")
        if r.inputs["metadata"]["name"] == f"churn-ml-{persona}"
    )
    return role.inputs["rules"]


def _allowed(rules, group, resource):
    return {v for r in rules if group in r["apiGroups"] and resource in r["resources"] for v in r["verbs"]}


def test_rbac_never_uses_wildcards(stack):
    for role in stack.by_type("kubernetes:rbac.authorization.k8s.io/v1:Role"):
        for rule in role.inputs["rules"]:
            for field in ("apiGroups", "resources", "verbs"):
                assert "*" not in rule[field], (role.name, rule)
            assert rule["verbs"] and rule["resources"]


def test_data_scientist_writes_datasets_and_runs_training(stack):
    rules = _rules(stack, "data-scientist")
    write = {"create", "update", "patch", "delete"}
    assert write <= _allowed(rules, "", "configmaps")
    assert write <= _allowed(rules, "", "persistentvolumeclaims")
    assert write <= _allowed(rules, "batch", "jobs")
    assert write <= _allowed(rules, "argoproj.io", "cronworkflows")
    assert _allowed(rules, "serving.kserve.io", "inferenceservices") == {"get", "list", "watch"}
    assert _allowed(rules, "", "secrets") == set()
    assert _allowed(rules, "", "pods/exec") == set()


def test_ml_engineer_deploys_and_monitors(stack):
    rules = _rules(stack, "ml-engineer")
    full = {"get", "list", "watch", "create", "update", "patch", "delete"}
    assert _allowed(rules, "serving.kserve.io", "inferenceservices") == full
    assert _allowed(rules, "apps", "deployments") == full
    assert _allowed(rules, "monitoring.coreos.com", "servicemonitors") == full
    assert _allowed(rules, "monitoring.coreos.com", "prometheusrules") == full
    assert _allowed(rules, "argoproj.io", "workflows") == {"get", "list", "watch", "create"}
    assert _allowed(rules, "", "configmaps") == {"get", "list", "watch"}
    assert _allowed(rules, "", "secrets") == set()


def test_viewer_only_reads(stack):
    rules = _rules(stack, "viewer")
    assert {v for r in rules for v in r["verbs"]} == {"get", "list", "watch"}
    assert _allowed(rules, "serving.kserve.io", "inferenceservices") == {"get", "list", "watch"}
    assert all("secrets" not in r["resources"] for r in rules)
    assert rules == [rule.wire() for rule in PERSONAS["viewer"]]


def test_role_bindings_bind_groups(stack):
    bindings = {
        b.inputs["metadata"]["name"]: b.inputs
        for b in stack.by_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
    }
    assert set(bindings) == {"churn-ml-data-scientist", "churn-ml-ml-engineer", "churn-ml-viewer"}
    for name, binding in bindings.items():
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name}
        assert all(s["kind"] == "Group" for s in binding["subjects"])
    assert bindings["churn-ml-viewer"]["subjects"][0]["name"] == "churn-ml-viewers"


def test_extra_service_accounts_have_no_token(stack):
    (sa,) = stack.by_type("kubernetes:core/v1:ServiceAccount")
    assert sa.inputs["metadata"]["name"] == "notebooks"
    assert sa.inputs["automountServiceAccountToken"] is False


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"team": "Churn ML"}, "team"),
        ({"team": "t", "quota": {"gpus": -1}}, "quota"),
        ({"team": "t", "quota": {"requests_cpu": "64", "limits_cpu": "32"}}, "quota"),
        ({"team": "t", "quota": {"requests_memory": "lots"}}, "quota"),
        ({"team": "t", "groups": {"viewers": ["*"]}}, "groups"),
        ({"team": "t", "pod_security": "privileged"}, "pod_security"),
    ],
)
def test_invalid_settings_name_the_field_and_register_nothing(args, field):
    with pytest.raises(pydantic.ValidationError) as info:
        TenancyArgs.model_validate(args)
    assert info.value.errors()[0]["loc"][0] == field
    with pytest.raises(ProgramError, match=field):
        plan(lambda: Tenancy("team", args))


@settings(max_examples=25, deadline=None)
@given(st.integers(max_value=-1) | st.integers(min_value=513))
def test_gpu_quota_out_of_range_always_names_the_field(gpus):
    with pytest.raises(pydantic.ValidationError) as info:
        TenancyArgs.model_validate({"team": "t", "quota": {"gpus": gpus}})
    assert info.value.errors()[0]["loc"] == ("quota", "gpus")
