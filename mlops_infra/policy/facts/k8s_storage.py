"""Kubernetes storage facts: which StorageClass encrypts with a customer-managed key, which class a claim uses.

Used by ``encryption-at-rest`` (the StorageClass itself, and every PVC against its class) and by
``deletion-protection`` (namespaces holding claims).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mlops_infra.policy.model import ResourceView
from mlops_infra.policy.values import get, is_set, items, known

STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
NAMESPACE = "kubernetes:core/v1:Namespace"
EBS_PROVISIONERS = ("ebs.csi.aws.com", "kubernetes.io/aws-ebs")
PD_PROVISIONERS = ("pd.csi.storage.gke.io", "kubernetes.io/gce-pd")


def storage_class_gap(props: Mapping[str, Any]) -> str | None:
    """Why a StorageClass's volumes are not encrypted with a customer-managed key (with the fix), or None.

    Only the EBS and GCE PD provisioners are judged; other provisioners return None here (the
    class rule cannot tell), but a claim on such a class is still not proven encrypted.
    """
    provisioner = known(props.get("provisioner"), "provisioner")
    parameters = known(props.get("parameters"), "parameters")
    if not isinstance(parameters, Mapping):  # missing or wrong-shaped: no encryption parameters at all
        parameters = {}
    if provisioner in EBS_PROVISIONERS:
        if str(parameters.get("encrypted", "")).lower() != "true" or not is_set(parameters.get("kmsKeyId")):
            return (
                "volumes it provisions are not encrypted with a customer-managed key. "
                'Set parameters.encrypted: "true" and parameters.kmsKeyId to a KMS key ARN.'
            )
    elif provisioner in PD_PROVISIONERS and not is_set(parameters.get("disk-encryption-kms-key")):
        return (
            "persistent disks it provisions use Google-managed keys. Set "
            'parameters["disk-encryption-kms-key"] to a Cloud KMS crypto key.'
        )
    return None


def encrypts_with_cmk(storage_class: ResourceView) -> bool:
    """A StorageClass of the stack proven to encrypt with a customer-managed key (EBS or GCE PD)."""
    provisioner = known(storage_class.props.get("provisioner"), "provisioner")
    known_driver = provisioner in EBS_PROVISIONERS + PD_PROVISIONERS
    return known_driver and storage_class_gap(storage_class.props) is None


def claims(resource: ResourceView) -> Iterator[tuple[str, Any]]:
    """(path, storageClassName) of each claim an object makes: a PVC, or a StatefulSet's claim templates."""
    if resource.type == PVC:
        yield "spec.storageClassName", get(resource.props, "spec.storageClassName")
    elif resource.type == STATEFUL_SET:
        templates = items(get(resource.props, "spec.volumeClaimTemplates"), "spec.volumeClaimTemplates")
        for index, template in enumerate(templates):
            path = f"spec.volumeClaimTemplates[{index}].spec.storageClassName"
            yield path, get(template, "spec.storageClassName") if isinstance(template, Mapping) else None
