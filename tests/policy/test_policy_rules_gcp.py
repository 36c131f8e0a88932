"""Every rule that applies to GCP flags a violating raw resource and passes a compliant one (views built directly)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from policy_factories import GCP_KEY, GCP_LABELS, check, findings, view

from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.model import Enforcement

ENCRYPTED = {"encryptionSpec": {"kmsKeyName": GCP_KEY}}
PSC = {"privateServiceConnectConfig": {"enablePrivateServiceConnect": True, "projectAllowlists": ["p"]}}
LOGGING = {
    "predictRequestResponseLoggingConfig": {
        "enabled": True,
        "samplingRate": 1.0,
        "bigqueryDestination": {"outputUri": "bq://p.d.t"},
    }
}
WORKBENCH_DISK = {"diskEncryption": "CMEK", "kmsKey": GCP_KEY}
DEPLOYMENT = "pulumi-python:dynamic/vertex:VertexModelDeployment"

# (policy id, type token, violating props, compliant props, property the message must name)
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], str]] = [
    (
        "encryption-at-rest",
        "gcp:vertex/aiEndpoint:AiEndpoint",
        {"displayName": "e"},
        ENCRYPTED,
        "encryptionSpec.kmsKeyName",
    ),
    ("encryption-at-rest", "gcp:vertex/aiFeatureStore:AiFeatureStore", {}, ENCRYPTED, "encryptionSpec.kmsKeyName"),
    (
        "encryption-at-rest",
        "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore",
        {"bigtable": {}},
        ENCRYPTED,
        "encryptionSpec.kmsKeyName",
    ),
    ("encryption-at-rest", "gcp:vertex/aiTensorboard:AiTensorboard", {}, ENCRYPTED, "encryptionSpec.kmsKeyName"),
    ("encryption-at-rest", "gcp:vertex/aiDataset:AiDataset", {}, ENCRYPTED, "encryptionSpec.kmsKeyName"),
    ("encryption-at-rest", "gcp:vertex/aiMetadataStore:AiMetadataStore", {}, ENCRYPTED, "encryptionSpec.kmsKeyName"),
    (
        "encryption-at-rest",
        "gcp:workbench/instance:Instance",
        {"gceSetup": {"bootDisk": {"diskEncryption": "GMEK"}}},
        {"gceSetup": {"bootDisk": WORKBENCH_DISK, "dataDisks": [WORKBENCH_DISK]}},
        "gceSetup.bootDisk.diskEncryption",
    ),
    (
        "encryption-at-rest",
        "gcp:notebooks/instance:Instance",
        {"machineType": "n1-standard-4"},
        WORKBENCH_DISK,
        "diskEncryption",
    ),
    (
        "encryption-at-rest",
        "gcp:notebooks/runtime:Runtime",
        {"virtualMachine": {"virtualMachineConfig": {}}},
        {"virtualMachine": {"virtualMachineConfig": {"encryptionConfig": {"kmsKey": GCP_KEY}}}},
        "virtualMachine.virtualMachineConfig.encryptionConfig.kmsKey",
    ),
    (
        "encryption-at-rest",
        "gcp:storage/bucket:Bucket",
        {"location": "US"},
        {"encryption": {"defaultKmsKeyName": GCP_KEY}},
        "encryption.defaultKmsKeyName",
    ),
    (
        "encryption-at-rest",
        "gcp:bigquery/dataset:Dataset",
        {"datasetId": "d"},
        {"defaultEncryptionConfiguration": {"kmsKeyName": GCP_KEY}},
        "defaultEncryptionConfiguration.kmsKeyName",
    ),
    ("key-rotation", "gcp:kms/cryptoKey:CryptoKey", {"keyRing": "r"}, {"rotationPeriod": "7776000s"}, "rotationPeriod"),
    (
        "key-rotation",
        "gcp:kms/cryptoKey:CryptoKey",
        {"rotationPeriod": "63072000s"},
        {"rotationPeriod": "31536000s"},
        "rotationPeriod",
    ),
    (
        "encryption-in-transit",
        "gcp:compute/sSLPolicy:SSLPolicy",
        {"minTlsVersion": "TLS_1_0"},
        {"minTlsVersion": "TLS_1_2"},
        "minTlsVersion",
    ),
    ("required-tags", "gcp:storage/bucket:Bucket", {"labels": {"owner": "x"}}, {"labels": GCP_LABELS}, "cost-center"),
    ("no-public-access", "gcp:vertex/aiEndpoint:AiEndpoint", {"displayName": "e"}, PSC, "enablePrivateServiceConnect"),
    (
        "no-public-access",
        "gcp:vertex/aiEndpoint:AiEndpoint",
        {"dedicatedEndpointEnabled": True},
        {"network": "projects/1/global/networks/vpc"},
        "network",
    ),
    (
        "no-public-access",
        "gcp:vertex/aiIndexEndpoint:AiIndexEndpoint",
        {"publicEndpointEnabled": True},
        {"network": "projects/1/global/networks/vpc"},
        "publicEndpointEnabled",
    ),
    (
        "no-public-access",
        "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore",
        {"optimized": {}},
        {
            "optimized": {},
            "dedicatedServingEndpoint": {"privateServiceConnectConfig": {"enablePrivateServiceConnect": True}},
        },
        "enablePrivateServiceConnect",
    ),
    (
        "no-public-access",
        "gcp:workbench/instance:Instance",
        {"gceSetup": {"disablePublicIp": False}},
        {"gceSetup": {"disablePublicIp": True}},
        "gceSetup.disablePublicIp",
    ),
    ("no-public-access", "gcp:notebooks/instance:Instance", {}, {"noPublicIp": True}, "noPublicIp"),
    (
        "no-public-access",
        "gcp:notebooks/runtime:Runtime",
        {"virtualMachine": {"virtualMachineConfig": {}}},
        {"virtualMachine": {"virtualMachineConfig": {"internalIpOnly": True}}},
        "internalIpOnly",
    ),
    (
        "no-public-access",
        "gcp:storage/bucket:Bucket",
        {"publicAccessPrevention": "inherited"},
        {"publicAccessPrevention": "enforced"},
        "publicAccessPrevention",
    ),
    (
        "no-public-access",
        "gcp:storage/bucketIAMMember:BucketIAMMember",
        {"bucket": "b", "role": "roles/storage.objectViewer", "member": "allUsers"},
        {"bucket": "b", "role": "roles/storage.objectViewer", "member": "serviceAccount:sa@p.iam.gserviceaccount.com"},
        "allUsers",
    ),
    (
        "no-public-access",
        "gcp:vertex/aiEndpointIamMember:AiEndpointIamMember",
        {"endpoint": "e", "role": "roles/aiplatform.user", "member": "allAuthenticatedUsers"},
        {"endpoint": "e", "role": "roles/aiplatform.user", "member": "group:ml@example.com"},
        "allAuthenticatedUsers",
    ),
    (
        "network-isolation",
        "gcp:workbench/instance:Instance",
        {"gceSetup": {"shieldedInstanceConfig": {"enableVtpm": False, "enableIntegrityMonitoring": False}}},
        {
            "gceSetup": {
                "shieldedInstanceConfig": {
                    "enableVtpm": True,
                    "enableIntegrityMonitoring": True,
                    "enableSecureBoot": True,
                }
            }
        },
        "enableIntegrityMonitoring",
    ),
    (
        "network-isolation",
        "gcp:notebooks/instance:Instance",
        {"shieldedInstanceConfig": {"enableVtpm": False}},
        {},
        "shieldedInstanceConfig.enableVtpm",
    ),
    (
        "least-privilege-iam",
        "gcp:projects/iAMMember:IAMMember",
        {"project": "p", "role": "roles/owner", "member": "user:a@b.c"},
        {"project": "p", "role": "roles/aiplatform.user", "member": "user:a@b.c"},
        "roles/owner",
    ),
    (
        "least-privilege-iam",
        "gcp:projects/iAMBinding:IAMBinding",
        {"project": "p", "role": "roles/editor", "members": ["group:g@b.c"]},
        {"project": "p", "role": "roles/storage.objectViewer", "members": ["group:g@b.c"]},
        "roles/editor",
    ),
    (
        "least-privilege-iam",
        "gcp:projects/iAMMember:IAMMember",
        {"project": "p", "role": "roles/iam.serviceAccountUser", "member": "user:a@b.c"},
        {"project": "p", "role": "roles/logging.logWriter", "member": "user:a@b.c"},
        "roles/iam.serviceAccountUser",
    ),
    (
        "least-privilege-iam",
        "gcp:projects/iAMPolicy:IAMPolicy",
        {"project": "p", "policyData": json.dumps({"bindings": [{"role": "roles/viewer", "members": ["user:a@b.c"]}]})},
        {
            "project": "p",
            "policyData": json.dumps({"bindings": [{"role": "roles/aiplatform.viewer", "members": ["user:a@b.c"]}]}),
        },
        "roles/viewer",
    ),
    (
        "data-capture",
        "gcp:vertex/aiEndpoint:AiEndpoint",
        {"displayName": "e"},
        LOGGING,
        "predictRequestResponseLoggingConfig",
    ),
    (
        "model-approval",
        DEPLOYMENT,
        {"endpoint": "e", "deployments": []},
        {"endpoint": "e", "required_alias": "approved"},
        "required_alias",
    ),
    (
        "model-approval",
        "gcp:vertex/aiEndpointWithModelGardenDeployment:AiEndpointWithModelGardenDeployment",
        {"huggingFaceModelId": "org/model"},
        None,
        "Model Garden",
    ),  # type: ignore[list-item]
    (
        "deletion-protection",
        "gcp:storage/bucket:Bucket",
        {"location": "US"},
        {"versioning": {"enabled": True}},
        "versioning.enabled",
    ),
    (
        "deployment-safety",
        DEPLOYMENT,
        {"canary_percentages": [100], "rollback_metrics": {"error_rate_percent": 1, "p95_latency_ms": 300}},
        {"canary_percentages": [10, 50, 100], "rollback_metrics": {"error_rate_percent": 1, "p95_latency_ms": 300}},
        "canary_percentages",
    ),
    (
        "allowed-instance-types",
        "gcp:workbench/instance:Instance",
        {"gceSetup": {"machineType": "a3-highgpu-8g"}},
        {"gceSetup": {"machineType": "n1-standard-8"}},
        "gceSetup.machineType",
    ),
    (
        "allowed-instance-types",
        "gcp:container/nodePool:NodePool",
        {"nodeConfig": {"machineType": "a2-ultragpu-8g"}},
        {"nodeConfig": {"machineType": "g2-standard-8"}},
        "nodeConfig.machineType",
    ),
]


def _id(case: tuple[str, str, dict[str, Any], dict[str, Any], str]) -> str:
    return f"{case[0]}:{case[1].rsplit(':', 1)[-1]}:{case[4]}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_gcp_rule_flags_violation_and_passes_compliant(
    case: tuple[str, str, dict[str, Any], dict[str, Any], str],
) -> None:
    policy_id, type_token, bad, good, needle = case
    flagged = findings(check(policy_id, view(type_token, bad)))
    assert flagged, f"{policy_id} did not flag {bad}"
    assert all(v.policy_id == policy_id and v.enforcement is Enforcement.MANDATORY for v in flagged)
    assert any(needle in v.message for v in flagged), [v.message for v in flagged]
    if good is not None:
        assert check(policy_id, view(type_token, good, protect=True, retain=True)) == []


def test_allow_public_marker_label_allows_a_public_vertex_endpoint() -> None:
    endpoint = view("gcp:vertex/aiEndpoint:AiEndpoint", {"labels": {"mlops-infra_allow-public": "true"}})
    assert check("no-public-access", endpoint) == []
    assert findings(check("no-public-access", view("gcp:vertex/aiEndpoint:AiEndpoint", {"labels": {"x": "true"}})))


def test_required_label_keys_are_checked_in_label_safe_form() -> None:
    config = PolicyConfig.model_validate({"requiredTagKeys": ["Team"]})
    assert check("required-tags", view("gcp:storage/bucket:Bucket", {"labels": {"team": "a"}}), config=config) == []
    assert findings(
        check("required-tags", view("gcp:storage/bucket:Bucket", {"labels": {"other": "a"}}), config=config)
    )


def test_model_garden_deployment_is_allowed_outside_production() -> None:
    garden = view("gcp:vertex/aiEndpointWithModelGardenDeployment:AiEndpointWithModelGardenDeployment", {})
    assert check("model-approval", garden, environment="dev") == []
