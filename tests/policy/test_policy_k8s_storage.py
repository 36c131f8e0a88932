"""encryption-at-rest on Kubernetes claims and deletion-protection on namespaces, with raw programs.

A PersistentVolumeClaim (or a StatefulSet claim template) in a protected environment must name a
StorageClass that encrypts with a customer-managed key: one of the stack's (EBS ``encrypted`` +
``kmsKeyId``, GCE PD ``disk-encryption-kms-key``) or one the policy config vouches for. A Namespace
holding claims must be protected and retained, or deleting it deletes them.
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_kubernetes as k8s
import pytest

from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.policy.model import Enforcement, Violation
from mlops_infra.testing import plan

LABELS = {"project": "churn", "environment": "prod", "owner": "ml-platform", "cost-center": "cc-1234"}
KEEP = pulumi.ResourceOptions(protect=True, retain_on_delete=True)
KMS = "arn:aws:kms:us-east-1:123456789012:key/0f2d9c1e-5b7a-4e3c-9d8f-6a1b2c3d4e5f"
CLOUD_KMS = "projects/acme-ml/locations/europe-west4/keyRings/ml/cryptoKeys/volumes"


def _claim(storage_class: str | None, name: str = "data") -> None:
    spec: dict[str, object] = {"access_modes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}
    if storage_class is not None:
        spec["storage_class_name"] = storage_class
    k8s.core.v1.PersistentVolumeClaim(
        name, metadata={"name": name, "namespace": "team-a", "labels": LABELS}, spec=spec, opts=KEEP
    )


def _namespace(opts: pulumi.ResourceOptions | None = KEEP) -> None:
    k8s.core.v1.Namespace("team-a", metadata={"name": "team-a", "labels": LABELS}, opts=opts)


def _ebs(name: str, **parameters: str) -> None:
    k8s.storage.v1.StorageClass(
        name, metadata={"name": name, "labels": LABELS}, provisioner="ebs.csi.aws.com", parameters=parameters
    )


def _violations(
    program: Callable[[], None], environment: str = "prod", config: PolicyConfig | None = None
) -> list[Violation]:
    return [v for v in evaluate_stack(plan(program, environment=environment), config) if not v.note]


def _storage_findings(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.policy_id in ("encryption-at-rest", "deletion-protection")]


def _on(violations: list[Violation], policy_id: str, name: str) -> list[Violation]:
    return [v for v in violations if v.policy_id == policy_id and v.urn.endswith(f"::{name}")]


def test_claim_on_the_default_class_is_a_mandatory_violation_in_prod() -> None:
    def program() -> None:
        _namespace()
        _claim(None)

    found = _on(_violations(program), "encryption-at-rest", "data")
    assert len(found) == 1 and found[0].enforcement is Enforcement.MANDATORY
    assert "default StorageClass" in found[0].message and "spec.storageClassName" in found[0].message
    assert "encryptedStorageClasses" in found[0].message


def test_claim_on_the_default_class_is_not_flagged_in_dev() -> None:
    def program() -> None:
        _namespace()
        _claim(None)

    assert _on(_violations(program, environment="dev"), "encryption-at-rest", "data") == []


@pytest.mark.parametrize(
    ("parameters", "flagged"),
    [
        ({"type": "gp3"}, True),
        ({"type": "gp3", "encrypted": "true"}, True),  # AWS-managed key: no kmsKeyId
        ({"type": "gp3", "encrypted": "true", "kmsKeyId": KMS}, False),
    ],
)
def test_claim_is_judged_by_the_class_it_names(parameters: dict[str, str], flagged: bool) -> None:
    def program() -> None:
        _namespace()
        _ebs("volumes", **parameters)
        _claim("volumes")

    violations = _violations(program)
    found = _on(violations, "encryption-at-rest", "data")
    assert bool(found) is flagged
    if flagged:
        assert "StorageClass 'volumes'" in found[0].message and "customer-managed key" in found[0].message
        assert _on(violations, "encryption-at-rest", "volumes")  # and the class itself


def test_claim_on_an_encrypted_gce_pd_class_passes() -> None:
    def program() -> None:
        _namespace()
        k8s.storage.v1.StorageClass(
            "pd",
            metadata={"name": "pd", "labels": LABELS},
            provisioner="pd.csi.storage.gke.io",
            parameters={"type": "pd-balanced", "disk-encryption-kms-key": CLOUD_KMS},
        )
        _claim("pd")

    assert _storage_findings(_violations(program)) == []


def test_claim_on_a_class_outside_the_stack_needs_the_policy_config() -> None:
    def program() -> None:
        _namespace()
        _claim("cluster-encrypted")

    found = _on(_violations(program), "encryption-at-rest", "data")
    assert found and "neither in this stack nor listed in encryptedStorageClasses" in found[0].message
    vouched = PolicyConfig.model_validate({"encryptedStorageClasses": ["cluster-encrypted"]})
    assert _on(_violations(program, config=vouched), "encryption-at-rest", "data") == []


def test_claim_on_an_unknown_provisioner_in_the_stack_is_not_proven_encrypted() -> None:
    def program() -> None:
        _namespace()
        k8s.storage.v1.StorageClass(
            "nfs", metadata={"name": "nfs", "labels": LABELS}, provisioner="nfs.csi.k8s.io", parameters={}
        )
        _claim("nfs")

    found = _on(_violations(program), "encryption-at-rest", "data")
    assert found and "StorageClass 'nfs'" in found[0].message


def test_statefulset_claim_templates_are_checked_with_their_path() -> None:
    def program() -> None:
        _namespace()
        k8s.apps.v1.StatefulSet(
            "db",
            metadata={"name": "db", "namespace": "team-a", "labels": LABELS},
            spec={
                "service_name": "db",
                "selector": {"match_labels": {"app": "db"}},
                "template": {
                    "metadata": {"labels": {"app": "db"}},
                    "spec": {"containers": [{"name": "db", "image": "postgres:16.4"}]},
                },
                "volume_claim_templates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {"access_modes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
                    }
                ],
            },
        )

    found = _on(_violations(program), "encryption-at-rest", "db")
    assert found and "spec.volumeClaimTemplates[0].spec.storageClassName" in found[0].message


def test_namespace_holding_a_claim_must_be_protected_and_retained_in_prod() -> None:
    def unprotected() -> None:
        _namespace(opts=None)
        _ebs("volumes", encrypted="true", kmsKeyId=KMS)
        _claim("volumes")

    found = _on(_violations(unprotected), "deletion-protection", "team-a")
    assert len(found) == 1 and found[0].enforcement is Enforcement.MANDATORY
    assert "PersistentVolumeClaim 'data'" in found[0].message and "not both protected and retained" in found[0].message

    def protected() -> None:
        _namespace()
        _ebs("volumes", encrypted="true", kmsKeyId=KMS)
        _claim("volumes")

    assert _storage_findings(_violations(protected)) == []


def test_namespace_without_claims_may_stay_unprotected() -> None:
    def program() -> None:
        _namespace(opts=None)

    assert _on(_violations(program), "deletion-protection", "team-a") == []
