"""Cluster guardrails (issue 11 section 5): EKS/GKE API exposure, Secrets encryption and audit logs,
service-account tokens, default-ServiceAccount bindings, wildcard RBAC and notification-channel labels.

Each gap is tested on direct views (flag and pass), through a raw Pulumi program under the offline engine,
and, for tokens, on the platform's own in-cluster controllers.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import raw_programs
from pack_harness import run_pack
from policy_factories import AWS_TAGS, GCP_KEY, GCP_LABELS, K8S_LABELS, KEY_ARN, check, findings, view

from mlops_infra.conventions.markers import USES_KUBERNETES_API_MARKER
from mlops_infra.engine import CapturedStack
from mlops_infra.k8s import CanaryGuard, DriftDetector, TrainingPipeline
from mlops_infra.k8s.deploy_webhook import DeployWebhookPoller
from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.policy.model import Enforcement, Violation
from mlops_infra.policy.pack import build_policies, pack_initial_config
from mlops_infra.policy.rules import REGISTRY
from mlops_infra.testing import one, plan

EKS = "aws:eks/cluster:Cluster"
GKE = "gcp:container/cluster:Cluster"
JOB = "kubernetes:batch/v1:Job"
CRONJOB = "kubernetes:batch/v1:CronJob"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
WORKFLOW_TEMPLATE = "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
MARKER = {USES_KUBERNETES_API_MARKER: "true"}
OURS = {"no-public-access", "encryption-at-rest", "log-retention", "k8s-pod-security", "least-privilege-iam"}


def messages(policy_id: str, type_token: str, props: dict[str, Any]) -> list[str]:
    """Messages of one policy's real findings on one resource (prod: every finding is mandatory)."""
    flagged = findings(check(policy_id, view(type_token, props)))
    assert all(v.enforcement is Enforcement.MANDATORY for v in flagged)
    return [v.message for v in flagged]


# --- EKS ---------------------------------------------------------------------------------------------------

EKS_PRIVATE = {"vpcConfig": {"endpointPrivateAccess": True, "endpointPublicAccess": False}, "tags": AWS_TAGS}
EKS_FULL = {
    **EKS_PRIVATE,
    "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY_ARN}},
    "enabledClusterLogTypes": ["api", "audit", "authenticator"],
}


@pytest.mark.parametrize(
    ("vpc", "needle"),
    [
        ({}, "true by default"),
        ({"endpointPublicAccess": True}, "default to 0.0.0.0/0"),
        ({"endpointPublicAccess": True, "publicAccessCidrs": ["10.0.0.0/8", "0.0.0.0/0"]}, "include 0.0.0.0/0"),
    ],
)
def test_eks_public_endpoint_open_to_the_internet_is_flagged(vpc: dict[str, Any], needle: str) -> None:
    found = messages("no-public-access", EKS, {**EKS_FULL, "vpcConfig": vpc})
    assert len(found) == 1 and needle in found[0] and "endpointPublicAccess: false" in found[0]


@pytest.mark.parametrize(
    "vpc",
    [
        {"endpointPublicAccess": False},
        {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]},
    ],
)
def test_eks_private_or_fenced_endpoint_passes(vpc: dict[str, Any]) -> None:
    assert check("no-public-access", view(EKS, {**EKS_FULL, "vpcConfig": vpc})) == []


def test_eks_public_endpoint_with_the_allow_marker_passes() -> None:
    marked = {**EKS_FULL, "vpcConfig": {}, "tags": {**AWS_TAGS, "mlops-infra/allow-public": "true"}}
    assert check("no-public-access", view(EKS, marked)) == []


@pytest.mark.parametrize(
    ("encryption", "needle"),
    [
        (None, 'resources: ["secrets"]'),
        ({"resources": [], "provider": {"keyArn": KEY_ARN}}, 'resources: ["secrets"]'),
        ({"resources": ["secrets"], "provider": {}}, "encryptionConfig.provider.keyArn"),
        ({"resources": ["secrets"], "provider": {"keyArn": "alias/aws/eks"}}, "AWS-managed key"),
    ],
)
def test_eks_secrets_need_a_customer_managed_key(encryption: dict[str, Any] | None, needle: str) -> None:
    props = {k: v for k, v in EKS_FULL.items() if k != "encryptionConfig"}
    if encryption is not None:
        props["encryptionConfig"] = encryption
    found = messages("encryption-at-rest", EKS, props)
    assert len(found) == 1 and needle in found[0], found
    assert check("encryption-at-rest", view(EKS, EKS_FULL)) == []


@pytest.mark.parametrize(
    ("log_types", "missing"),
    [
        (None, "api, audit, authenticator"),
        (["api", "scheduler"], "audit, authenticator"),
        (["audit"], "api, authenticator"),
    ],
)
def test_eks_control_plane_audit_logs_are_required(log_types: list[str] | None, missing: str) -> None:
    props = {**EKS_FULL, "enabledClusterLogTypes": log_types}
    found = messages("log-retention", EKS, props)
    assert len(found) == 1 and f"logging is off for {missing}" in found[0]
    assert check("log-retention", view(EKS, EKS_FULL)) == []


# --- GKE ---------------------------------------------------------------------------------------------------

GKE_FULL = {
    "privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": True},
    "databaseEncryption": {"state": "ENCRYPTED", "keyName": GCP_KEY},
    "resourceLabels": GCP_LABELS,
}


@pytest.mark.parametrize(
    ("exposure", "needle"),
    [
        ({}, "masterAuthorizedNetworksConfig is not set"),
        ({"privateClusterConfig": {"enablePrivateNodes": True}}, "masterAuthorizedNetworksConfig is not set"),
        (
            {"controlPlaneEndpointsConfig": {"ipEndpointsConfig": {"enabled": True}}},
            "masterAuthorizedNetworksConfig is not set",
        ),
        (
            {"masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "0.0.0.0/0"}]}},
            "cidrBlocks admit 0.0.0.0/0",
        ),
        (
            {"masterAuthorizedNetworksConfig": {"cidrBlocks": [], "gcpPublicCidrsAccessEnabled": True}},
            "every Google Cloud public IP",
        ),
    ],
)
def test_gke_public_control_plane_is_flagged(exposure: dict[str, Any], needle: str) -> None:
    props = {**{k: v for k, v in GKE_FULL.items() if k != "privateClusterConfig"}, **exposure}
    found = messages("no-public-access", GKE, props)
    assert len(found) == 1 and needle in found[0], found


@pytest.mark.parametrize(
    "exposure",
    [
        {"privateClusterConfig": {"enablePrivateEndpoint": True}},
        {"masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "10.0.0.0/8"}]}},
        {"controlPlaneEndpointsConfig": {"ipEndpointsConfig": {"enabled": False}}},
    ],
)
def test_gke_private_endpoint_or_authorized_networks_pass(exposure: dict[str, Any]) -> None:
    props = {**{k: v for k, v in GKE_FULL.items() if k != "privateClusterConfig"}, **exposure}
    assert check("no-public-access", view(GKE, props)) == []


@pytest.mark.parametrize(
    "encryption",
    [None, {"state": "DECRYPTED"}, {"state": "ENCRYPTED"}, {"state": "DECRYPTED", "keyName": GCP_KEY}],
)
def test_gke_secrets_need_application_layer_encryption_with_a_key(encryption: dict[str, Any] | None) -> None:
    props = {**GKE_FULL, "databaseEncryption": encryption}
    found = messages("encryption-at-rest", GKE, props)
    assert len(found) == 1 and "databaseEncryption.state: ENCRYPTED" in found[0]
    assert check("encryption-at-rest", view(GKE, GKE_FULL)) == []


# --- Service-account tokens -------------------------------------------------------------------------------

SECURE_CONTEXT = {
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER = {
    "name": "app",
    "image": "registry.example.com/app:1.4.2",
    "securityContext": SECURE_CONTEXT,
    "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
}
PROJECTED = {"name": "api-token", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}


def job(pod: dict[str, Any], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    metadata = {"labels": K8S_LABELS, "annotations": annotations or {}}
    return {"metadata": metadata, "spec": {"template": {"spec": {"containers": [CONTAINER], **pod}}}}


@pytest.mark.parametrize(
    ("pod", "needle"),
    [
        ({}, "automountServiceAccountToken is not set (true by default)"),
        ({"automountServiceAccountToken": True}, "automountServiceAccountToken is true"),
        (
            {"automountServiceAccountToken": False, "volumes": [PROJECTED]},
            "(api-token) projects a Kubernetes API token",
        ),
    ],
)
def test_pods_get_no_api_token_without_the_marker(pod: dict[str, Any], needle: str) -> None:
    found = messages("k8s-pod-security", JOB, job(pod))
    assert len(found) == 1 and needle in found[0] and USES_KUBERNETES_API_MARKER in found[0], found
    assert check("k8s-pod-security", view(JOB, job(pod, MARKER))) == []


def test_a_token_projected_for_another_audience_is_not_an_api_token() -> None:
    workload_identity = copy.deepcopy(PROJECTED)
    workload_identity["projected"]["sources"][0]["serviceAccountToken"]["audience"] = "sts.amazonaws.com"
    pod = {"automountServiceAccountToken": False, "volumes": [workload_identity]}
    assert check("k8s-pod-security", view(JOB, job(pod))) == []


def test_the_marker_must_say_true() -> None:
    found = messages("k8s-pod-security", JOB, job({}, {USES_KUBERNETES_API_MARKER: "false"}))
    assert len(found) == 1 and "automountServiceAccountToken" in found[0]


def test_argo_workflow_level_token_setting_applies_to_every_template() -> None:
    def template(**workflow: Any) -> dict[str, Any]:
        spec = {"entrypoint": "main", "templates": [{"name": "main", "container": CONTAINER}], **workflow}
        return {"metadata": {"labels": K8S_LABELS}, "spec": spec}

    assert check("k8s-pod-security", view(WORKFLOW_TEMPLATE, template(automountServiceAccountToken=False))) == []
    found = messages("k8s-pod-security", WORKFLOW_TEMPLATE, template())
    assert len(found) == 1 and "spec.templates[0].automountServiceAccountToken" in found[0]


@pytest.mark.parametrize(
    ("props", "flagged"),
    [
        ({}, True),
        ({"automountServiceAccountToken": True}, True),
        ({"automountServiceAccountToken": False}, False),
        ({"automountServiceAccountToken": True, "metadata": {"annotations": MARKER}}, False),
    ],
)
def test_service_accounts_hand_out_no_token_by_default(props: dict[str, Any], flagged: bool) -> None:
    sa = {"metadata": {"labels": K8S_LABELS, **props.pop("metadata", {})}, **props}
    found = messages("k8s-pod-security", SERVICE_ACCOUNT, sa)
    assert bool(found) is flagged
    assert all(USES_KUBERNETES_API_MARKER in m for m in found)


# --- RBAC --------------------------------------------------------------------------------------------------


def binding(name: str, namespace: str | None = "team-a") -> dict[str, Any]:
    subject = {"kind": "ServiceAccount", "name": name, **({"namespace": namespace} if namespace else {})}
    return {
        "metadata": {"namespace": "team-a", "labels": K8S_LABELS},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
        "subjects": [subject],
    }


@pytest.mark.parametrize("namespace", ["team-a", None])
def test_binding_the_default_service_account_is_a_violation(namespace: str | None) -> None:
    found = messages("least-privilege-iam", ROLE_BINDING, binding("default", namespace))
    assert len(found) == 1 and "default ServiceAccount of namespace team-a" in found[0]
    assert check("least-privilege-iam", view(ROLE_BINDING, binding("trainer"))) == []


@pytest.mark.parametrize(("field", "value"), [("resources", "pods/*"), ("verbs", "*"), ("apiGroups", "*")])
def test_wildcards_in_roles_are_violations(field: str, value: str) -> None:
    rule = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"], field: [value]}
    found = messages("least-privilege-iam", ROLE, {"metadata": {"labels": K8S_LABELS}, "rules": [rule]})
    assert len(found) == 1 and f"rules[0].{field} contains {value!r}" in found[0]


# --- Labels that are not resource labels --------------------------------------------------------------------


def test_notification_channel_is_judged_on_user_labels_not_on_its_settings() -> None:
    settings = {"type": "email", "labels": {"email_address": "ml@example.com"}}
    found = messages("required-tags", CHANNEL, settings)
    assert len(found) == 1 and "Set userLabels" in found[0]
    assert check("required-tags", view(CHANNEL, {**settings, "userLabels": GCP_LABELS})) == []
    # The settings map is never read as labels, even when it happens to hold every required key.
    assert messages("required-tags", CHANNEL, {"type": "email", "labels": GCP_LABELS})


@pytest.mark.parametrize("type_token", ["gcp:cloudidentity/group:Group", "gcp:diagflow/cxIntent:CxIntent"])
def test_types_whose_labels_are_settings_are_not_judged(type_token: str) -> None:
    assert (
        check(
            "required-tags", view(type_token, {"labels": {"cloudidentity.googleapis.com/groups.discussion_forum": ""}})
        )
        == []
    )


# --- Raw programs through the offline engine ----------------------------------------------------------------


def _run(program: Callable[[], None]) -> list[Violation]:
    return [v for v in evaluate_stack(plan(program, environment="prod")) if not v.note]


def _on(violations: list[Violation], policy_id: str, name: str) -> list[str]:
    return [v.message for v in violations if v.policy_id == policy_id and v.urn.endswith(f"::{name}")]


EXPECTED = [
    ("no-public-access", "eks", "publicAccessCidrs include 0.0.0.0/0"),
    ("encryption-at-rest", "eks", 'resources: ["secrets"]'),
    ("log-retention", "eks", "api, audit, authenticator"),
    ("no-public-access", "gke", "cidrBlocks admit 0.0.0.0/0"),
    ("encryption-at-rest", "gke", "databaseEncryption.state is DECRYPTED"),
    ("k8s-pod-security", "worker", "automountServiceAccountToken is not set"),
    ("k8s-pod-security", "batch", "spec.template.spec.automountServiceAccountToken is not set"),
    ("least-privilege-iam", "everything", "'pods/*'"),
    ("least-privilege-iam", "default-reader", "default ServiceAccount of namespace team-a"),
    ("required-tags", "oncall", "Set userLabels"),
]


def test_raw_program_with_every_cluster_gap_is_flagged_per_gap() -> None:
    violations = _run(raw_programs.cluster_guardrail_violations)
    for policy_id, name, needle in EXPECTED:
        assert any(needle in m for m in _on(violations, policy_id, name)), (
            policy_id,
            name,
            _on(violations, policy_id, name),
        )
    assert all(v.enforcement is Enforcement.MANDATORY for v in violations if v.policy_id in OURS)


def test_raw_program_without_the_gaps_passes_the_cluster_rules() -> None:
    violations = _run(raw_programs.cluster_guardrail_compliant)
    assert [v.message for v in violations if v.policy_id in {*OURS, "required-tags"}] == []


@pytest.mark.parametrize(
    "program", [raw_programs.cluster_guardrail_violations, raw_programs.cluster_guardrail_compliant]
)
def test_the_pack_reports_the_cluster_gaps_as_the_offline_check_does(program: Callable[[], None]) -> None:
    """The pack's validate callbacks (driven as the analyzer drives them) carry every new check."""
    stack = plan(program, environment="prod")
    config = PolicyConfig()
    resource_policies, stack_policies = build_policies(config, stack.config)
    packed = {
        (d.policy.removesuffix("-stack"), d.urn, d.message)
        for d in run_pack(stack, resource_policies, stack_policies, pack_initial_config(config))
        if not d.note
    }
    offline = {(v.policy_id, v.urn, v.message) for v in evaluate_stack(stack, config) if not v.note}
    assert packed == offline
    if program is raw_programs.cluster_guardrail_violations:
        for policy_id, name, needle in EXPECTED:
            assert any(p == policy_id and u.endswith(f"::{name}") and needle in m for p, u, m in packed), needle


# --- The platform's own workloads ---------------------------------------------------------------------------


def _stripped(inputs: dict[str, Any]) -> dict[str, Any]:
    """The object's inputs without the API marker: what k8s-pod-security would say without the opt-in."""
    props = copy.deepcopy(inputs)
    props["metadata"]["annotations"].pop(USES_KUBERNETES_API_MARKER)
    return props


def _token_messages(type_token: str, props: dict[str, Any]) -> list[str]:
    return [m for m in messages("k8s-pod-security", type_token, props) if "API token" in m or "automount" in m]


# The deploy poller reads its webhook token from secret config (what `pulumi config set --secret` writes).
POLLER_CONFIG = {"ciDispatchToken": {"secure": "v1:cGxhY2Vob2xkZXI=:Z2hwLXRlc3Q="}}
CONTROLLERS: list[tuple[str, Callable[[], object], str, str]] = [
    (
        "canary-guard",
        lambda: CanaryGuard(
            "guard",
            {
                "namespace": "team-ns",
                "inference_service": "scoring",
                "error_rate_percent": 1,
                "p95_latency_ms": 300,
                "rollout": {"strategy": "canary", "canary_percent": 10, "bake_seconds": 600},
            },
        ),
        CRONJOB,
        "projects a Kubernetes API token",
    ),
    (
        "drift-detector",
        lambda: DriftDetector(
            "drift",
            {
                "namespace": "team-ns",
                "features": ["tenure", "charges"],
                "threshold": 0.2,
                "retrain_on_drift": True,
                "retrain_trigger": "workflowtemplate/churn-prod-training",
                "selector_labels": {"release": "kube-prometheus-stack"},
            },
        ),
        DEPLOYMENT,
        "projects a Kubernetes API token",
    ),
    (
        "deploy-poller",
        lambda: DeployWebhookPoller(
            "deploy-on-approval",
            {
                "namespace": "team-ns",
                "webhook": {
                    "url": "https://api.github.com/repos/acme/churn-platform/dispatches",
                    "token_secret": "ciDispatchToken",
                    "kind": "repository_dispatch",
                },
                "mlflow_url": "http://mlflow.team-ns.svc:5000",
                "model_name": "churn",
                "alias": "approved",
                "inference_services": ["scoring"],
            },
        ),
        CRONJOB,
        "projects a Kubernetes API token",
    ),
    (
        "argo-training",
        lambda: TrainingPipeline(
            "training",
            {
                "namespace": "churn-ns",
                "image": "ghcr.io/acme/churn-train:1.8.3",
                "command": ["python", "-m", "churn.train"],
                "schedule": {"cron": "0 3 * * 1", "time_zone": "Europe/Berlin"},
                "argo_enabled": True,
            },
        ),
        WORKFLOW_TEMPLATE,
        "automountServiceAccountToken is true",
    ),
]


@pytest.mark.parametrize(("name", "program", "type_token", "needle"), CONTROLLERS, ids=[c[0] for c in CONTROLLERS])
def test_in_cluster_controllers_declare_that_they_call_the_api(
    name: str, program: Callable[[], object], type_token: str, needle: str
) -> None:
    stack: CapturedStack = plan(program, environment="prod", config=POLLER_CONFIG)
    workload = one(stack, type_token).inputs
    assert workload["metadata"]["annotations"][USES_KUBERNETES_API_MARKER] == "true"
    assert _token_messages(type_token, workload) == []
    without = _token_messages(type_token, _stripped(workload))
    assert without and all(needle in m for m in without), without


def test_argo_service_account_hands_out_its_token_only_with_the_marker() -> None:
    stack = plan(CONTROLLERS[-1][1], environment="prod")
    sa = one(stack, SERVICE_ACCOUNT).inputs
    assert sa["automountServiceAccountToken"] is True
    assert sa["metadata"]["annotations"][USES_KUBERNETES_API_MARKER] == "true"
    assert _token_messages(SERVICE_ACCOUNT, sa) == []
    assert _token_messages(SERVICE_ACCOUNT, _stripped(sa))


def test_workloads_that_do_not_call_the_api_get_no_token() -> None:
    stack = plan(
        lambda: TrainingPipeline(
            "training",
            {
                "namespace": "churn-ns",
                "image": "ghcr.io/acme/churn-train:1.8.3",
                "command": ["python", "-m", "churn.train"],
                "schedule": {"cron": "0 3 * * 1", "time_zone": "Europe/Berlin"},
            },
        ),
        environment="prod",
    )
    sa = one(stack, SERVICE_ACCOUNT).inputs
    assert sa["automountServiceAccountToken"] is False
    assert USES_KUBERNETES_API_MARKER not in (sa["metadata"].get("annotations") or {})
    for cron in stack.by_type(CRONJOB):
        assert USES_KUBERNETES_API_MARKER not in (cron.inputs["metadata"].get("annotations") or {})
        assert cron.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
        assert _token_messages(CRONJOB, cron.inputs) == []


def test_every_new_check_is_documented_with_its_checkov_id() -> None:
    ids = {cid for spec in REGISTRY.values() for cid in spec.checkov_ids}
    assert {"CKV_AWS_37", "CKV_AWS_38", "CKV_AWS_39", "CKV_AWS_58", "CKV_GCP_18", "CKV_GCP_20"} <= ids
    assert {"CKV_K8S_38", "CKV_K8S_41", "CKV_K8S_42", "CKV_K8S_49"} <= ids
    assert EKS in REGISTRY["log-retention"].resource_types["aws"]
    assert GKE in REGISTRY["encryption-at-rest"].resource_types["gcp"]
    assert SERVICE_ACCOUNT in REGISTRY["k8s-pod-security"].resource_types["kubernetes"]
