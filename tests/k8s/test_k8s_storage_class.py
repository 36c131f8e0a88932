"""EncryptedStorageClass: the CSI driver's encryption parameters with the customer-managed key, retained volumes."""

from __future__ import annotations

import pytest
from k8s_checks import validate_core

from mlops_infra.engine import ProgramError
from mlops_infra.k8s import EncryptedStorageClass
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.testing import plan

STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
KMS = "arn:aws:kms:us-east-1:123456789012:key/0f2d9c1e-5b7a-4e3c-9d8f-6a1b2c3d4e5f"
CLOUD_KMS = "projects/acme-ml/locations/europe-west4/keyRings/ml/cryptoKeys/volumes"


@pytest.mark.parametrize(
    ("args", "provisioner", "parameters"),
    [
        (
            {"provisioner": "aws-ebs", "kms_key": KMS},
            "ebs.csi.aws.com",
            {"type": "gp3", "encrypted": "true", "kmsKeyId": KMS},
        ),
        (
            {"provisioner": "gce-pd", "kms_key": CLOUD_KMS, "volume_type": "pd-ssd"},
            "pd.csi.storage.gke.io",
            {"type": "pd-ssd", "disk-encryption-kms-key": CLOUD_KMS},
        ),
    ],
)
def test_class_encrypts_with_the_key_and_passes_the_policy(
    args: dict[str, str], provisioner: str, parameters: dict[str, str]
) -> None:
    stack = plan(lambda: EncryptedStorageClass("volumes", args), environment="prod")
    (sc,) = stack.by_type(STORAGE_CLASS)
    assert sc.inputs["provisioner"] == provisioner
    assert sc.inputs["parameters"] == parameters
    assert sc.inputs["reclaimPolicy"] == "Retain"
    assert sc.inputs["volumeBindingMode"] == "WaitForFirstConsumer"
    assert sc.inputs["allowVolumeExpansion"] is True
    assert sc.inputs["metadata"]["name"] == "churn-prod-volumes"
    assert "namespace" not in sc.inputs["metadata"]  # cluster-scoped
    (component,) = stack.by_type("mlops-infra:k8s:EncryptedStorageClass")
    assert sc.parent == component.urn
    assert validate_core(stack, "1.33.0") == []
    assert [v for v in evaluate_stack(stack) if v.policy_id == "encryption-at-rest"] == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"provisioner": "aws-ebs", "kms_key": CLOUD_KMS}, "must be a KMS key ARN"),
        ({"provisioner": "gce-pd", "kms_key": KMS}, "must be a Cloud KMS key name"),
        ({"provisioner": "aws-ebs", "kms_key": "alias/aws/ebs"}, "not a customer-managed key"),
        ({"provisioner": "azure-disk", "kms_key": KMS}, "provisioner"),
        ({"provisioner": "aws-ebs", "kms_key": KMS, "reclaim_policy": "Recycle"}, "reclaim_policy"),
    ],
)
def test_bad_args_are_refused_before_anything_registers(args: dict[str, str], words: str) -> None:
    with pytest.raises(ProgramError) as error:
        plan(lambda: EncryptedStorageClass("volumes", args), environment="prod")
    assert words in str(error.value)
    assert error.value.registered == []
