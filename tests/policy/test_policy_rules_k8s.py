"""Every rule that applies to Kubernetes flags a violating raw object and passes a compliant one (direct views)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from policy_factories import K8S_LABELS, check, findings, view

from mlops_infra.policy.model import Enforcement

SECURE_CONTEXT = {
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
RESOURCES = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
PROBE = {"httpGet": {"path": "/healthz", "port": 8080}}


def container(**overrides: Any) -> dict[str, Any]:
    base = {
        "name": "app",
        "image": "registry.example.com/app:1.4.2",
        "securityContext": SECURE_CONTEXT,
        "resources": RESOURCES,
        "readinessProbe": PROBE,
    }
    return {**base, **overrides}


def pod_spec(**overrides: Any) -> dict[str, Any]:
    return {"automountServiceAccountToken": False, "containers": [container()], **overrides}


def deployment(spec: dict[str, Any] | None = None, **strategy: Any) -> dict[str, Any]:
    return {
        "metadata": {"labels": K8S_LABELS},
        "spec": {
            "selector": {"matchLabels": {"app": "a"}},
            **strategy,
            "template": {"metadata": {"labels": {"app": "a"}}, "spec": spec or pod_spec()},
        },
    }


def argo(template_container: dict[str, Any]) -> dict[str, Any]:
    return {
        "spec": {
            "entrypoint": "main",
            "automountServiceAccountToken": False,
            "templates": [{"name": "main", "container": template_container}],
        }
    }


def isvc(
    predictor: dict[str, Any], labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    metadata = {"labels": {**K8S_LABELS, **(labels or {})}, "annotations": annotations or {}}
    return {"metadata": metadata, "spec": {"predictor": predictor}}


MODEL = {
    "modelFormat": {"name": "sklearn"},
    "storageUri": "s3://models/churn/v7",
    "securityContext": SECURE_CONTEXT,
    "resources": RESOURCES,
}
SAFE_PREDICTOR = {
    "automountServiceAccountToken": False,
    "model": MODEL,
    "canaryTrafficPercent": 10,
    "logger": {"mode": "all", "url": "http://capture.ml:8080"},
}

POD = "kubernetes:core/v1:Pod"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CRONJOB = "kubernetes:batch/v1:CronJob"
WORKFLOW_TEMPLATE = "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate"
CRON_WORKFLOW = "kubernetes:argoproj.io/v1alpha1:CronWorkflow"
INFERENCE_SERVICE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
PYTORCH_JOB = "kubernetes:kubeflow.org/v1:PyTorchJob"

# (policy id, type token, violating props, compliant props, text the message must contain)
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], str]] = [
    (
        "k8s-pod-security",
        POD,
        {"spec": pod_spec(containers=[container(securityContext={"privileged": True})])},
        {"spec": pod_spec()},
        "privileged",
    ),
    ("k8s-pod-security", POD, {"spec": pod_spec(hostNetwork=True)}, {"spec": pod_spec()}, "hostNetwork"),
    ("k8s-pod-security", POD, {"spec": pod_spec(hostPID=True, hostIPC=True)}, {"spec": pod_spec()}, "hostPID"),
    (
        "k8s-pod-security",
        DEPLOYMENT,
        deployment(pod_spec(containers=[container(image="nginx:latest")])),
        deployment(),
        "latest",
    ),
    (
        "k8s-pod-security",
        DEPLOYMENT,
        deployment(pod_spec(containers=[container(image="nginx")])),
        deployment(),
        "no tag",
    ),
    (
        "k8s-pod-security",
        DEPLOYMENT,
        deployment(pod_spec(containers=[container(resources={"limits": {"cpu": "1"}})])),
        deployment(),
        "requests.cpu",
    ),
    (
        "k8s-pod-security",
        DEPLOYMENT,
        deployment(
            pod_spec(containers=[container(securityContext={**SECURE_CONTEXT, "readOnlyRootFilesystem": False})])
        ),
        deployment(),
        "readOnlyRootFilesystem",
    ),
    (
        "k8s-pod-security",
        DEPLOYMENT,
        deployment(
            pod_spec(containers=[container(securityContext={**SECURE_CONTEXT, "capabilities": {"add": ["SYS_ADMIN"]}})])
        ),
        deployment(),
        "SYS_ADMIN",
    ),
    (
        "k8s-pod-security",
        DEPLOYMENT,
        deployment(
            pod_spec(containers=[container(securityContext={**SECURE_CONTEXT, "runAsUser": 0, "runAsNonRoot": False})])
        ),
        deployment(),
        "runAsUser 0",
    ),
    (
        "k8s-pod-security",
        DEPLOYMENT,
        deployment(pod_spec(volumes=[{"name": "h", "hostPath": {"path": "/var/run"}}])),
        deployment(),
        "hostPath",
    ),
    (
        "k8s-pod-security",
        CRONJOB,
        {
            "spec": {
                "schedule": "@daily",
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": pod_spec(
                                containers=[container(securityContext={"seccompProfile": {"type": "Unconfined"}})]
                            )
                        }
                    }
                },
            }
        },
        {"spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {"spec": pod_spec()}}}}},
        "seccomp",
    ),
    (
        "k8s-pod-security",
        WORKFLOW_TEMPLATE,
        argo({"image": "trainer:latest", "securityContext": SECURE_CONTEXT, "resources": RESOURCES}),
        argo(container()),
        "spec.templates[0].container",
    ),
    (
        "k8s-pod-security",
        CRON_WORKFLOW,
        {"spec": {"schedule": "0 * * * *", "workflowSpec": argo({"image": "t:1", "resources": RESOURCES})["spec"]}},
        {"spec": {"schedule": "0 * * * *", "workflowSpec": argo(container())["spec"]}},
        "spec.workflowSpec.templates[0]",
    ),
    (
        "k8s-pod-security",
        INFERENCE_SERVICE,
        isvc({"model": {**MODEL, "securityContext": {"privileged": True}}}),
        isvc(SAFE_PREDICTOR),
        "spec.predictor.model",
    ),
    (
        "k8s-pod-security",
        PYTORCH_JOB,
        {"spec": {"pytorchReplicaSpecs": {"Worker": {"template": {"spec": {"containers": [container(image="pt")]}}}}}},
        {"spec": {"pytorchReplicaSpecs": {"Worker": {"template": {"spec": pod_spec()}}}}},
        "spec.pytorchReplicaSpecs.Worker.template.spec.containers[0]",
    ),
    (
        "encryption-at-rest",
        "kubernetes:storage.k8s.io/v1:StorageClass",
        {"provisioner": "ebs.csi.aws.com", "parameters": {}},
        {
            "provisioner": "ebs.csi.aws.com",
            "parameters": {"encrypted": "true", "kmsKeyId": "arn:aws:kms:us-east-1:1:key/k"},
        },
        "parameters.kmsKeyId",
    ),
    (
        "encryption-at-rest",
        "kubernetes:storage.k8s.io/v1:StorageClass",
        {"provisioner": "pd.csi.storage.gke.io"},
        {
            "provisioner": "pd.csi.storage.gke.io",
            "parameters": {"disk-encryption-kms-key": "projects/p/locations/l/keyRings/r/cryptoKeys/k"},
        },
        "disk-encryption-kms-key",
    ),
    (
        "encryption-in-transit",
        "kubernetes:networking.k8s.io/v1:Ingress",
        {"spec": {"rules": [{"host": "a.example.com"}]}},
        {"spec": {"rules": [{"host": "a.example.com"}], "tls": [{"hosts": ["a.example.com"], "secretName": "tls"}]}},
        "spec.tls",
    ),
    (
        "required-tags",
        DEPLOYMENT,
        {**deployment(), "metadata": {"labels": {"app": "a"}}},
        deployment(),
        "metadata.labels",
    ),
    (
        "no-public-access",
        "kubernetes:core/v1:Service",
        {"spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}},
        {"spec": {"type": "ClusterIP", "ports": [{"port": 80}]}},
        "LoadBalancer",
    ),
    (
        "no-public-access",
        "kubernetes:core/v1:Service",
        {"spec": {"type": "LoadBalancer"}},
        {
            "metadata": {"annotations": {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}},
            "spec": {"type": "LoadBalancer"},
        },
        "internal",
    ),
    (
        "no-public-access",
        INFERENCE_SERVICE,
        isvc(SAFE_PREDICTOR),
        isvc(SAFE_PREDICTOR, labels={"networking.kserve.io/visibility": "cluster-local"}),
        "cluster-local",
    ),
    (
        "least-privilege-iam",
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
        {"rules": [{"apiGroups": [""], "resources": ["*"], "verbs": ["*"]}]},
        {"rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]},
        "verbs",
    ),
    (
        "least-privilege-iam",
        "kubernetes:rbac.authorization.k8s.io/v1:Role",
        {
            "rules": [
                {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["escalate", "bind"]}
            ]
        },
        {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]},
        "escalate",
    ),
    (
        "least-privilege-iam",
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
        {
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "trainer", "namespace": "ml"}],
        },
        {
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "ServiceAccount", "name": "trainer", "namespace": "ml"}],
        },
        "cluster-admin",
    ),
    ("data-capture", INFERENCE_SERVICE, isvc({"model": MODEL}), isvc(SAFE_PREDICTOR), "spec.predictor.logger"),
    (
        "data-capture",
        INFERENCE_SERVICE,
        isvc({**SAFE_PREDICTOR, "logger": {"mode": "request", "url": "http://c"}}),
        isvc(SAFE_PREDICTOR),
        "logger.mode",
    ),
    (
        "model-approval",
        INFERENCE_SERVICE,
        isvc({**SAFE_PREDICTOR, "model": {**MODEL, "storageUri": "s3://models/churn/latest"}}),
        isvc(SAFE_PREDICTOR),
        "storageUri",
    ),
    ("deletion-protection", "kubernetes:core/v1:PersistentVolumeClaim", {"spec": {}}, {"spec": {}}, "protect"),
    ("deployment-safety", DEPLOYMENT, deployment(strategy={"type": "Recreate"}), deployment(), "Recreate"),
    (
        "deployment-safety",
        DEPLOYMENT,
        deployment(pod_spec(containers=[container(readinessProbe=None)])),
        deployment(),
        "readinessProbe",
    ),
    ("deployment-safety", INFERENCE_SERVICE, isvc({"model": MODEL}), isvc(SAFE_PREDICTOR), "canaryTrafficPercent"),
    (
        "allowed-instance-types",
        DEPLOYMENT,
        deployment(pod_spec(nodeSelector={"node.kubernetes.io/instance-type": "p5.48xlarge"})),
        deployment(pod_spec(nodeSelector={"node.kubernetes.io/instance-type": "g5.2xlarge"})),
        "nodeSelector",
    ),
    (
        "allowed-instance-types",
        "kubernetes:karpenter.sh/v1:NodePool",
        {
            "spec": {
                "template": {
                    "spec": {
                        "requirements": [
                            {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["p5.48xlarge"]}
                        ]
                    }
                }
            }
        },
        {
            "spec": {
                "template": {
                    "spec": {
                        "requirements": [
                            {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["g5.xlarge"]}
                        ]
                    }
                }
            }
        },
        "requirements[0]",
    ),
]


def _id(case: tuple[str, str, dict[str, Any], dict[str, Any], str]) -> str:
    return f"{case[0]}:{case[1].rsplit(':', 1)[-1]}:{case[4]}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_k8s_rule_flags_violation_and_passes_compliant(
    case: tuple[str, str, dict[str, Any], dict[str, Any], str],
) -> None:
    policy_id, type_token, bad, good, needle = case
    flagged = findings(check(policy_id, view(type_token, bad)))
    assert flagged, f"{policy_id} did not flag {bad}"
    assert all(v.policy_id == policy_id and v.enforcement is Enforcement.MANDATORY for v in flagged)
    assert any(needle in v.message for v in flagged), [v.message for v in flagged]
    assert check(policy_id, view(type_token, good, protect=True, retain=True)) == []


def test_container_setting_overrides_pod_security_context() -> None:
    spec = pod_spec(
        securityContext={"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        containers=[container(securityContext={**SECURE_CONTEXT, "runAsNonRoot": None})],
    )
    del spec["containers"][0]["securityContext"]["seccompProfile"]
    del spec["containers"][0]["securityContext"]["runAsNonRoot"]
    del spec["containers"][0]["securityContext"]["runAsUser"]
    assert check("k8s-pod-security", view(POD, {"spec": spec})) == []
    root = copy.deepcopy(spec)
    root["containers"][0]["securityContext"]["runAsUser"] = 0
    assert any("runAsUser 0" in v.message for v in findings(check("k8s-pod-security", view(POD, {"spec": root}))))


def test_every_container_is_checked_including_init_containers() -> None:
    spec = pod_spec(initContainers=[container(name="fetch", image="busybox")])
    messages = [v.message for v in findings(check("k8s-pod-security", view(POD, {"spec": spec})))]
    assert len(messages) == 1 and "initContainers[0] (fetch)" in messages[0]


def test_pod_security_is_mandatory_in_prod_and_advisory_in_dev() -> None:
    bad = view(POD, {"spec": pod_spec(hostNetwork=True)})
    assert {v.enforcement for v in findings(check("k8s-pod-security", bad, environment="dev"))} == {
        Enforcement.ADVISORY
    }
    assert {v.enforcement for v in findings(check("k8s-pod-security", bad))} == {Enforcement.MANDATORY}


def test_allow_marker_annotation_allows_a_public_load_balancer() -> None:
    service = view(
        "kubernetes:core/v1:Service",
        {"metadata": {"annotations": {"mlops-infra/allow-public": "true"}}, "spec": {"type": "LoadBalancer"}},
    )
    assert check("no-public-access", service) == []
